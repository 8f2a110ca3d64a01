"""A real Prefect server on loopback, in its own process and home, for the tests that need one."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

from sparkify.local.emulator import free_port

PREFECT = str(Path(sys.executable).with_name("prefect"))


@contextlib.contextmanager
def running_prefect_server(home: Path, **settings: str) -> Iterator[dict[str, str]]:
    """Start `prefect server start` with `settings` (PREFECT_* variables) added to its
    environment; yield the environment that points a CLI or a flow at it."""
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(home),
           "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_SERVER_UI_ENABLED": "false",
           **settings}
    server = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port",
                               str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/api/health", server)
        yield env
    finally:
        server.terminate()
        server.wait(timeout=30)


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the Prefect server exited"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"no Prefect server at {url}")
