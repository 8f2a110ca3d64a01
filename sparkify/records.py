"""Source JSON lines to staging rows, as Redshift's COPY ... JSON would map them.

Events map through the JSONPaths file (the i-th path fills the i-th column of
staging_events); songs map by key name, case-insensitively (`JSON 'auto ignorecase'`).
Each row is rendered straight into PostgreSQL's COPY text format.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
import orjson

from sparkify.errors import SourceError

TEXT, INT, BIGINT, FLOAT = "text", "int", "bigint", "float"
RAW_TEXT_KEPT = 256  # characters of a malformed line kept in load_errors


@dataclass(frozen=True)
class StagingTable:
    name: str
    columns: tuple[tuple[str, str], ...]  # (column, kind)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)


STAGING_EVENTS = StagingTable("staging_events", (
    ("artist", TEXT), ("auth", TEXT), ("first_name", TEXT), ("gender", TEXT),
    ("item_in_session", INT), ("last_name", TEXT), ("length", FLOAT), ("level", TEXT),
    ("location", TEXT), ("method", TEXT), ("page", TEXT), ("registration", FLOAT),
    ("session_id", INT), ("song", TEXT), ("status", INT), ("ts", BIGINT),
    ("user_agent", TEXT), ("user_id", TEXT),
))
STAGING_SONGS = StagingTable("staging_songs", (
    ("num_songs", INT), ("artist_id", TEXT), ("artist_latitude", FLOAT),
    ("artist_longitude", FLOAT), ("artist_location", TEXT), ("artist_name", TEXT),
    ("song_id", TEXT), ("title", TEXT), ("duration", FLOAT), ("year", INT),
))


# The JSONPaths used when a --data directory has no log_json_path.json of its own.
DEFAULT_JSONPATHS = orjson.dumps({"jsonpaths": [f"$['{key}']" for key in (
    "artist", "auth", "firstName", "gender", "itemInSession", "lastName", "length", "level",
    "location", "method", "page", "registration", "sessionId", "song", "status", "ts",
    "userAgent", "userId",
)]})


class BadRecord(ValueError):
    """One source line that cannot become a staging row; the message is the reason."""


# ---- JSONPaths ---------------------------------------------------------------------------

_PATH_STEP = re.compile(
    r"""\[\s*'((?:[^'\\]|\\.)*)'\s*\]"""  # ['key']
    r"""|\[\s*"((?:[^"\\]|\\.)*)"\s*\]"""  # ["key"]
    r"""|\[\s*(\d+)\s*\]"""  # [0]
    r"""|\.([A-Za-z_][\w]*)"""  # .key
)


def parse_jsonpath(path: str) -> tuple[str | int, ...]:
    """`$['a']['b'][0]` or `$.a.b[0]` as a tuple of keys and indexes."""
    if not path.startswith("$"):
        raise ValueError(path)
    steps: list[str | int] = []
    position = 1
    while position < len(path):
        match = _PATH_STEP.match(path, position)
        if not match:
            raise ValueError(path)
        single, double, index, dotted = match.groups()
        if index is not None:
            steps.append(int(index))
        else:
            steps.append(next(s for s in (single, double, dotted) if s is not None))
        position = match.end()
    if not steps:
        raise ValueError(path)
    return tuple(steps)


def load_jsonpaths(document: bytes, where: str, table: StagingTable) -> tuple[tuple, ...]:
    """The parsed paths of a JSONPaths file, one per column of `table`."""
    try:
        paths = orjson.loads(document)["jsonpaths"]
        parsed = tuple(parse_jsonpath(p) for p in paths)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise SourceError(f"{where}: not a JSONPaths file ({exc.__class__.__name__}: {exc})") from None
    if len(parsed) != len(table.columns):
        raise SourceError(
            f"{where}: {len(parsed)} JSONPaths for the {len(table.columns)} columns of {table.name}"
        )
    return parsed


def _extract(document: Any, steps: tuple) -> Any:
    for step in steps:
        if isinstance(step, int):
            if not isinstance(document, list) or step >= len(document):
                return None
            document = document[step]
        elif isinstance(document, dict):
            document = document.get(step)
        else:
            return None
    return document


# ---- values to COPY text -----------------------------------------------------------------

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": ""})
NULL = "\\N"


def _text(value: Any, key: str) -> str:
    if value is None:
        return NULL
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES) if _needs_escape(value) else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return orjson.dumps(value).decode().translate(_COPY_ESCAPES)


def _needs_escape(value: str) -> bool:
    return "\\" in value or "\t" in value or "\n" in value or "\r" in value or "\x00" in value


def _integer(value: Any, key: str) -> str:
    if value is None or value == "":
        return NULL
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return str(int(value))
    raise BadRecord(f"key '{key}': expected an integer, got {_show(value)}")


def _float(value: Any, key: str) -> str:
    if value is None or value == "":
        return NULL
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(float(value))
    if isinstance(value, str):
        try:
            return repr(float(value))
        except ValueError:
            pass
    raise BadRecord(f"key '{key}': expected a number, got {_show(value)}")


def _show(value: Any) -> str:
    text = orjson.dumps(value).decode()
    return text if len(text) <= 40 else text[:37] + "..."


_INT_RANGE = {INT: 2**31, BIGINT: 2**63}


def _bounded(kind: str) -> Callable[[Any, str], str]:
    limit = _INT_RANGE[kind]

    def convert(value: Any, key: str) -> str:
        out = _integer(value, key)
        if out != NULL and not -limit <= int(out) < limit:
            raise BadRecord(f"key '{key}': {out} is out of range for {kind}")
        return out

    return convert


CONVERTERS: dict[str, Callable[[Any, str], str]] = {
    TEXT: _text, INT: _bounded(INT), BIGINT: _bounded(BIGINT), FLOAT: _float,
}


# ---- record mappers ----------------------------------------------------------------------

@dataclass(frozen=True)
class Field:
    """Where one column's value comes from: a top-level key, or the steps of a JSONPath."""

    source: str | tuple
    kind: str
    label: str  # names the value in error messages


class RowMapper:
    """Maps one parsed JSON object to one COPY text line for a staging table.

    The line is built by a function compiled for the table's fields (one f-string, a type test
    per value), because a generic loop over converters costs three times as much per row. Two
    versions: `copy_line` escapes strings for COPY; `copy_line_unescaped` trusts them, and is
    used only on chunks whose raw JSON holds no escape that could decode to a special character.
    Pickles as its fields, so worker processes can rebuild it.
    """

    def __init__(self, table: StagingTable, fields: tuple[Field, ...]) -> None:
        if len(fields) != len(table.columns):
            raise ValueError(f"{len(fields)} fields for the {len(table.columns)} columns of {table.name}")
        self.table = table
        self.fields = tuple(fields)
        self.copy_line = _compile_line(self.fields, escape=True, prepare=self._prepare)
        self.copy_line_unescaped = _compile_line(self.fields, escape=False, prepare=self._prepare)
        self.typed = _TypedDecoder.for_fields(self.fields) if self._prepare is None else None

    _prepare: Callable[[dict], dict] | None = None  # a step applied to each record first

    def __reduce__(self):
        return type(self), (self.table, self.fields)


class _TypedDecoder:
    """msgspec decoding of a line into a struct whose field types are the columns' own (text:
    str, int: int in range, float: float or int), and the COPY line built from it.

    A line it refuses (any other type, a key of no column, a non-object, bad JSON) goes to the
    reference path, so rows and errors stay exactly those of `copy_lines`. Unknown keys are
    refused because msgspec skips their values without the checks orjson makes (UTF-8, numbers
    that overflow a double); the source's own lines have none. Only for top-level keys.
    """

    def __init__(self, fields: tuple[Field, ...]) -> None:
        kinds = {field.source: field.kind for field in fields}
        attribute = {key: f"k{i}" for i, key in enumerate(kinds)}
        struct = msgspec.defstruct("TypedRecord", [
            (attribute[key], _typed_annotation(kind) | None, msgspec.field(default=None, name=key))
            for key, kind in kinds.items()], gc=False, forbid_unknown_fields=True)
        self.decode = msgspec.json.Decoder(struct).decode
        self.refused = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError)
        self.copy_line = self._compile(fields, attribute, escape=True)
        self.copy_line_unescaped = self._compile(fields, attribute, escape=False)

    @classmethod
    def for_fields(cls, fields: tuple[Field, ...]) -> _TypedDecoder | None:
        if not all(isinstance(field.source, str) for field in fields):
            return None
        if len({(field.source, field.kind) for field in fields}) != len({f.source for f in fields}):
            return None  # one key feeding columns of different kinds
        return cls(fields)

    @staticmethod
    def _compile(fields: tuple[Field, ...], attribute: dict, escape: bool) -> Callable[[Any], str]:
        namespace: dict[str, Any] = {"NULL": NULL, "T": CONVERTERS[TEXT], "BACKSLASH": "\\"}
        values = []
        for i, field in enumerate(fields):
            namespace[f"L{i}"] = field.label
            v = f"r.{attribute[field.source]}"
            if field.kind == TEXT and escape:
                value = f"{v} if BACKSLASH not in {v} and {v}.isprintable() else T({v}, L{i})"
            else:
                value = v
            values.append("{NULL if " + v + " is None else " + value + "}")
        body = "def copy_line(r):\n    return f'" + "\\t".join(values) + "\\n'"
        exec(compile(body, "<typed_copy_line>", "exec"), namespace)  # noqa: S102 (our own text)
        return namespace["copy_line"]


def _typed_annotation(kind: str) -> Any:
    if kind == TEXT:
        return str
    if kind == FLOAT:
        return float
    low, high = _BOUNDS[kind]
    return Annotated[int, msgspec.Meta(ge=low, le=high - 1)]



def events_mapper(jsonpaths: tuple[tuple, ...]) -> RowMapper:
    fields = []
    for steps, (_, kind) in zip(jsonpaths, STAGING_EVENTS.columns):
        label = ".".join(str(s) for s in steps)
        plain = len(steps) == 1 and isinstance(steps[0], str)
        fields.append(Field(steps[0] if plain else tuple(steps), kind, label))
    return RowMapper(STAGING_EVENTS, tuple(fields))


_SONG_FIELDS = tuple(Field(name, kind, name) for name, kind in STAGING_SONGS.columns)
_SONG_NAMES = frozenset(STAGING_SONGS.column_names)


def _lowercase_keys(record: dict) -> dict:
    if record.keys() >= _SONG_NAMES:
        return record
    return {key.lower(): value for key, value in record.items()}


class SongsMapper(RowMapper):
    """Songs map by key name, case-insensitively; keys already lowercase take the fast path."""

    _prepare = staticmethod(_lowercase_keys)

    def __init__(self, table: StagingTable = STAGING_SONGS,
                 fields: tuple[Field, ...] = _SONG_FIELDS) -> None:
        super().__init__(table, fields)


_BOUNDS = {INT: (-2**31, 2**31), BIGINT: (-2**63, 2**63)}


def _compile_line(fields: tuple[Field, ...], escape: bool,
                  prepare: Callable[[dict], dict] | None) -> Callable[[dict], str]:
    """A function `record -> COPY line`, equal to joining CONVERTERS' output with tabs.

    Each value of the expected Python type is formatted by the f-string itself (str(int),
    repr(float) and the string as it is); anything else goes through its converter, which
    also raises BadRecord. The names below are bound in the function's namespace.
    """
    namespace: dict[str, Any] = {"X": _extract, "P": prepare, "T": CONVERTERS[TEXT],
                                 "I": CONVERTERS[INT], "B": CONVERTERS[BIGINT],
                                 "F": CONVERTERS[FLOAT], "BACKSLASH": "\\"}
    body = ["def copy_line(r):"]
    if prepare is not None:
        body.append("    r = P(r)")
    body.append("    g = r.get")
    values = []
    for i, field in enumerate(fields):
        namespace[f"S{i}"], namespace[f"L{i}"] = field.source, field.label
        fetch = f"g(S{i})" if isinstance(field.source, str) else f"X(r, S{i})"
        body.append(f"    v{i} = {fetch}")
        values.append("{" + _value_expression(f"v{i}", f"L{i}", field.kind, escape) + "}")
    body.append("    return f'" + "\\t".join(values) + "\\n'")
    exec(compile("\n".join(body), "<copy_line>", "exec"), namespace)  # noqa: S102 (our own text)
    return namespace["copy_line"]


def _value_expression(v: str, label: str, kind: str, escape: bool) -> str:
    if kind == TEXT:
        plain = f"BACKSLASH not in {v} and {v}.isprintable()" if escape else ""
        test = f"{v}.__class__ is str" + (f" and {plain}" if plain else "")
        return f"{v} if {test} else T({v}, {label})"
    if kind == FLOAT:
        return f"{v} if {v}.__class__ is float else F({v}, {label})"
    low, high = _BOUNDS[kind]
    convert = "I" if kind == INT else "B"
    return f"{v} if {v}.__class__ is int and {low} <= {v} < {high} else {convert}({v}, {label})"


# ---- lines to rows -----------------------------------------------------------------------

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


# ---- a parse worker process --------------------------------------------------------------

def _worker_main() -> None:
    """`python -m sparkify.records`: a parse worker fed by sparkify.warehouse over pipes.

    Reads a pickled RowMapper, then (chunk, source, first line) tuples until end of input,
    and answers each with a pickled CopyChunk, in order.
    """
    import pickle
    import sys

    reader, writer = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but results on the pipe
    mapper = pickle.load(reader)
    while True:
        try:
            chunk, source, first_line = pickle.load(reader)
        except EOFError:
            return
        pickle.dump(copy_chunk(chunk, source, first_line, mapper), writer, protocol=5)
        writer.flush()


if __name__ == "__main__":
    _worker_main()
