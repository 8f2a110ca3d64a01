"""The processes a run starts end when the run dies, however it dies: `kill -9` of
`flows/main.py` leaves no S3 emulator behind (sparkify/local/lifeline.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from tests.conftest import PROJECT_ROOT, event, song, write_dataset

ENDED_WITHIN_SECONDS = 10  # the emulator stops in a second or two; generous on a loaded machine


def _emulators_of(pid: int) -> list[psutil.Process]:
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "sparkify.local.s3_server" in child.cmdline():
                found.append(child)
        except psutil.Error:
            pass
    return found


def _running(process: psutil.Process) -> bool:
    """Not ended (an ended process whose new parent has not reaped it yet has ended)."""
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.usefixtures("prefect_harness")
def test_kill_9_of_a_run_ends_its_s3_emulator(tmp_path, warehouse_url):
    from prefect.settings import PREFECT_API_URL

    write_dataset(tmp_path, {"2018-11-01": [event(userId=str(i), itemInSession=i) for i in range(50)]},
                  {"TRAAAAA1": [song("SO1", "A", "AR1", "X")]})
    run = subprocess.Popen(
        [sys.executable, "flows/main.py", "--data", str(tmp_path), "--warehouse-url", warehouse_url],
        cwd=PROJECT_ROOT, env={**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    emulators: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 240
        while not emulators and run.poll() is None and time.monotonic() < deadline:
            emulators = _emulators_of(run.pid)
            time.sleep(0.05)
        assert emulators, "the run started no S3 emulator (or ended first)"
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        deadline = time.monotonic() + ENDED_WITHIN_SECONDS
        while any(map(_running, emulators)) and time.monotonic() < deadline:
            time.sleep(0.1)
        alive = [process.pid for process in emulators if _running(process)]
        assert not alive, f"left running {ENDED_WITHIN_SECONDS}s after the run's kill -9: {alive}"
    finally:
        if run.poll() is None:
            run.kill()
        for process in emulators:
            try:
                process.kill()
            except psutil.Error:
                pass
