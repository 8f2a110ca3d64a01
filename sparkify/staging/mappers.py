"""Record mappers: one parsed JSON object to one COPY text line of a staging table.

Events map through the JSONPaths file (the i-th path fills the i-th column of
staging_events); songs map by key name, case-insensitively (`JSON 'auto ignorecase'`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec

from sparkify.staging.jsonpaths import _extract
from sparkify.staging.schema import BIGINT, FLOAT, INT, STAGING_EVENTS, STAGING_SONGS, TEXT, StagingTable
from sparkify.staging.values import _BOUNDS, CONVERTERS, NULL

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
    for steps, column in zip(jsonpaths, STAGING_EVENTS.columns):
        label = ".".join(str(s) for s in steps)
        plain = len(steps) == 1 and isinstance(steps[0], str)
        fields.append(Field(steps[0] if plain else tuple(steps), column.kind, label))
    return RowMapper(STAGING_EVENTS, tuple(fields))


_SONG_FIELDS = tuple(Field(c.name, c.kind, c.name) for c in STAGING_SONGS.columns)
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

