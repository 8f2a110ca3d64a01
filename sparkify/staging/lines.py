"""Source lines to staging rows: one line at a time (the reference), or a chunk at a time."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import orjson

from sparkify.staging.mappers import RowMapper, _TypedDecoder
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
    """COPY text lines for one source object; bad records go to `on_error` with their line.

    The reference, one record at a time; `copy_chunk` gives the same rows and errors faster.
    """
    lines = body.removeprefix(BOM).split(b"\n")
    index = 0
    while index < len(lines):
        rows, errors, used = records_at(lines, index, source, 1 + index, mapper.copy_line)
        for error in errors:
            on_error(error)
        yield from rows
        index += used


def records_at(lines: list[bytes], index: int, source: str, number: int,
               copy_line: Callable[[dict], str]) -> tuple[list[str], list[LoadError], int]:
    """The rows and errors of the record(s) that start at `lines[index]` (line `number`), and
    how many lines they take. As Redshift's COPY reads JSON, a line may hold several objects
    and an object may span lines (up to MAX_OBJECT_BYTES, within the lines given)."""
    line = lines[index].rstrip(b"\r")
    if not line.strip():
        return [], [], 1
    try:
        return [_row(orjson.loads(line), copy_line)], [], 1
    except BadRecord as exc:
        return [], [LoadError(source, number, str(exc), _raw(line))], 1
    except orjson.JSONDecodeError as exc:
        first_error = LoadError(source, number, _parse_reason(exc), _raw(line))
    values = _values_on_one_line(line)
    if values is None:
        values, used = _object_spanning_lines(lines, index)
    else:
        used = 1
    if values is None:
        return [], [first_error], 1
    rows, errors = [], []
    raw = _raw(line)  # one string for all the line's errors: a line may hold many values
    for value in values:
        try:
            rows.append(_row(value, copy_line))
        except BadRecord as exc:
            errors.append(LoadError(source, number, str(exc), raw))
    return rows, errors, used


def _row(record, copy_line: Callable[[dict], str]) -> str:
    if not isinstance(record, dict):
        raise BadRecord(f"not a JSON object (a JSON {type(record).__name__})")
    return copy_line(record)


MAX_OBJECT_BYTES = 4 << 20  # Redshift's limit for one JSON object
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
    line (a pretty-printed object), else (None, 1). Tried only at lines that could close it."""
    size = len(lines[index])
    for end in range(index + 1, len(lines)):
        size += len(lines[end]) + 1
        if size > MAX_OBJECT_BYTES:
            break
        if lines[end].rstrip().endswith((b"}", b"]")):
            try:
                return [orjson.loads(b"\n".join(lines[index:end + 1]))], end + 1 - index
            except orjson.JSONDecodeError:
                continue
    return None, 1


def _raw(line: bytes) -> str:
    """The start of a bad record as text any engine can store: NUL written as \\u0000."""
    text = line[:RAW_TEXT_KEPT * 4].decode("utf-8", errors="replace")[:RAW_TEXT_KEPT]
    return text.replace("\x00", "\\u0000")


# ---- chunks: many lines at a time --------------------------------------------------------

BOM = b"\xef\xbb\xbf"
# In valid JSON a string can only hold a backslash, tab, newline, CR or NUL through one of
# these escapes (orjson rejects raw control characters), so a chunk without any of them can
# skip the per-value escape test. Conservative: `\u000` also covers harmless \u0001...
# One regular expression scans a chunk about ten times faster than seven `in` tests.
_JSON_ESCAPES_TO_CHECK = re.compile(rb"\\(?:[\\tnr]|u00(?:0|5[cC]))")
# orjson refuses an integer beyond a double's range (309 digits and more); msgspec decodes it
# as a Python int where a value is skipped (a key no column maps), so such a chunk is read by
# the reference alone. A run of digits inside a string sends it there too, harmlessly.
_INTEGER_BEYOND_DOUBLE = re.compile(rb"[0-9]{309}")


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


def line_chunks(body: bytes, size: int) -> Iterator[bytes]:
    """Pieces of `body`, cut after a newline every ~`size` bytes, a leading byte-order mark
    dropped (as `copy_lines` does). A piece's line numbers start where the previous piece's
    `CopyChunk.line_breaks` end: counted by the parse, not here, where it would be a second
    pass over every byte in the process that feeds COPY."""
    start = len(BOM) if body.startswith(BOM) else 0
    while start < len(body):
        end = body.find(b"\n", start + max(size, 1) - 1)
        end = len(body) if end < 0 else end + 1
        yield body[start:end]
        start = end


def plain_chunk(chunk: bytes, mapper: RowMapper) -> CopyChunk | None:
    """The chunk parsed by the compiled parser when every line is plain, else None."""
    native = mapper.typed.native if mapper.typed is not None else None
    parsed = native.parse(chunk) if native is not None else None
    return CopyChunk(*parsed) if parsed is not None else None


def copy_chunk(chunk: bytes, source: str, mapper: RowMapper) -> CopyChunk:
    """The rows and errors of the lines of `chunk`, exactly as `copy_lines` gives them, its
    lines numbered from 1 (`CopyChunk.shifted` puts them where the chunk is in its object)."""
    # most chunks: every line plain, parsed in C
    return plain_chunk(chunk, mapper) or python_chunk(chunk, source, mapper)


def python_chunk(chunk: bytes, source: str, mapper: RowMapper) -> CopyChunk:
    """`copy_chunk` by the Python paths alone: for a chunk `plain_chunk` gave back."""
    typed = mapper.typed if _INTEGER_BEYOND_DOUBLE.search(chunk) is None else None
    clean = _JSON_ESCAPES_TO_CHECK.search(chunk) is None
    lines = chunk.split(b"\n")
    breaks = len(lines) - 1
    if typed is not None:
        if not lines[-1]:
            lines.pop()
        try:  # most chunks: every line one record msgspec takes; else line by line below
            data = typed.copy_text(list(map(typed.decode, lines)), clean)
        except typed.refused:
            data = None
        if data is not None:
            return CopyChunk(data, len(lines), breaks)
    rows, errors, unmapped = _lines_one_by_one(lines, source, mapper, typed, clean)
    return CopyChunk("".join(rows).encode("utf-8"), len(rows), breaks, tuple(errors),
                     tuple(unmapped.items()))


def _lines_one_by_one(lines: list[bytes], source: str, mapper: RowMapper,
                      typed: _TypedDecoder | None, clean: bool,
                      ) -> tuple[list[str], list[LoadError], dict[str, int]]:
    """Each line decoded on its own; a line the fast decoder refuses is redone by the
    reference code, and a key no column maps is noted and skipped from then on."""
    if typed is not None:
        decode, refused = typed.decode, typed.refused
        copy_line = typed.copy_line_unescaped if clean else typed.copy_line
    else:
        decode, refused = orjson.loads, (orjson.JSONDecodeError, BadRecord)
        copy_line = mapper.copy_line_unescaped if clean else mapper.copy_line
    rows: list[str] = []
    errors: list[LoadError] = []
    append = rows.append
    unmapped: dict[str, int] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        try:  # the common case first; anything unusual is redone by the reference code
            record = decode(line)
            if typed is not None or record.__class__ is dict:
                append(copy_line(record))
                index += 1
                continue
        except refused as exc:
            key = typed.unmapped_key(exc) if typed is not None else None
            if key is not None and key not in unmapped:  # seen now; decoded again, skipping it
                unmapped[key] = 1 + index
                decode = typed.decoder_with(frozenset(unmapped))
                continue
        found, bad, used = records_at(lines, index, source, 1 + index, mapper.copy_line)
        rows += found
        errors += bad
        index += used
    return rows, errors, unmapped
