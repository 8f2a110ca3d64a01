"""JSON source files as Redshift's COPY reads them, value by value into typed columns.

The rules and where they come from (a rule without a page is the stand-in's choice where the
documentation is silent, listed as "not verified on Redshift" in docs/redshift-standin.md):
- A file is a sequence of JSON objects (or arrays), separated by whitespace; an object may span
  lines; one object is one row; at most 4 MB each. A rejected record is named by the line
  number of the last line of its object.
  https://docs.aws.amazon.com/redshift/latest/dg/copy-usage_notes-copy-from-json.html,
  https://docs.aws.amazon.com/redshift/latest/dg/SYS_LOAD_ERROR_DETAIL.html (line_number)
- 'auto' maps keys to column names, 'auto ignorecase' ignoring case; a JSONPaths file maps its
  i-th path to the i-th listed column; a key or path not found loads NULL (same page).
- Integer columns take digits with an optional sign; anything else is error 1207 ("Invalid
  digit"); beyond the type's range, 1222 (integer overflow). Float columns take a number;
  anything else is 1208. An empty string into a non-text column loads NULL ("Empty fields for
  other data types, such as INT, are always loaded with NULL": EMPTYASNULL,
  https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-conversion.html).
- VARCHAR(n) holds n bytes: longer is 1204 (no TRUNCATECOLUMNS); invalid UTF-8 is 1220 (no
  ACCEPTINVCHARS); NULL into NOT NULL is 1213.
  https://docs.aws.amazon.com/redshift/latest/dg/r_Load_Error_Reference.html (the codes)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MAX_OBJECT_BYTES = 4 * 1024 * 1024
_WHITESPACE = re.compile(r"[ \t\r\n]*")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER_RANGES = {"smallint": (16, "Short"), "integer": (32, "Integer"), "bigint": (64, "Long")}


class IntText(str):
    """A JSON integer, as written."""


class FloatText(str):
    """A JSON number with a fraction or an exponent, as written."""


class RecordError(ValueError):
    def __init__(self, code: int, message: str, column: "Column | None" = None,
                 value: str = "", position: int = 0) -> None:
        super().__init__(message)
        self.code, self.column, self.value, self.position = code, column, value, position


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # PostgreSQL's format_type: 'character varying(256)', 'bigint', ...
    not_null: bool

    @property
    def kind(self) -> str:
        return self.type.split("(")[0]

    @property
    def length(self) -> int | None:
        found = re.search(r"\((\d+)\)", self.type)
        return int(found.group(1)) if found else None


@dataclass(frozen=True)
class Record:
    line_number: int  # the last line of the object
    raw: str
    value: Any = None
    error: RecordError | None = None


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_int=IntText, parse_float=FloatText, parse_constant=_no_constant)


def records(data: bytes) -> Iterator[Record]:
    """Each JSON value of a file, or the error that stopped its reading (then the next line)."""
    text = data.decode("utf-8", errors="surrogateescape")
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark: not verified on Redshift
    position = _WHITESPACE.match(text, 0).end()
    while position < len(text):
        try:
            value, end = _DECODER.raw_decode(text, position)
        except (json.JSONDecodeError, ValueError, RecursionError) as exc:
            line_end = text.find("\n", position)
            line_end = len(text) if line_end < 0 else line_end
            raw = text[position:line_end]
            yield Record(text.count("\n", 0, position) + 1, raw,
                         error=RecordError(1216, f"Invalid JSON: {str(exc).split(':')[0]}"))
            position = _WHITESPACE.match(text, line_end).end()
            continue
        raw = text[position:end]
        last_line = text.count("\n", 0, end - 1) + 1 if end > position else 1
        if len(raw.encode("utf-8", errors="surrogateescape")) > MAX_OBJECT_BYTES:
            yield Record(last_line, raw[:1024], error=RecordError(1216, "JSON object exceeds 4 MB"))
        elif not isinstance(value, (dict, list)):
            yield Record(last_line, raw, error=RecordError(1216, "Invalid JSONPath format: "
                                                                 "Member is not an object or array"))
        else:
            yield Record(last_line, raw, value)
        position = _WHITESPACE.match(text, end).end()


def pick(value: Any, columns: tuple[Column, ...], mapping: str | tuple[tuple, ...]) -> list[Any]:
    """The JSON value of each column: by key ('auto', 'auto ignorecase') or by JSONPath."""
    if isinstance(mapping, tuple):
        return [_follow(value, path) for path in mapping]
    if not isinstance(value, dict):
        raise RecordError(1216, "Invalid JSONPath format: Member is not an object")
    if mapping == "auto":
        return [value.get(column.name) for column in columns]
    folded = {}
    for key, item in value.items():  # a later key of the same name wins (not verified)
        folded[key.lower()] = item
    return [folded.get(column.name.lower()) for column in columns]


def _follow(value: Any, path: tuple) -> Any:
    for step in path:
        if isinstance(step, int):
            value = value[step] if isinstance(value, list) and step < len(value) else None
        else:
            value = value.get(step) if isinstance(value, dict) else None
        if value is None:
            return None
    return value


def convert(value: Any, column: Column) -> str | int | float | None:
    """The column's value of one JSON value, or a RecordError as COPY would report it."""
    if value is None or (value == "" and column.kind not in ("character varying", "character")):
        if column.not_null:
            raise RecordError(1213, "Missing data for not-null field", column)
        return None
    if column.kind in ("character varying", "character"):
        return _text(value, column)
    if column.kind in _INTEGER_RANGES:
        return _integer(value, column)
    if column.kind in ("double precision", "real"):
        return _float(value, column)
    raise RecordError(1223, f"the Redshift stand-in does not load JSON into {column.type}", column)


def _text(value: Any, column: Column) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"  # not verified on Redshift
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)  # not verified
    else:
        text = str(value)
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise RecordError(1220, "String contains invalid or unsupported UTF8 codepoints",
                          column, text.encode("utf-8", "replace").decode()) from None
    if "\x00" in text:  # PostgreSQL cannot hold it; COPY would load it (NULL AS page)
        raise RecordError(1220, "the text holds a NUL (U+0000), which PostgreSQL cannot store",
                          column, text.replace("\x00", "\\u0000"))
    if column.length is not None and size > column.length:
        raise RecordError(1204, "String length exceeds DDL length", column, text)
    return text


def _integer(value: Any, column: Column) -> int:
    bits, name = _INTEGER_RANGES[column.kind]
    text = value if isinstance(value, str) else json.dumps(value)
    if isinstance(value, bool) or not _INTEGER.fullmatch(text):
        bad = next((i for i, c in enumerate(text) if not (c.isdigit() or (i == 0 and c in "+-"))), 0)
        raise RecordError(1207, f"Invalid digit, Value '{text[bad:bad + 1]}', Pos {bad}, "
                                f"Type: {name}", column, text, bad)
    number = int(text)
    if not -2 ** (bits - 1) <= number < 2 ** (bits - 1):
        raise RecordError(1222, f"Overflow, Value '{text}', Type: {name}", column, text)
    return number


def _float(value: Any, column: Column) -> float:
    text = value if isinstance(value, str) else json.dumps(value)
    if isinstance(value, bool) or not _NUMBER.fullmatch(text):
        raise RecordError(1208, f"Invalid floating-point number, Value '{text[:40]}'", column, text)
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise RecordError(1208, f"Overflow for floating-point number, Value '{text[:40]}'",
                          column, text)
    return number
