"""Settings that end up inside SQL are checked when they are loaded, before anything connects."""

from __future__ import annotations

import pytest
from conftest import query, small_dataset

from flows import main as main_flow
from sparkify import cli
from sparkify.config import load_settings
from sparkify.errors import ConfigError

HOSTILE = "public; CREATE TABLE pwned(x int); INSERT INTO pwned VALUES (1); --"


@pytest.mark.parametrize("value", [HOSTILE, "1schema", 'a"b', "sch ema", "x" * 64])
def test_a_schema_that_is_not_a_plain_identifier_is_refused_naming_the_setting(value):
    with pytest.raises(ConfigError, match=r"\[DWH\] SCHEMA = .* is not a valid identifier"):
        load_settings(None, env={"SPARKIFY_DWH_SCHEMA": value})


def test_plain_identifiers_are_accepted():
    assert load_settings(None, env={"SPARKIFY_DWH_SCHEMA": "analytics_2"}).schema == "analytics_2"


def test_a_hostile_schema_stops_the_run_before_any_statement(
        prefect_harness, tmp_path, warehouse_url, capsys, monkeypatch):
    monkeypatch.setenv("SPARKIFY_DWH_SCHEMA", HOSTILE)

    code = cli.run_command(main_flow.main, main_flow.build_parser(),
                           ["--data", str(small_dataset(tmp_path)), "--warehouse-url", warehouse_url])

    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err[-1].startswith("error: SPARKIFY_DWH_SCHEMA: [DWH] SCHEMA = ")
    assert err[-1].endswith("is not a valid identifier")
    assert query(warehouse_url, "SELECT COUNT(*) FROM information_schema.tables "
                                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')") \
        == [(0,)]
