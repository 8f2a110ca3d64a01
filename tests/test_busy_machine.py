"""Local runs on a busy machine: `flows/main.py` with no PREFECT_API_URL starts the kept local
Prefect server (sparkify/local_prefect.py), which must come up with every core busy, and two
runs started together must both finish, on one server, and both be recorded in one PREFECT_HOME."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

RUN_TIMEOUT = 300  # against a hang only: a run takes 30 s idle, 1-4 min with every core busy


@pytest.fixture
def other_warehouse_url(databases) -> str:
    """A second fresh database, as `warehouse_url` gives one."""
    return databases.create()


def _without_prefect_settings() -> dict[str, str]:
    # None from this test process or its harness: the runs start or find the kept server.
    return {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}


@pytest.fixture(scope="session")
def used_prefect_home(tmp_path_factory) -> Path:
    """A PREFECT_HOME whose prefect.db is created, as a user's ~/.prefect is after a first run.

    (Two first-ever runs at once both migrate a new prefect.db: the loser's server exits and
    Prefect starts it again, which on a very busy machine can outlast the startup timeout.)
    """
    home = tmp_path_factory.mktemp("prefect-home")
    subprocess.run([sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"],
                   env={**_without_prefect_settings(), "PREFECT_HOME": str(home)},
                   check=True, capture_output=True, timeout=RUN_TIMEOUT)
    return home


@pytest.fixture
def user_env(used_prefect_home, tmp_path) -> dict[str, str]:
    """A user's environment: no Prefect settings, one PREFECT_HOME shared as ~/.prefect is."""
    home = shutil.copytree(used_prefect_home, tmp_path / "prefect-home")
    return {**_without_prefect_settings(), "PREFECT_HOME": str(home)}


def start_elt(warehouse_url: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    """The ELT as a user runs it; its output to files, so that no pipe fills while we wait."""
    with open(log.with_suffix(".out"), "w") as out, open(log.with_suffix(".err"), "w") as err:
        return subprocess.Popen([sys.executable, "flows/main.py", "--warehouse-url", warehouse_url],
                                cwd=PROJECT_ROOT, env=env, stdout=out, stderr=err)


def assert_finished(run: subprocess.Popen, log: Path) -> None:
    try:
        run.wait(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        run.kill()
        run.wait()
    stdout, stderr = log.with_suffix(".out").read_text(), log.with_suffix(".err").read_text()
    assert run.returncode == 0, f"exit {run.returncode}\n{stdout[-2000:]}\n{stderr[-3000:]}"
    assert "Sparkify ELT finished." in stdout


@contextmanager
def every_core_busy():
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
             for _ in range(os.cpu_count() or 2)]  # one per core: two on the 2-core machine
    try:
        yield
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def test_the_elt_finishes_with_every_core_busy(warehouse_url, user_env, tmp_path):
    with every_core_busy():
        assert_finished(start_elt(warehouse_url, user_env, tmp_path / "elt"), tmp_path / "elt")


def test_two_runs_started_together_both_finish_and_both_are_recorded(
        warehouse_url, other_warehouse_url, user_env, tmp_path):
    from sparkify.local.generator import default_sample

    default_sample()  # written once here, not by both runs at once
    logs = [tmp_path / "elt-a", tmp_path / "elt-b"]
    runs = [start_elt(url, user_env, log)
            for url, log in zip((warehouse_url, other_warehouse_url), logs)]
    for run, log in zip(runs, logs):
        assert_finished(run, log)
    # The first run started the kept server under the lock, the second used it.
    starts = [line for log in logs for line in log.with_suffix(".err").read_text().splitlines()
              if line.startswith("Starting the local Prefect server")]
    assert len(starts) == 1, starts
    # Both runs are in the one prefect.db that `prefect server start` shows.
    db = sqlite3.connect(Path(user_env["PREFECT_HOME"]) / "prefect.db")
    try:
        states = db.execute("SELECT flow_run.state_type FROM flow_run JOIN flow "
                            "ON flow.id = flow_run.flow_id WHERE flow.name = 'sparkify-elt'")
        assert [state for (state,) in states] == ["COMPLETED", "COMPLETED"]
    finally:
        db.close()
