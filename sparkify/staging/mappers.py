"""Record mappers: one parsed JSON object to one COPY text line of a staging table.

Events map through the JSONPaths file (the i-th path fills the i-th column of
staging_events); songs map by key name, case-insensitively (`JSON 'auto ignorecase'`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sparkify.staging.jsonpaths import extract_path
from sparkify.staging.limits import MAX_RECORD_BYTES
from sparkify.staging.native import NativeParser
from sparkify.staging.rules import ColumnRule, column_rules
from sparkify.staging.schema import FLOAT, STAGING_EVENTS, STAGING_SONGS, TEXT, StagingTable
from sparkify.staging.values import INTEGER_BOUNDS, CONVERTERS


@dataclass(frozen=True)
class Field:
    """Where one column's value comes from (a top-level key, or the steps of a JSONPath), and
    the rule its value must satisfy, if any (sparkify/staging/rules.py)."""

    source: str | tuple
    kind: str
    label: str  # names the value in error messages
    rule: ColumnRule | None = None


class RowMapper:
    """Maps one parsed JSON object to one COPY text line for a staging table: the reference.

    The line is built by a function compiled for the table's fields (one f-string, a type test
    per value), because a generic loop over converters costs three times as much per row.
    `native` is the compiled parser of plain lines for these fields, or None; `unmapped_keys`
    names a record's top-level keys no column reads. Pickles as its table and fields.
    """

    def __init__(self, table: StagingTable, fields: tuple[Field, ...]) -> None:
        if len(fields) != len(table.columns):
            raise ValueError(f"{len(fields)} fields for the {len(table.columns)} columns of {table.name}")
        self.table = table
        self.fields = tuple(fields)
        self.copy_line = _compile_line(self.fields, prepare=self._prepare)
        self.native = NativeParser.for_fields(self.fields, MAX_RECORD_BYTES)
        self._mapped = frozenset(self._fold(f.source if isinstance(f.source, str) else f.source[0])
                                 for f in self.fields
                                 if isinstance(f.source, str) or isinstance(f.source[0], str))

    _prepare: Callable[[dict], dict] | None = None  # a step applied to each record first
    _fold: Callable[[str], str] = staticmethod(lambda key: key)  # a key as the columns name it

    def unmapped_keys(self, record: dict) -> list[str]:
        """The record's top-level keys no column reads, in its order."""
        if record.keys() <= self._mapped:
            return []
        return [key for key in record if self._fold(key) not in self._mapped]

    def __reduce__(self):
        return type(self), (self.table, self.fields)


def events_mapper(jsonpaths: tuple[tuple, ...]) -> RowMapper:
    rules = column_rules(STAGING_EVENTS.name, STAGING_EVENTS.columns)
    fields = []
    for steps, column in zip(jsonpaths, STAGING_EVENTS.columns):
        label = ".".join(str(s) for s in steps)
        plain = len(steps) == 1 and isinstance(steps[0], str)
        fields.append(Field(steps[0] if plain else tuple(steps), column.kind, label,
                            rules.get(column.name)))
    return RowMapper(STAGING_EVENTS, tuple(fields))


_SONG_RULES = column_rules(STAGING_SONGS.name, STAGING_SONGS.columns)
_SONG_FIELDS = tuple(Field(c.name, c.kind, c.name, _SONG_RULES.get(c.name))
                     for c in STAGING_SONGS.columns)
_SONG_NAMES = frozenset(STAGING_SONGS.column_names)


def _lowercase_keys(record: dict) -> dict:
    if record.keys() >= _SONG_NAMES:
        return record
    return {key.lower(): value for key, value in record.items()}


class SongsMapper(RowMapper):
    """Songs map by key name, case-insensitively; keys already lowercase take the fast path."""

    _prepare = staticmethod(_lowercase_keys)
    _fold = staticmethod(str.lower)

    def __init__(self, table: StagingTable = STAGING_SONGS,
                 fields: tuple[Field, ...] = _SONG_FIELDS) -> None:
        super().__init__(table, fields)


def _compile_line(fields: tuple[Field, ...],
                  prepare: Callable[[dict], dict] | None) -> Callable[[dict], str]:
    """A function `record -> COPY line`, equal to joining CONVERTERS' output with tabs.

    Each value of the expected Python type is formatted by the f-string itself (str(int),
    repr(float) and the string as it is); anything else goes through its converter, which
    also raises BadRecord. The names below are bound in the function's namespace.
    """
    namespace: dict[str, Any] = {"X": extract_path, "P": prepare, "BACKSLASH": "\\"}
    body = ["def copy_line(r):"]
    if prepare is not None:
        body.append("    r = P(r)")
    body.append("    g = r.get")
    values = []
    for i, field in enumerate(fields):
        namespace[f"S{i}"], namespace[f"L{i}"] = field.source, field.label
        namespace[f"R{i}"], namespace[f"C{i}"] = field.rule, _converter(field)
        fetch = f"g(S{i})" if isinstance(field.source, str) else f"X(r, S{i})"
        body.append(f"    v{i} = {fetch}")
        values.append("{" + _value_expression(f"v{i}", i, field) + "}")
    body.append("    return f'" + "\\t".join(values) + "\\n'")
    exec(compile("\n".join(body), "<copy_line>", "exec"), namespace)  # noqa: S102 (our own text)
    return namespace["copy_line"]


def _value_expression(v: str, i: int, field: Field) -> str:
    """`v` as it is when it has the column's own type (and surely passes the rule), else
    through its converter C{i}, which also applies the rule and raises BadRecord."""
    if field.kind == TEXT:
        test = f"{v}.__class__ is str and BACKSLASH not in {v} and {v}.isprintable()"
    elif field.kind == FLOAT:
        test = f"{v}.__class__ is float"
    else:
        low, high = INTEGER_BOUNDS[field.kind]
        test = f"{v}.__class__ is int and {low} <= {v} < {high}"
    if field.rule is not None and field.rule.fast_test(v, f"R{i}"):
        test += " and " + field.rule.fast_test(v, f"R{i}")
    return f"{v} if {test} else C{i}({v}, L{i})"


def _converter(field: Field) -> Callable[[Any, str], str]:
    """The column's converter, followed by its rule when it has one."""
    convert = CONVERTERS[field.kind]
    rule = field.rule
    if rule is None:
        return convert

    def convert_and_check(value: Any, label: str) -> str:
        text = convert(value, label)
        rule.check(value, text, label)
        return text

    return convert_and_check
