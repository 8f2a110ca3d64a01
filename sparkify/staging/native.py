"""The compiled parts of staging (sparkify/staging/copytext/, built by setup.py where there is
a C compiler), and what they need to know of a table's columns.

Two functions, both giving back None for anything the Python code should do instead:
- `parse_lines`: a chunk of JSON lines straight to COPY text, when every line is one plain
  object of the mapped keys whose values pass their rules (the rules are handed over here);
- `format_rows`: the COPY text of records msgspec has decoded and checked.
Without the module, the typed line function and the reference path do it all, with the same
bytes (tests/test_native_rows.py compares them).
"""

from __future__ import annotations

from typing import Any

from sparkify.staging.rules import number_bounds
from sparkify.staging.schema import FLOAT, INT, TEXT, BIGINT

try:
    from sparkify.staging import _copyrows as NATIVE
except ImportError:
    NATIVE = None

_KINDS = {TEXT: 0, INT: 1, BIGINT: 1, FLOAT: 2}  # as copytext.h numbers them


class NativeRows:
    """One mapper's columns, as the compiled functions take them."""

    def __init__(self, module: Any, columns: tuple, plan: tuple | None) -> None:
        self._module, self._columns, self._plan = module, columns, plan

    @classmethod
    def for_fields(cls, fields: tuple, attribute: dict[str, str], checked: set[str],
                   module: Any = NATIVE) -> NativeRows | None:
        """For fields read from top-level keys (`attribute`: each key's struct attribute) whose
        every rule msgspec checks (`checked` keys), else None."""
        if module is None or any(f.kind not in _KINDS or (f.rule is not None and f.source not in checked)
                                 for f in fields):
            return None
        columns = tuple((attribute[f.source], _KINDS[f.kind], f.rule is None or not f.rule.not_null)
                        for f in fields)
        return cls(module, columns, _parse_plan(fields))

    def format(self, records: list) -> bytes | None:
        return self._module.format_rows(records, self._columns)

    def parse(self, chunk: bytes) -> tuple[bytes, int, int] | None:
        """(COPY text, rows, line breaks) of a chunk whose every line is plain, else None."""
        return self._module.parse_lines(chunk, self._plan) if self._plan is not None else None


def _parse_plan(fields: tuple) -> tuple | None:
    """Per column: (key, kind, nullable, allowed texts, max bytes, low, high), or None when a
    key feeds two columns or a rule is of a kind parse_lines does not check (a text range, a
    float's bounds, an integer bounded by a fraction)."""
    if len({f.source for f in fields}) != len(fields):
        return None
    plan = []
    for field in fields:
        rule = field.rule
        low = high = 0
        values, max_bytes = None, -1
        if field.kind == TEXT:
            if rule is not None and rule.between is not None:
                return None
            if rule is not None and rule.values is not None:
                values = tuple(sorted(v.encode() for v in rule.values))
            if rule is not None and rule.max_bytes is not None:
                max_bytes = rule.max_bytes
        elif field.kind == FLOAT:
            if rule is not None and (rule.between is not None or rule.values is not None):
                return None
        else:
            if rule is not None and rule.values is not None:
                return None
            bounds = number_bounds(field.kind, rule.between if rule is not None else None)
            if bounds is None:
                return None
            low, high = bounds["ge"], bounds["le"]
        plan.append((field.source.encode(), _KINDS[field.kind], rule is None or not rule.not_null,
                     values, max_bytes, low, high))
    return tuple(plan)
