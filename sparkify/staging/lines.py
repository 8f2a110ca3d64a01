"""Source lines to staging rows: one line at a time (the reference), or a chunk at a time."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import orjson

from sparkify.staging.mappers import RowMapper
from sparkify.staging.values import BadRecord

RAW_TEXT_KEPT = 256  # characters of a malformed line kept in load_errors

@dataclass(frozen=True)
class LoadError:
    source_key: str
    line_number: int
    reason: str
    raw_text: str

    def describe(self) -> str:
        return f"{self.source_key} line {self.line_number}: {self.reason}"


def _parse_reason(exc: Exception) -> str:
    return f"not valid JSON ({str(exc).splitlines()[0]})"


def copy_lines(body: bytes, source: str, mapper: RowMapper,
               on_error: Callable[[LoadError], None]) -> Iterator[str]:
    """COPY text lines for one source object; bad lines go to `on_error` with their number.

    The reference, one line at a time; `copy_chunk` gives the same rows and errors faster.
    """
    body = body.removeprefix(BOM)
    for number, line in enumerate(body.split(b"\n"), start=1):
        row = _one_line(line, source, number, mapper.copy_line)
        if isinstance(row, LoadError):
            on_error(row)
        elif row is not None:
            yield row


def _one_line(line: bytes, source: str, number: int,
              copy_line: Callable[[dict], str]) -> str | LoadError | None:
    """The row of one line, its LoadError, or None for a blank line."""
    line = line.rstrip(b"\r")
    if not line.strip():
        return None
    try:
        record = orjson.loads(line)
        if not isinstance(record, dict):
            raise BadRecord(f"not a JSON object (a JSON {type(record).__name__})")
        return copy_line(record)
    except orjson.JSONDecodeError as exc:
        return LoadError(source, number, _parse_reason(exc), _raw(line))
    except BadRecord as exc:
        return LoadError(source, number, str(exc), _raw(line))


def _raw(line: bytes) -> str:
    return line[:RAW_TEXT_KEPT * 4].decode("utf-8", errors="replace")[:RAW_TEXT_KEPT]


# ---- chunks: many lines at a time --------------------------------------------------------

BOM = b"\xef\xbb\xbf"
# In valid JSON a string can only hold a backslash, tab, newline, CR or NUL through one of
# these escapes (orjson rejects raw control characters), so a chunk without any of them can
# skip the per-value escape test. Conservative: `\u000` also covers harmless \u0001...
# One regular expression scans a chunk about ten times faster than seven `in` tests.
_JSON_ESCAPES_TO_CHECK = re.compile(rb"\\(?:[\\tnr]|u00(?:0|5[cC]))")


@dataclass(frozen=True)
class CopyChunk:
    """The COPY text of a run of source lines, with the lines that could not become rows."""

    data: bytes
    rows: int
    errors: tuple[LoadError, ...] = ()


def line_chunks(body: bytes, size: int) -> Iterator[tuple[int, bytes]]:
    """(number of the first line, bytes) pieces of `body`, cut after a newline every ~`size`.

    Line numbers are those of `copy_lines`: a leading byte-order mark is dropped.
    """
    start = len(BOM) if body.startswith(BOM) else 0
    first_line = 1
    while start < len(body):
        end = body.find(b"\n", start + max(size, 1) - 1)
        end = len(body) if end < 0 else end + 1
        piece = body[start:end]
        yield first_line, piece
        first_line += piece.count(b"\n")
        start = end


def copy_chunk(chunk: bytes, source: str, first_line: int, mapper: RowMapper) -> CopyChunk:
    """The rows and errors of the lines of `chunk`, exactly as `copy_lines` gives them."""
    clean = _JSON_ESCAPES_TO_CHECK.search(chunk) is None
    typed = mapper.typed
    if typed is not None:
        decode, refused = typed.decode, typed.refused
        copy_line = typed.copy_line_unescaped if clean else typed.copy_line
    else:
        decode, refused = orjson.loads, (orjson.JSONDecodeError, BadRecord)
        copy_line = mapper.copy_line_unescaped if clean else mapper.copy_line
    rows: list[str] = []
    errors: list[LoadError] = []
    append = rows.append
    for offset, line in enumerate(chunk.split(b"\n")):
        try:  # the common case first; anything unusual is redone by the reference code
            record = decode(line)
            if typed is not None or record.__class__ is dict:
                append(copy_line(record))
                continue
        except refused:
            pass
        row = _one_line(line, source, first_line + offset, mapper.copy_line)
        if isinstance(row, LoadError):
            errors.append(row)
        elif row is not None:
            append(row)
    return CopyChunk("".join(rows).encode("utf-8"), len(rows), tuple(errors))

