"""The console script `sparkify`, as installed into the venv: one entry point for every command,
each with the options of its flow; and the flows as plain scripts, without sys.path tricks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sparkify.command import COMMANDS
from tests.conftest import PROJECT_ROOT, query, small_dataset

SCRIPT = Path(sys.executable).parent / "sparkify"


def sparkify(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=300, env=env)


def test_help_lists_every_subcommand():
    done = sparkify("--help")
    assert done.returncode == 0, done.stderr
    listed = [found.group(1) for line in done.stdout.splitlines()
              if (found := re.match(r"^    ([a-z]+)(  |$)", line))]
    assert listed == list(COMMANDS)
    assert {"run", "provision", "teardown", "validate", "report", "notify", "local"} <= set(listed)


@pytest.mark.parametrize("name", ["run", "validate", "report", "provision", "teardown", "notify"])
def test_each_subcommand_has_its_flows_options_under_its_own_name(name):
    done = sparkify(name, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: sparkify {name} ")
    assert "--debug" in done.stdout


def test_the_local_tools_keep_their_own_subcommands():
    done = sparkify("local", "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: sparkify local ")
    assert "redshift-standin" in done.stdout and "query" in done.stdout


def test_an_unknown_command_is_named_and_exits_2():
    done = sparkify("lod")
    assert done.returncode == 2
    assert "invalid choice: 'lod'" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("options", "error"), [
    (["--max-errors", "-1"], "--max-errors must be 0 or more"),
    (["--start", "2018-11-01"], "a backfill needs both --start and --end"),
    (["--full-refresh", "--start", "2018-11-01", "--end", "2018-11-02"], "cannot be combined"),
])
def test_inconsistent_options_are_refused_as_argparse_refuses_a_bad_one(options, error):
    done = sparkify("run", *options, "--dry-run")
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("sparkify run: error: ") and error in last


def test_no_flow_changes_sys_path_or_imports_for_side_effects():
    for flow in (PROJECT_ROOT / "flows").glob("*.py"):
        text = flow.read_text()
        assert "sys.path" not in text, flow.name
        assert "noqa: E402" not in text, flow.name


@pytest.mark.slow
def test_run_then_validate_through_the_console_script(tmp_path, warehouse_url, prefect_harness):
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    ran = sparkify("run", "--data", str(small_dataset(tmp_path)), "--warehouse-url",
                   warehouse_url, env=env)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert "Sparkify ELT finished." in ran.stdout
    assert query(warehouse_url, "SELECT COUNT(*) FROM songplay") == [(2,)]

    validated = sparkify("validate", "--warehouse-url", warehouse_url, env=env)
    assert validated.returncode == 0, validated.stderr[-2000:]
    assert "checkpoint 'warehouse'" in validated.stdout or "warehouse" in validated.stdout
