"""Which Prefect API a local command talks to, when no PREFECT_API_URL is set.

By default (SPARKIFY_PREFECT_SERVER=kept) the first local command starts one Prefect API
server for its PREFECT_HOME (sparkify/local/prefect_server.py: Prefect's temporary server app,
in a session of its own, so a terminal's Ctrl-C does not reach it) and later commands use it;
it stops itself after SPARKIFY_PREFECT_IDLE_MINUTES (30) without a request. Its address is in
PREFECT_HOME/sparkify-server.json; a lock file makes two commands started together share one
server (and one migration of a new prefect.db). A server of another Prefect version, Python or
database is stopped and replaced. SPARKIFY_PREFECT_SERVER=temporary gives Prefect's own
behaviour: a temporary server per command, stopped at its end.

The start is almost all Python imports, so it grows with the load (Prefect 3.9.1, 2 cores,
wall seconds): 5-7 s at load 1-7, 14-20 s with both cores busy, 48-88 s at load 7-10 with busy
loops. Hence a 120 s limit for either server (Prefect's default of 20 s, counted as 0.1 s per
health poll, failed 2 of 3 runs with both cores busy).

Measured and left alone for the temporary server: turning off its triggers and event persister
changed neither its start nor a run's CPU time; PREFECT_SERVER_DATABASE_MIGRATE_ON_START=false
was no faster, and a new prefect.db needs the migrations.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from sparkify.paths import PROJECT_ROOT

STARTUP_TIMEOUT_SECONDS = 120
MODE_ENV, IDLE_ENV = "SPARKIFY_PREFECT_SERVER", "SPARKIFY_PREFECT_IDLE_MINUTES"
MODES = ("kept", "temporary")
DEFAULT_IDLE_MINUTES = 30.0
STATE_FILE, LOCK_FILE, LOG_FILE = "sparkify-server.json", "sparkify-server.lock", "sparkify-server.log"


def configure_local_prefect() -> None:
    """Environment defaults for the temporary server; call it before importing Prefect.

    A user's own environment variables win (a value in a Prefect profile or prefect.toml does
    not), and with a PREFECT_API_URL there is no temporary server to configure.
    """
    if os.environ.get("PREFECT_API_URL"):
        return
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS",
                          str(STARTUP_TIMEOUT_SECONDS))


@contextlib.contextmanager
def local_api() -> Iterator[str | None]:
    """For one command: the kept server's API URL in Prefect's settings (its URL), or nothing
    when a PREFECT_API_URL is set or the mode is `temporary` (None)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    mode = _mode()  # a mistyped setting is an error even where it would not apply
    if PREFECT_API_URL.value() or mode == "temporary":
        yield None
        return
    url = kept_server_url()
    with temporary_settings(updates={PREFECT_API_URL: url}):
        yield url


def kept_server_url() -> str:
    """The API URL of this PREFECT_HOME's kept server, started first if none answers."""
    from prefect.settings import get_current_settings

    home = Path(get_current_settings().home)
    home.mkdir(parents=True, exist_ok=True)
    identity = _identity()
    with _locked(home / LOCK_FILE):
        state = _read_state(home / STATE_FILE)
        if state and state.get("identity") == identity and _healthy(state["url"]):
            return state["url"]
        if state:
            _stop(state)
        return _start(home, identity)


def stop_kept_server(home: Path) -> bool:
    """Stop the kept server of `home`, if one runs; whether one did."""
    if not (home / STATE_FILE).is_file():
        return False
    with _locked(home / LOCK_FILE):
        state = _read_state(home / STATE_FILE)
        if not state:
            return False
        stopped = _stop(state)
        (home / STATE_FILE).unlink(missing_ok=True)
        return stopped


def _mode() -> str:
    mode = os.environ.get(MODE_ENV, "kept").strip().lower() or "kept"
    if mode not in MODES:
        raise ValueError(f"{MODE_ENV}={mode!r}: expected one of {', '.join(MODES)}")
    return mode


def _idle_minutes() -> float:
    text = os.environ.get(IDLE_ENV, "").strip()
    try:
        minutes = float(text) if text else DEFAULT_IDLE_MINUTES
    except ValueError:
        minutes = -1.0
    if minutes <= 0:
        raise ValueError(f"{IDLE_ENV}={text!r}: expected a positive number of minutes")
    return minutes


def _identity() -> dict:
    """What a server must share with this command to serve it."""
    import prefect
    from prefect.settings import get_current_settings

    database = get_current_settings().server.database.connection_url
    secret = database.get_secret_value() if database else ""
    # A digest: the state file must not hold a database password.
    return {"prefect": prefect.__version__, "python": sys.executable,
            "database": hashlib.sha256(secret.encode()).hexdigest()}


def _start(home: Path, identity: dict) -> str:
    from prefect.settings import get_current_settings

    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, **get_current_settings().to_environment_variables(exclude_unset=True)}
    env.pop("PREFECT_API_URL", None)
    env["PYTHONPATH"] = os.pathsep.join(  # found however this command was started
        p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p)
    idle_minutes = _idle_minutes()
    print(f"Starting the local Prefect server on {url}, kept for later runs (it stops after "
          f"{idle_minutes:g} idle minutes; {MODE_ENV}=temporary for one per command)",
          file=sys.stderr, flush=True)
    with (home / LOG_FILE).open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "sparkify.local.prefect_server", "--port", str(port),
             "--idle-minutes", str(idle_minutes), "--home", str(home)],
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=home)
    state = {"pid": process.pid, "url": url, "identity": identity}
    try:
        _wait_healthy(process, url, home / LOG_FILE)
    except BaseException:  # a Ctrl-C or a server that does not come up: leave none behind
        process.terminate()
        raise
    (home / STATE_FILE).write_text(json.dumps(state))
    return url


def _wait_healthy(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"the local Prefect server exited with code {process.returncode} "
                               f"while starting ({log}: {tail[0]})")
        if _healthy(url):
            return
        time.sleep(0.2)
    raise RuntimeError(f"the local Prefect server did not answer within {STARTUP_TIMEOUT_SECONDS} s "
                       f"(log: {log})")


def _healthy(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _stop(state: dict) -> bool:
    """Stop the server a state file names, if it is still one of ours."""
    import psutil

    try:
        process = psutil.Process(int(state["pid"]))
        if not any("sparkify.local.prefect_server" in part for part in process.cmdline()):
            return False
        process.terminate()
        process.wait(timeout=10)
    except psutil.TimeoutExpired:
        process.kill()
    except (psutil.Error, KeyError, ValueError):
        return False
    return True


def _read_state(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    import fcntl

    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
