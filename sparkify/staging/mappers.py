"""Record mappers: one parsed JSON object to one COPY text line of a staging table.

Events map through the JSONPaths file (the i-th path fills the i-th column of
staging_events); songs map by key name, case-insensitively (`JSON 'auto ignorecase'`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec

from sparkify.staging.jsonpaths import _extract
from sparkify.staging.schema import FLOAT, STAGING_EVENTS, STAGING_SONGS, TEXT, StagingTable
from sparkify.staging.rules import ColumnRule, column_rules, number_bounds
from sparkify.staging.native import NATIVE, NativeRows
from sparkify.staging.values import _BOUNDS, CONVERTERS, NULL, BadRecord

@dataclass(frozen=True)
class Field:
    """Where one column's value comes from (a top-level key, or the steps of a JSONPath), and
    the rule its value must satisfy, if any (sparkify/staging/rules.py)."""

    source: str | tuple
    kind: str
    label: str  # names the value in error messages
    rule: ColumnRule | None = None


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


_UNKNOWN_FIELD = re.compile(r"Object contains unknown field `(.*)`$", re.S)
_NOT_A_FIELD_NAME = re.compile(r'[\\"\x00-\x1f]')  # msgspec cannot rename a field to these


class _TypedDecoder:
    """msgspec decoding of a line into a struct whose field types are the columns' own (text:
    str, int: int in range, float: float or int), narrowed to the columns' rules where a type
    can say them (a range, a set, a length), and the COPY line built from it. msgspec checks
    those in C, so the line's own function has few tests left.

    A line it refuses (any other type, a non-object, bad JSON) goes to the reference path, so
    rows and errors stay exactly those of `copy_lines`. A key no column maps is refused at
    first, so that it is seen and reported (with its line); `decoder_with` then gives a decoder
    that skips it, and the lines after it stay on the fast path. Only for top-level keys.
    """

    def __init__(self, fields: tuple[Field, ...], native: Any = NATIVE) -> None:
        kinds = {field.source: field.kind for field in fields}
        attribute = {key: f"k{i}" for i, key in enumerate(kinds)}
        # a key feeding one column carries that column's rule into its type, checked by msgspec
        feeds = Counter(field.source for field in fields)
        as_type = {field.source: (field.rule, _rule_as_type(field.kind, field.rule))
                   for field in fields if feeds[field.source] == 1 and field.rule is not None}
        self._fields = [_struct_field(attribute[key], key, kind, *as_type.get(key, (None, None)))
                        for key, kind in kinds.items()]
        self._decoders: dict[frozenset[str], Callable[[bytes], Any]] = {}
        self.decode = self.decoder_with(frozenset())
        self.refused = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError,
                        RecursionError, BadRecord)
        checked = {key for key, (_, narrowed) in as_type.items() if narrowed is not None}
        self.copy_line = self._compile(fields, attribute, checked, escape=True)
        self.copy_line_unescaped = self._compile(fields, attribute, checked, escape=False)
        self.native = NativeRows.for_fields(fields, attribute, checked, native)

    def copy_text(self, records: list, clean: bool) -> bytes | None:
        """The COPY text of decoded records, or None when one of them needs the reference path
        (a NUL): the same bytes from the compiled formatter or from Python."""
        if self.native is not None:
            return self.native.format(records)
        copy_line = self.copy_line_unescaped if clean else self.copy_line
        try:
            return "".join([copy_line(record) for record in records]).encode("utf-8")
        except self.refused:
            return None

    def decoder_with(self, unmapped: frozenset[str]) -> Callable[[bytes], Any]:
        """A decoder that also accepts these keys no column maps, and skips their values once
        decoded (as `Any`: msgspec.Raw would not check their UTF-8 or range, as orjson does).
        A key that cannot name a struct field (a control character, a quote, a backslash) is
        not accepted: lines that hold it take the reference path."""
        if unmapped not in self._decoders:
            skipped = [(f"x{i}", Any, msgspec.field(default=None, name=key))
                       for i, key in enumerate(sorted(unmapped))
                       if _NOT_A_FIELD_NAME.search(key) is None]
            struct = msgspec.defstruct("TypedRecord", self._fields + skipped, gc=False,
                                       forbid_unknown_fields=True, kw_only=True)
            self._decoders[unmapped] = msgspec.json.Decoder(struct).decode
        return self._decoders[unmapped]

    @staticmethod
    def unmapped_key(exc: Exception) -> str | None:
        """The key a line was refused for because no column maps it, if that was the reason."""
        match = _UNKNOWN_FIELD.match(str(exc)) if isinstance(exc, msgspec.ValidationError) else None
        return match.group(1) if match else None

    @classmethod
    def for_fields(cls, fields: tuple[Field, ...]) -> _TypedDecoder | None:
        if not all(isinstance(field.source, str) for field in fields):
            return None
        if len({(field.source, field.kind) for field in fields}) != len({f.source for f in fields}):
            return None  # one key feeding columns of different kinds
        return cls(fields)

    @staticmethod
    def _compile(fields: tuple[Field, ...], attribute: dict, checked: set[str],
                 escape: bool) -> Callable[[Any], str]:
        """`struct -> COPY line`. A rule msgspec checked (`checked` keys) is not tested again:
        its value is there, of the column's type and within the rule; others are tested here."""
        namespace: dict[str, Any] = {"NULL": NULL, "BACKSLASH": "\\"}
        values = []
        for i, field in enumerate(fields):
            namespace[f"L{i}"], namespace[f"R{i}"] = field.label, field.rule
            namespace[f"C{i}"] = _converter(field)
            v = f"r.{attribute[field.source]}"
            tests = [f"BACKSLASH not in {v} and {v}.isprintable()"] if field.kind == TEXT and escape \
                else []
            rule = field.rule
            if rule is not None and field.source not in checked and rule.fast_test(v, f"R{i}"):
                tests.append(rule.fast_test(v, f"R{i}"))
            value = f"{v} if {' and '.join(tests)} else C{i}({v}, L{i})" if tests else v
            if rule is not None and rule.not_null and field.source in checked:
                values.append("{" + value + "}")  # msgspec refused a null or missing value
                continue
            if_none = f"C{i}(None, L{i})" if rule is not None and rule.not_null else "NULL"
            values.append("{" + if_none + " if " + v + " is None else " + value + "}")
        body = "def copy_line(r):\n    return f'" + "\\t".join(values) + "\\n'"
        exec(compile(body, "<typed_copy_line>", "exec"), namespace)  # noqa: S102 (our own text)
        return namespace["copy_line"]


def _struct_field(name: str, key: str, kind: str, rule: ColumnRule | None,
                  narrowed: Any | None) -> tuple:
    """The msgspec field of one source key: the column's type, or `narrowed`, its rule said as
    a type (_rule_as_type; then required when the rule forbids null)."""
    if narrowed is None:
        return name, _typed_annotation(kind) | None, msgspec.field(default=None, name=key)
    if rule.not_null:
        return name, narrowed, msgspec.field(name=key)
    return name, narrowed | None, msgspec.field(default=None, name=key)


def _typed_annotation(kind: str) -> Any:
    if kind == TEXT:
        return str
    if kind == FLOAT:
        return float
    low, high = _BOUNDS[kind]
    return Annotated[int, msgspec.Meta(ge=low, le=high - 1)]


def _rule_as_type(kind: str, rule: ColumnRule) -> Any | None:
    """A type whose values all pass the rule (a set of texts, a range, a length that surely
    fits), or None when the rule cannot be said so. Narrower is safe: anything msgspec refuses
    is redone by the reference path, which gives the exact error."""
    if kind == TEXT:
        if rule.between is not None:
            return None
        if rule.values is not None:
            if rule.max_bytes is not None and any(len(v.encode()) > rule.max_bytes
                                                  for v in rule.values):
                return None
            return Literal[tuple(sorted(rule.values))]
        if rule.max_bytes is not None:
            return Annotated[str, msgspec.Meta(max_length=rule.max_bytes // 4)]  # 4 bytes a char
        return str
    if rule.values is not None:
        return None
    bounds = number_bounds(kind, rule.between)
    if bounds is None:
        return None
    return Annotated[float if kind == FLOAT else int, msgspec.Meta(**bounds)]


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
    namespace: dict[str, Any] = {"X": _extract, "P": prepare, "BACKSLASH": "\\"}
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
        values.append("{" + _value_expression(f"v{i}", i, field, escape) + "}")
    body.append("    return f'" + "\\t".join(values) + "\\n'")
    exec(compile("\n".join(body), "<copy_line>", "exec"), namespace)  # noqa: S102 (our own text)
    return namespace["copy_line"]


def _value_expression(v: str, i: int, field: Field, escape: bool) -> str:
    """`v` as it is when it has the column's own type (and surely passes the rule), else
    through its converter C{i}, which also applies the rule and raises BadRecord."""
    if field.kind == TEXT:
        plain = f"BACKSLASH not in {v} and {v}.isprintable()" if escape else ""
        test = f"{v}.__class__ is str" + (f" and {plain}" if plain else "")
    elif field.kind == FLOAT:
        test = f"{v}.__class__ is float"
    else:
        low, high = _BOUNDS[field.kind]
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
