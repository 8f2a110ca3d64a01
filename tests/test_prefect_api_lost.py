"""The Prefect API lost mid-run: the kept local server killed, or the disk of its PREFECT_HOME
full. The run ends within seconds with one line that says so and that its end is not recorded
in Prefect, and leaves the warehouse as a failed run does: nothing committed."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sparkify.local.generator import generate
from sparkify.local_prefect import STATE_GLOB, stop_kept_server
from tests.conftest import PROJECT_ROOT
from tests.faults import COPY_IN_PROGRESS, SONGPLAY_INSERT, wait_for
from tests.test_crash_reruns import SPEC, assert_nothing_committed

# Before the fix, the killed server's run took 151 s (the Prefect client retried each call for
# about a minute); it takes 14 s. Generous for a loaded 2-core machine.
ENDS_WITHIN_SECONDS = 30


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("api-lost-data")
    generate(root, SPEC)  # a transform that lasts long enough to strike in
    return root


@pytest.fixture(scope="module")
def migrated_home(tmp_path_factory) -> Path:
    """A PREFECT_HOME whose prefect.db is created, as ~/.prefect is after a first run (and
    whose SQLite write-ahead log is empty: no migrations write to it when its server starts)."""
    home = tmp_path_factory.mktemp("prefect-home")
    env = {name: value for name, value in os.environ.items() if not name.startswith("PREFECT_")}
    subprocess.run([sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"],
                   env={**env, "PREFECT_HOME": str(home)}, check=True, capture_output=True,
                   timeout=300)
    return home


def start_elt(data: Path, url: str, home: Path, tmp_path: Path) -> subprocess.Popen:
    env = {name: value for name, value in os.environ.items() if not name.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(home)
    with (tmp_path / "stderr.txt").open("w") as stderr:
        return subprocess.Popen([sys.executable, "flows/main.py", "--data", str(data),
                                 "--warehouse-url", url], cwd=PROJECT_ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=stderr)


def ended(run: subprocess.Popen, struck_at: float, tmp_path: Path) -> tuple[float, list[str]]:
    """Seconds from the strike to the run's exit (1), and its stderr lines."""
    try:
        returncode = run.wait(timeout=300)
    finally:
        if run.poll() is None:
            run.kill()
    seconds = time.monotonic() - struck_at
    lines = (tmp_path / "stderr.txt").read_text().strip().splitlines()
    assert returncode == 1, lines[-20:]
    return seconds, lines


def test_the_kept_server_killed_mid_run(data, warehouse_url, migrated_home, tmp_path):
    home = shutil.copytree(migrated_home, tmp_path / "prefect-home")
    run = start_elt(data, warehouse_url, home, tmp_path)
    wait_for(warehouse_url, SONGPLAY_INSERT, lambda: run.poll() is not None, timeout=540)
    [state] = home.glob(STATE_GLOB)
    os.kill(json.loads(state.read_text())["pid"], signal.SIGKILL)
    seconds, lines = ended(run, time.monotonic(), tmp_path)
    assert lines[-1].startswith("error: the Prefect API at http://127.0.0.1:"), lines[-20:]
    assert "did not answer (ConnectError: [Errno 111] Connection refused)" in lines[-1]
    assert "the run's end is not recorded there: flow run " in lines[-1]
    assert seconds <= ENDS_WITHIN_SECONDS, f"took {seconds:.1f}s"
    assert not any("staging checks did not pass" in line for line in lines)
    assert_nothing_committed(warehouse_url)


@pytest.fixture
def small_disk(tmp_path):
    """A 64 MB tmpfs (mounting one needs root, as CI and the developers' machines have)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        stop_kept_server(mount / "prefect-home")  # before its files are out of reach
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk: Path) -> None:
    """Take every free byte of `disk`."""
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        for chunk in (1 << 20, 1 << 12):
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * chunk):
                    pass
    finally:
        os.close(fd)
    assert shutil.disk_usage(disk).free == 0


def empty_the_write_ahead_log(database: Path) -> None:
    """Checkpoint prefect.db and truncate its write-ahead log, as SQLite itself does when its
    last connection closes: with no room left in the log, the next write to the database needs
    a new block of the disk. (The server's start leaves about 4 MB of log that writes reuse,
    enough for a whole run.)"""
    import sqlite3

    connection = sqlite3.connect(database, timeout=30)
    try:
        while connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]:  # busy
            time.sleep(0.1)
    finally:
        connection.close()


def test_the_disk_of_prefect_home_full_mid_run(data, warehouse_url, migrated_home, tmp_path,
                                               small_disk):
    """Filled while the events stream into COPY: the next artifact the run records fails, and
    the transform commits nothing."""
    home = shutil.copytree(migrated_home, small_disk / "prefect-home")
    run = start_elt(data, warehouse_url, home, tmp_path)
    wait_for(warehouse_url, COPY_IN_PROGRESS, lambda: run.poll() is not None, timeout=540)
    empty_the_write_ahead_log(home / "prefect.db")
    fill(small_disk)
    seconds, lines = ended(run, time.monotonic(), tmp_path)
    assert lines[-1].startswith("error: the Prefect API at http://127.0.0.1:"), lines[-20:]
    assert "HTTP 500 to POST /api/flow_runs/" in lines[-1], lines[-1]
    assert f"(the disk of PREFECT_HOME, {home}, is full)" in lines[-1], lines[-1]
    assert "the run's end is not recorded there" in lines[-1], lines[-1]
    assert seconds <= ENDS_WITHIN_SECONDS, f"took {seconds:.1f}s"
    assert_nothing_committed(warehouse_url)
