"""The suite and checkpoint files in expectations/, read and checked before GX sees them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sparkify.errors import ConfigError, innermost_line
from sparkify.paths import PROJECT_ROOT

EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
CHECKPOINTS = ("staging", "warehouse")
_EXPECTATION_KEYS = {"type", "kwargs", "description", "severity", "meta", "notes"}
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class SuiteFile:
    """One table's expectations, as written in expectations/<table>.yml."""

    table: str
    expectations: tuple[dict[str, Any], ...]
    path: Path

    @classmethod
    def load(cls, path: Path) -> SuiteFile:
        data = _read_yaml(path)
        table, entries = data.get("table"), data.get("expectations")
        if not isinstance(table, str) or not IDENTIFIER.match(table):
            raise ConfigError(f"{path}: 'table' must name one table")
        if not isinstance(entries, list) or not entries:
            raise ConfigError(f"{path}: 'expectations' must be a non-empty list")
        for number, entry in enumerate(entries, start=1):
            _check_entry(entry, f"{path}, expectation {number}")
        return cls(table, tuple(entries), path)

    def build(self, schema: str) -> list:
        """The expectations as GX objects, with `{schema}` and `{batch}` filled into their SQL."""
        from great_expectations.expectations.expectation_configuration import (
            ExpectationConfiguration,
        )

        import sparkify.quality.expectations  # noqa: F401  (registers expect_no_unexpected_rows)

        built = []
        for number, entry in enumerate(self.expectations, start=1):
            entry = {**entry, "kwargs": _fill_names(entry.get("kwargs", {}), schema, self.table)}
            try:  # fail on a typo now: GX's own suite loader would only log and skip it
                built.append(ExpectationConfiguration(**entry).to_domain_obj())
            except Exception as exc:
                raise ConfigError(f"{self.path}, expectation {number} ({entry['type']}): "
                                  f"{innermost_line(exc)}") from exc
        return built


def _check_entry(entry: Any, where: str) -> None:
    if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
        raise ConfigError(f"{where}: needs a 'type'")
    unknown = sorted(set(entry) - _EXPECTATION_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    if not isinstance(entry.get("description"), str) or not entry["description"].strip():
        raise ConfigError(f"{where}: needs a 'description' (the rule, in words)")
    if not isinstance(entry.get("kwargs", {}), dict):
        raise ConfigError(f"{where}: 'kwargs' must be a mapping")


@dataclass(frozen=True)
class CheckpointFile:
    """A checkpoint, as written in expectations/checkpoints/<name>.yml: the suites it runs."""

    name: str
    description: str
    suites: tuple[str, ...]

    @classmethod
    def load(cls, path: Path) -> CheckpointFile:
        data = _read_yaml(path)
        suites = data.get("suites")
        if data.get("name") != path.stem:
            raise ConfigError(f"{path}: 'name' must be {path.stem!r}, like the file")
        if not isinstance(suites, list) or not suites or not all(
                isinstance(s, str) and IDENTIFIER.match(s) for s in suites):
            raise ConfigError(f"{path}: 'suites' must list suite (table) names")
        return cls(path.stem, str(data.get("description", "")), tuple(suites))


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(f"quality file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({innermost_line(exc)})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def _fill_names(value: Any, schema: str, table: str) -> Any:
    """`{schema}` in SQL names the warehouse schema and `{batch}` the suite's table.

    GX would fill `{batch}` with a subquery of the whole table, aliased, or not when the query
    has a JOIN, and PostgreSQL before 16 refuses a subquery without an alias ("subquery in FROM
    must have an alias"). Every batch here is a whole table, so its name stands for it. The
    placeholder stays in a comment: GX prints a warning for a query without it.
    """
    if isinstance(value, str):
        filled = value.replace("{schema}", schema)
        if "{batch}" in filled:
            filled = "/* {batch} */\n" + filled.replace("{batch}", f"{schema}.{table}")
        return filled
    if isinstance(value, dict):
        return {key: _fill_names(item, schema, table) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill_names(item, schema, table) for item in value]
    return value

