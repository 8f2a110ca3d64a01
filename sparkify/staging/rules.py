"""The quality rules about one record's own values, applied to each record as it is staged.

The staging suites in expectations/ are the one definition: every critical expectation that
looks at one value of one record (not null, between, in a set) also runs here, per record, on
the client path. A record that breaks one is a malformed record like any other: named with its
file and line, counted against --max-errors, kept in load_errors, and never staged. So the
transform never meets a value it cannot hold, and the staging gate finds nothing to fail on.
With its column's width (Redshift's VARCHAR bytes), a text value too long to load is refused too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sparkify.staging.schema import FLOAT, TEXT, Column
from sparkify.staging.values import INTEGER_BOUNDS, NULL, BadRecord

RECORD_EXPECTATIONS = ("expect_column_values_to_not_be_null", "expect_column_values_to_be_between",
                       "expect_column_values_to_be_in_set")


@dataclass(frozen=True)
class ColumnRule:
    """What one column's value must satisfy; `rule` names it, as the suite file does."""

    kind: str
    not_null: str = ""  # the rule's description, when the value may not be null
    between: tuple[float | None, float | None, bool, bool] | None = None  # low, high, strict
    between_rule: str = ""
    values: frozenset[str] | None = None
    values_rule: str = ""
    max_bytes: int | None = None

    def fast_test(self, v: str, name: str) -> str:
        """A Python condition on a value of the column's own type: true when it surely passes."""
        tests = []
        if self.between is not None:
            low, high, strict_low, strict_high = self.between
            if low is not None:
                tests.append(f"{v} {'>' if strict_low else '>='} {low!r}")
            if high is not None:
                tests.append(f"{v} {'<' if strict_high else '<='} {high!r}")
        if self.values is not None:
            tests.append(f"{v} in {name}.values")
        if self.max_bytes is not None:
            tests.append(f"len({v}) <= {self.max_bytes // 4}")  # 4 bytes a character at most
        return " and ".join(tests)

    def check(self, value: Any, text: str, label: str) -> None:
        """Raise BadRecord when the value (`text`: its COPY text) breaks the rule."""
        if text == NULL:
            if self.not_null:
                raise BadRecord(f"key '{label}': missing or null, but the rule is "
                                f"'{self.not_null}'")
            return
        if self.max_bytes is not None:
            size = len((value if isinstance(value, str) else text).encode("utf-8"))
            if size > self.max_bytes:
                raise BadRecord(f"key '{label}': {size:,} bytes, more than the {self.max_bytes:,} "
                                "its column holds")
        if self.values is not None and text not in self.values:
            raise BadRecord(f"key '{label}': {text!r} breaks the rule '{self.values_rule}'")
        if self.between is not None and not self._within(float(text) if self.kind == FLOAT
                                                         else int(text)):
            raise BadRecord(f"key '{label}': {text} breaks the rule '{self.between_rule}'")

    def _within(self, number: float) -> bool:
        low, high, strict_low, strict_high = self.between
        above = low is None or (number > low if strict_low else number >= low)
        below = high is None or (number < high if strict_high else number <= high)
        return above and below


def number_bounds(kind: str, between: tuple | None) -> dict[str, float] | None:
    """A number column's bounds (named ge, le, gt, lt): its type's range within
    the rule's, if any; None for an integer column bounded by a fraction."""
    if kind == FLOAT:
        if between is None:
            return {}
        low, high, strict_low, strict_high = between
        bounds = {}
        if low is not None:
            bounds["gt" if strict_low else "ge"] = float(low)
        if high is not None:
            bounds["lt" if strict_high else "le"] = float(high)
        return bounds
    low, high = INTEGER_BOUNDS[kind]
    ge, le = low, high - 1
    if between is not None:
        rule_low, rule_high, strict_low, strict_high = between
        if any(b is not None and float(b) != int(b) for b in (rule_low, rule_high)):
            return None  # an integer column bounded by a fraction: left to the Python test
        if rule_low is not None:
            ge = max(ge, int(rule_low) + (1 if strict_low else 0))
        if rule_high is not None:
            le = min(le, int(rule_high) - (1 if strict_high else 0))
    return {"ge": ge, "le": le}


def column_rules(table: str, columns: tuple[Column, ...]) -> dict[str, ColumnRule]:
    """The rule of each column of a staging table that has one, from its suite and widths."""
    from sparkify.quality.suites import EXPECTATIONS_DIR, SuiteFile

    found: dict[str, dict] = {column.name: {} for column in columns}
    for entry in SuiteFile.load(EXPECTATIONS_DIR / f"{table}.yml").expectations:
        kwargs = entry.get("kwargs", {})
        if (entry["type"] not in RECORD_EXPECTATIONS or entry.get("severity", "critical") != "critical"
                or "mostly" in kwargs or kwargs.get("column") not in found):
            continue
        parts = found[kwargs["column"]]
        if entry["type"] == RECORD_EXPECTATIONS[0]:
            parts["not_null"] = entry["description"]
        elif entry["type"] == RECORD_EXPECTATIONS[1]:
            parts["between"] = (kwargs.get("min_value"), kwargs.get("max_value"),
                                bool(kwargs.get("strict_min")), bool(kwargs.get("strict_max")))
            parts["between_rule"] = entry["description"]
        else:
            parts["values"] = frozenset(str(v) for v in kwargs["value_set"])
            parts["values_rule"] = entry["description"]
    rules = {}
    for column in columns:
        parts = found[column.name]
        if column.kind == TEXT and column.max_bytes:
            parts["max_bytes"] = column.max_bytes
        if parts:
            rules[column.name] = ColumnRule(column.kind, **parts)
    return rules
