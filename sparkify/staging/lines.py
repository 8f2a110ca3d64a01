"""Source lines to staging rows: the reference, one record at a time, and chunks of lines,
parsed by the compiled parser where it can (sparkify/staging/native/) and by the reference
for every line it gives back, with exactly the reference's rows, errors and messages."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import orjson

from sparkify.staging.limits import MAX_RECORD_BYTES, too_deep, too_large
from sparkify.staging.mappers import RowMapper
from sparkify.staging.values import BadRecord

RAW_TEXT_KEPT = 256  # characters of a malformed line kept in load_errors
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class LoadError:
    source_key: str
    line_number: int
    reason: str
    raw_text: str

    def describe(self) -> str:
        return f"{self.source_key} line {self.line_number}: {self.reason}"


@dataclass(frozen=True)
class CopyChunk:
    """The COPY text of a run of source lines, with the lines that could not become rows and
    the top-level keys no column maps (each with the first line it was seen on)."""

    data: bytes
    rows: int
    line_breaks: int  # the next chunk starts this many lines after this one
    errors: tuple[LoadError, ...] = ()
    unmapped_keys: tuple[tuple[str, int], ...] = ()

    def shifted(self, lines: int) -> CopyChunk:
        """The same chunk with its line numbers `lines` further down the object (for a chunk
        parsed as if it started at line 1, before the lines before it were counted)."""
        if not lines or not (self.errors or self.unmapped_keys):
            return self
        return replace(self, errors=tuple(
            replace(error, line_number=error.line_number + lines) for error in self.errors),
            unmapped_keys=tuple((key, line + lines) for key, line in self.unmapped_keys))


@dataclass
class _Records:
    """What the reference made of the lines it read: rows, errors and unmapped keys."""

    rows: list[str] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    unmapped: dict[str, int] = field(default_factory=dict)  # key -> first line number
    _raw_of: tuple[bytes, str] = (b"", "")  # the last line's raw text: a line may hold many values

    def add(self, record, mapper: RowMapper, source: str, number: int, line: bytes) -> None:
        """One parsed value of line `number`: a row, or an error when it cannot be one."""
        try:
            if not isinstance(record, dict):
                raise BadRecord(f"not a JSON object (a JSON {type(record).__name__})")
            for key in mapper.unmapped_keys(record):
                self.unmapped.setdefault(key, number)
            self.rows.append(mapper.copy_line(record))
        except BadRecord as exc:
            if self._raw_of[0] is not line:
                self._raw_of = (line, _raw(line))
            self.errors.append(LoadError(source, number, str(exc), self._raw_of[1]))


# ---- the reference -------------------------------------------------------------------------

def reference_chunk(chunk: bytes, source: str, mapper: RowMapper) -> CopyChunk:
    """The rows, errors and unmapped keys of the lines of `chunk`, one record at a time, its
    lines numbered from 1 (`CopyChunk.shifted` puts them where the chunk is in its object)."""
    lines = chunk.split(b"\n")
    found = _records_of(lines, source, mapper)
    return CopyChunk("".join(found.rows).encode("utf-8"), len(found.rows), len(lines) - 1,
                     tuple(found.errors), tuple(found.unmapped.items()))


def copy_lines(body: bytes, source: str, mapper: RowMapper,
               on_error: Callable[[LoadError], None]) -> Iterator[str]:
    """COPY text lines of one whole source object, by the reference; bad records go to
    `on_error` with their line."""
    found = _records_of(body.removeprefix(BOM).split(b"\n"), source, mapper)
    for error in found.errors:
        on_error(error)
    yield from found.rows


def _records_of(lines: list[bytes], source: str, mapper: RowMapper) -> _Records:
    found = _Records()
    index = 0
    while index < len(lines):
        index += records_at(lines, index, source, mapper, found)
    return found


def records_at(lines: list[bytes], index: int, source: str, mapper: RowMapper,
               found: _Records) -> int:
    """Add to `found` the rows and errors of the record(s) that start at `lines[index]` (line
    `index + 1`), and return how many lines they take. As Redshift's COPY reads JSON, a line may
    hold several objects and an object may span lines (within the lines given). A record
    larger or deeper than sparkify/staging/limits.py allows is malformed, before any parse."""
    line = lines[index].rstrip(b"\r")
    if not line.strip():
        return 1
    number = 1 + index
    limit = too_large(line) or too_deep(line)
    if limit is not None:
        found.errors.append(LoadError(source, number, limit, _raw(line)))
        return 1
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        first_error = LoadError(source, number, f"not valid JSON ({str(exc).splitlines()[0]})",
                                _raw(line))
    else:
        found.add(record, mapper, source, number, line)
        return 1
    values, used = _values_on_one_line(line), 1
    if values is None:
        values, used = _object_spanning_lines(lines, index)
    if values is None:
        found.errors.append(first_error)
        return 1
    for value in values:
        found.add(value, mapper, source, number, line)
    return used


_DECODER = json.JSONDecoder()


def _values_on_one_line(line: bytes) -> list | None:
    """The values of a line holding several JSON values (`{...} {...}`), else None. Each is
    checked again by orjson, which is stricter than the json module (no NaN, valid UTF-8)."""
    try:
        text = line.decode("utf-8")
        spans, position = [], 0
        while position < len(text):
            _, end = _DECODER.raw_decode(text, position)
            spans.append((position, end))
            position = len(text) - len(text[end:].lstrip())
        return [orjson.loads(text[start:end]) for start, end in spans] if len(spans) > 1 else None
    except (ValueError, orjson.JSONDecodeError):
        return None


def _object_spanning_lines(lines: list[bytes], index: int) -> tuple[list | None, int]:
    """([value], lines used) when `lines[index]` starts one JSON value that ends on a later
    line (a pretty-printed object, within the size and depth limits), else (None, 1). Tried
    only at lines that could close it."""
    size = len(lines[index])
    for end in range(index + 1, len(lines)):
        size += len(lines[end]) + 1
        if size > MAX_RECORD_BYTES:
            break
        if lines[end].rstrip().endswith((b"}", b"]")):
            text = b"\n".join(lines[index:end + 1])
            if too_deep(text) is not None:
                break
            try:
                return [orjson.loads(text)], end + 1 - index
            except orjson.JSONDecodeError:
                continue
    return None, 1


def _raw(line: bytes) -> str:
    """The start of a bad record as text any engine can store: NUL written as \\u0000."""
    text = line[:RAW_TEXT_KEPT * 4].decode("utf-8", errors="replace")[:RAW_TEXT_KEPT]
    return text.replace("\x00", "\\u0000")


# ---- chunks: the compiled parser, and the reference for the lines it gives back -------------

def line_chunks(body: bytes, size: int) -> Iterator[bytes]:
    """Pieces of `body`, cut between two objects every ~`size` bytes, a leading byte-order
    mark dropped (as `copy_lines` does), so each piece parses as the whole body does. A piece's
    line numbers start where the previous piece's `CopyChunk.line_breaks` end: counted by the
    parse, not here, where it would be a second pass over every byte in the process that feeds
    COPY."""
    start = len(BOM) if body.startswith(BOM) else 0
    while start < len(body):
        end = _cut_after(body, start + max(size, 1) - 1)
        yield body[start:end]
        start = end


# The newline after a line that ends an object, before one that starts an object: no JSON value
# spans it (`}` then `{` is never valid inside one), so a pretty-printed object is never cut.
_BETWEEN_OBJECTS = re.compile(rb"\}[ \t\r]*\n(?=[ \t\r\n]*\{)")


def _cut_after(body: bytes, position: int) -> int:
    """Where a piece that reaches `position` ends: after the first newline between two objects
    from there; the whole rest when the body ends within a record's size limit without one;
    else (4 MB of anything but consecutive objects) after the first newline."""
    window = position + MAX_RECORD_BYTES
    between = _BETWEEN_OBJECTS.search(body, position, window)
    if between is not None:
        return between.end()
    if window >= len(body):
        return len(body)
    end = body.find(b"\n", position)
    return len(body) if end < 0 else end + 1


def copy_chunk(chunk: bytes, source: str, mapper: RowMapper) -> CopyChunk:
    """The rows, errors and unmapped keys of the lines of `chunk`, exactly as `reference_chunk`
    gives them: the compiled parser writes the plain lines, the reference parses the others and
    its rows are put in where those lines were."""
    if mapper.native is None:
        return reference_chunk(chunk, source, mapper)
    data, rows, breaks, given_back = mapper.native.parse(chunk)
    if not given_back:
        return CopyChunk(data, rows, breaks)
    lines = chunk.split(b"\n")
    pieces, taken = [], 0
    found = _Records()
    for index, offset in given_back:
        before = len(found.rows)
        if records_at(lines, index, source, mapper, found) > 1:  # an object spanning lines:
            return reference_chunk(chunk, source, mapper)  # its lines are not the parser's
        pieces += [data[taken:offset], "".join(found.rows[before:]).encode("utf-8")]
        taken = offset
    pieces.append(data[taken:])
    return CopyChunk(b"".join(pieces), rows + len(found.rows), breaks, tuple(found.errors),
                     tuple(found.unmapped.items()))
