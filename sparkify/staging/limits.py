"""The size and depth a source record may have: beyond them it is a malformed record.

Size: Redshift's COPY refuses a JSON object or array of more than 4 MB ("The maximum size of
a single JSON object or array, including braces or brackets, is 4 MB", JSON data file,
https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-format.html#copy-json-data-file);
there the whole COPY fails. Here a line (or an object spanning lines) longer than that is one
malformed record, named and counted against --max-errors, before any parser reads it.

Depth: AWS documents no nesting limit for COPY's JSON. Parsers have one (orjson 1024 levels,
Python's json module its recursion limit), and a parser that runs out of stack ends the run
without naming the line. So the depth is bounded here, far above anything a log line holds,
and checked before any parser reads the line; the compiled parser takes only flat lines.
"""

from __future__ import annotations

import re

MAX_RECORD_BYTES = 4 << 20
MAX_DEPTH = 64  # nested arrays and objects, the record itself included

# a string (to its end, closed or not, so each byte is read once) or a bracket
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.S)


def too_large(text: bytes) -> str | None:
    """The reason a record of this text is malformed for its size, else None."""
    if len(text) > MAX_RECORD_BYTES:
        return (f"{len(text):,} bytes, more than the {MAX_RECORD_BYTES:,} (4 MB) a JSON record "
                "may have (Redshift's limit)")
    return None


def too_deep(text: bytes) -> str | None:
    """The reason a record of this text is malformed for its depth, else None. A text with
    no more opening brackets than the limit is not scanned (most lines)."""
    if text.count(b"[") + text.count(b"{") <= MAX_DEPTH:
        return None
    depth = 0
    for token in _TOKEN.finditer(text):
        if token[0] in (b"[", b"{"):
            depth += 1
            if depth > MAX_DEPTH:
                return f"nested deeper than {MAX_DEPTH} levels of arrays and objects"
        elif token[0] in (b"]", b"}"):
            depth -= 1
    return None
