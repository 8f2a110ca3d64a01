"""Which listed source objects a load reads, and why it leaves the others (always said)."""

from __future__ import annotations

from sparkify.staging.compression import LOADABLE_SUFFIXES
from sparkify.store import SourceObject


def not_loaded_reason(obj: SourceObject) -> str | None:
    """Why `obj` is not loaded, or None when it is."""
    if not obj.key.endswith(LOADABLE_SUFFIXES):
        return f"not a {', '.join(LOADABLE_SUFFIXES)} object"
    if obj.size == 0:
        return "empty (0 bytes)"
    return None


def split_loadable(objects: list[SourceObject]) -> tuple[list[SourceObject],
                                                         list[tuple[SourceObject, str]]]:
    """(the objects to load, [(an object left out, why)]), each in key order."""
    loaded, left_out = [], []
    for obj in objects:
        reason = not_loaded_reason(obj)
        if reason is None:
            loaded.append(obj)
        else:
            left_out.append((obj, reason))
    return loaded, left_out
