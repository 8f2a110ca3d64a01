"""The staging columns are defined once (sparkify/staging/schema.py); everything else agrees."""

from __future__ import annotations

import re

import orjson
import pytest
import sqlglot
from sqlglot import exp

from sparkify.local.generator import EVENT_KEYS, LOG_JSON_PATH, SONG_KEYS
from sparkify.quality.suites import EXPECTATIONS_DIR, SuiteFile
from sparkify.sqllib import DIALECTS, SqlLibrary
from sparkify.staging.mappers import SongsMapper, events_mapper
from sparkify.staging.schema import (
    BIGINT, DEFAULT_JSONPATHS, FLOAT, INT, STAGING_EVENTS, STAGING_TABLES, TEXT,
)
from sparkify.staging.jsonpaths import load_jsonpaths

# How each kind is declared in the DDL of each engine.
DDL_TYPES = {TEXT: {"TEXT", "VARCHAR"}, INT: {"INT", "BIGINT"}, BIGINT: {"BIGINT"},
             FLOAT: {"DOUBLE"}}


def _ddl_column_defs(engine: str, table: str) -> list[exp.ColumnDef]:
    sql = SqlLibrary(engine).text(f"ddl/{table}")
    dialect = "redshift" if engine == "redshift" else "postgres"
    create = next(s for s in sqlglot.parse(sql, read=dialect) if isinstance(s, exp.Create))
    return [column for column in create.this.expressions if isinstance(column, exp.ColumnDef)]


def _ddl_columns(engine: str, table: str) -> list[tuple[str, str]]:
    return [(column.name, column.args["kind"].this.name)
            for column in _ddl_column_defs(engine, table)]


@pytest.mark.parametrize("table", STAGING_TABLES, ids=lambda t: t.name)
def test_text_widths_are_those_of_the_redshift_columns(table):
    """The width a staged value is checked against is the VARCHAR Redshift's COPY fills."""
    widths = {column.name: int(column.args["kind"].expressions[0].name)
              for column in _ddl_column_defs("redshift", table.name)
              if column.args["kind"].this.name == "VARCHAR"}

    assert widths == {c.name: c.max_bytes for c in table.columns if c.kind == TEXT}


@pytest.mark.parametrize("engine", DIALECTS)
@pytest.mark.parametrize("table", STAGING_TABLES, ids=lambda t: t.name)
def test_the_ddl_has_the_schema_columns_in_order_with_their_kinds(engine, table):
    columns = _ddl_columns(engine, table.name)

    assert [name for name, _ in columns] == list(table.column_names)
    for (name, declared), column in zip(columns, table.columns):
        assert declared in DDL_TYPES[column.kind], (engine, name, declared)


def test_the_default_jsonpaths_and_the_generator_follow_the_source_keys():
    paths = orjson.loads(DEFAULT_JSONPATHS)["jsonpaths"]

    assert paths == [f"$['{key}']" for key in STAGING_EVENTS.source_keys]
    assert orjson.loads(LOG_JSON_PATH)["jsonpaths"] == paths
    assert EVENT_KEYS == STAGING_EVENTS.source_keys
    assert SONG_KEYS == tuple(c.name for c in STAGING_TABLES[1].columns)
    mapper = events_mapper(load_jsonpaths(DEFAULT_JSONPATHS, "default", STAGING_EVENTS))
    assert [field.source for field in mapper.fields] == list(STAGING_EVENTS.source_keys)
    assert [field.kind for field in SongsMapper().fields] == [c.kind for c in STAGING_TABLES[1].columns]


@pytest.mark.parametrize("table", STAGING_TABLES, ids=lambda t: t.name)
def test_the_expectations_name_every_staging_column(table):
    suite = SuiteFile.load(EXPECTATIONS_DIR / f"{table.name}.yml")
    column_sets = [entry["kwargs"]["column_set"] for entry in suite.expectations
                   if entry["type"] == "expect_table_columns_to_match_set"]
    named = {entry["kwargs"]["column"] for entry in suite.expectations
             if "column" in entry.get("kwargs", {})}

    assert column_sets == [list(table.column_names)]
    assert named <= set(table.column_names)


def test_no_other_module_spells_the_column_list_again():
    """One definition: a run of staging column names in source code lives in schema.py only."""
    from sparkify.paths import PROJECT_ROOT

    run = re.compile(r"item_in_session.{0,80}last_name.{0,80}length", re.S)
    for path in (PROJECT_ROOT / "sparkify").rglob("*.py"):
        if path.name != "schema.py":
            assert not run.search(path.read_text(encoding="utf-8")), path
