"""Source JSON lines to staging rows, as Redshift's COPY ... JSON would map them.

Events map through the JSONPaths file (the i-th path fills the i-th column of
staging_events); songs map by key name, case-insensitively (`JSON 'auto ignorecase'`).
Each row is rendered straight into PostgreSQL's COPY text format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator

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

_PATH_STEP = re.compile(r"""\[\s*'((?:[^'\\]|\\.)*)'\s*\]|\[\s*"((?:[^"\\]|\\.)*)"\s*\]|\[\s*(\d+)\s*\]|\.([A-Za-z_][\w]*)""")


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

class RowMapper:
    """Maps one parsed JSON object to one COPY text line for a staging table."""

    def __init__(self, table: StagingTable, getters: list[tuple[Callable[[dict], Any], str]]):
        self.table = table
        self._fields = [
            (getter, CONVERTERS[kind], label)
            for (getter, label), (_, kind) in zip(getters, table.columns)
        ]

    def copy_line(self, record: dict) -> str:
        return "\t".join(convert(get(record), label) for get, convert, label in self._fields) + "\n"


def events_mapper(jsonpaths: tuple[tuple, ...]) -> RowMapper:
    getters = []
    for steps in jsonpaths:
        label = ".".join(str(s) for s in steps)
        if len(steps) == 1 and isinstance(steps[0], str):
            getters.append((_dict_get(steps[0]), label))
        else:
            getters.append((lambda record, steps=steps: _extract(record, steps), label))
    return RowMapper(STAGING_EVENTS, getters)


def _dict_get(key: str) -> Callable[[dict], Any]:
    return lambda record: record.get(key)


class SongsMapper(RowMapper):
    """Songs map by key name, case-insensitively; keys already lowercase take the fast path."""

    def __init__(self) -> None:
        super().__init__(STAGING_SONGS, [(_dict_get(c), c) for c in STAGING_SONGS.column_names])
        self._names = set(STAGING_SONGS.column_names)

    def copy_line(self, record: dict) -> str:
        if not self._names.issubset(record.keys()):
            record = {key.lower(): value for key, value in record.items()}
        return super().copy_line(record)


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
    """COPY text lines for one source object; bad lines go to `on_error` with their number."""
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    for number, line in enumerate(body.split(b"\n"), start=1):
        line = line.rstrip(b"\r")
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
            if not isinstance(record, dict):
                raise BadRecord(f"not a JSON object (a JSON {type(record).__name__})")
            yield mapper.copy_line(record)
        except orjson.JSONDecodeError as exc:
            on_error(LoadError(source, number, _parse_reason(exc), _raw(line)))
        except BadRecord as exc:
            on_error(LoadError(source, number, str(exc), _raw(line)))


def _raw(line: bytes) -> str:
    return line[:RAW_TEXT_KEPT * 4].decode("utf-8", errors="replace")[:RAW_TEXT_KEPT]

