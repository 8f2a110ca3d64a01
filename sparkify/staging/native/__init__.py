"""The compiled part of staging: the C sources beside this file, built by setup.py into
`sparkify.staging._native` where there is a C compiler, and what it needs to know of a table.

`NativeParser.parse` turns a chunk of JSON lines into COPY text, each line that is one plain
object of the mapped keys whose values pass their rules (the rules are handed over here), and
gives back the index of every other line, for the reference parser (sparkify/staging/lines.py),
which is the one definition of a row and of an error. Without the module, or with
SPARKIFY_NATIVE=off in the environment, the reference parses every line, with the same bytes
(tests/test_native_rows.py and tests/test_bench_smoke.py compare them).
"""

from __future__ import annotations

import os
from typing import Any

from sparkify.staging.rules import number_bounds
from sparkify.staging.schema import BIGINT, FLOAT, INT, TEXT

DISABLE_ENV = "SPARKIFY_NATIVE"  # "off": the reference parses every line, built or not

try:
    from sparkify.staging import _native as BUILT
except ImportError:
    BUILT = None
NATIVE = None if os.environ.get(DISABLE_ENV, "").lower() == "off" else BUILT

_KINDS = {TEXT: 0, INT: 1, BIGINT: 1, FLOAT: 2}  # as native.h numbers them


class NativeParser:
    """One table's columns, as the compiled parser takes them."""

    def __init__(self, module: Any, plan: tuple, max_line_bytes: int) -> None:
        self._module, self._plan, self._max_line_bytes = module, plan, max_line_bytes

    @classmethod
    def for_fields(cls, fields: tuple, max_line_bytes: int, module: Any = NATIVE) -> NativeParser | None:
        """For fields read each from a top-level key of its own; else None (the reference alone)."""
        plan = _parse_plan(fields) if module is not None else None
        return cls(module, plan, max_line_bytes) if plan is not None else None

    def parse(self, chunk: bytes) -> tuple[bytes, int, int, tuple[tuple[int, int], ...]]:
        """(COPY text, rows, line breaks, given back): the lines given back are (index in the
        chunk, the offset in the COPY text where their rows belong)."""
        return self._module.parse_lines(chunk, self._plan, self._max_line_bytes)


def _parse_plan(fields: tuple) -> tuple | None:
    """Per column: (key, kind, nullable, allowed texts, max bytes, low, high), or None when a
    column is not a top-level key, a key feeds two columns, or a rule is of a kind parse_lines
    does not check (a text range, a float's bounds, an integer bounded by a fraction)."""
    if not all(isinstance(f.source, str) and f.kind in _KINDS for f in fields) \
            or len({f.source for f in fields}) != len(fields):
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
