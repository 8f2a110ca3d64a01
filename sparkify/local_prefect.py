"""Which Prefect API a command talks to when no PREFECT_API_URL is set, and what a command
says when that API fails mid-run.

SPARKIFY_PREFECT_SERVER=kept (the default): the first command starts a Prefect API server for
its PREFECT_HOME (sparkify/local/prefect_server.py) and the later ones use it; it stops itself
after SPARKIFY_PREFECT_IDLE_MINUTES (30) without a request. `temporary`: a server of the
command's own, which ends with it. Either runs in a session of its own, out of reach of the
terminal's Ctrl-C, so an interrupted run can still record its end. Commands of every install of
the same Prefect version and database share the kept server (two checkouts with a venv each);
another version or database gets a server of its own beside it: a server that some command
may be using is never stopped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from sparkify.local.lifeline import Lifeline

# Its start is almost all imports, so it grows with the load (2 cores): 8-9 s at load 1-3,
# 9-18 s with both cores busy, 48-88 s at load 7-10. A server that has exited fails at once.
STARTUP_TIMEOUT_SECONDS = 300
MODE_ENV, IDLE_ENV = "SPARKIFY_PREFECT_SERVER", "SPARKIFY_PREFECT_IDLE_MINUTES"
MODES = ("kept", "temporary")
DEFAULT_IDLE_MINUTES = 30.0
STATE_GLOB, LOCK_FILE, LOG_FILE = "sparkify-server-*.json", "sparkify-server.lock", "sparkify-server.log"
SERVER_MODULE = "sparkify.local.prefect_server"
# Prefect's client retries a failed request 5 times, 2 to 32 s apart: about a minute per call
# to a local server that has gone (nothing will answer at its address again). One retry still
# covers a keep-alive connection that the server closed just as a request was sent.
LOCAL_CLIENT_RETRIES = 1


@contextlib.contextmanager
def local_api() -> Iterator[str | None]:
    """For one command: a local server's API URL in Prefect's settings (its URL), or nothing
    when a PREFECT_API_URL is set (None)."""
    from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    mode = _mode()  # a mistyped setting is an error even where it would not apply
    if PREFECT_API_URL.value():
        yield None
        return
    with contextlib.ExitStack() as stack:
        url = kept_server_url() if mode == "kept" else stack.enter_context(_own_server())
        with temporary_settings(updates={PREFECT_API_URL: url,
                                         PREFECT_CLIENT_MAX_RETRIES: LOCAL_CLIENT_RETRIES}):
            yield url


def kept_server_url() -> str:
    """The API URL of the kept server of this PREFECT_HOME and install, started if none answers."""
    home = _home()
    state_file = home / f"sparkify-server-{_identity()}.json"
    with _locked(home / LOCK_FILE):
        state = _read_state(state_file)
        if state and _healthy(state["url"]):
            return state["url"]
        idle_minutes = _idle_minutes()
        url, process = _start(home, ["--idle-minutes", str(idle_minutes)], subprocess.Popen,
                              announce=f"Starting the local Prefect server on {{url}}, kept for "
                              f"later runs (it stops after {idle_minutes:g} idle minutes; "
                              f"{MODE_ENV}=temporary for one per command)")
        state_file.write_text(json.dumps({"pid": process.pid, "url": url}))
        return url


def stop_kept_server(home: Path) -> bool:
    """Stop the kept servers of `home`, if any runs; whether one did."""
    stopped = False
    if not home.is_dir():
        return stopped
    with _locked(home / LOCK_FILE):
        for state_file in home.glob(STATE_GLOB):
            stopped = _stop(_read_state(state_file) or {}) or stopped
            state_file.unlink(missing_ok=True)
    return stopped


@contextlib.contextmanager
def _own_server() -> Iterator[str]:
    """A server for this command only: it ends when the command does, however it ends."""
    lifeline = Lifeline()
    url, process = _start(_home(), [], lifeline.popen)
    try:
        yield url
    finally:
        if process.poll() is None:  # the run's last logs and events reach it before it stops
            drain_prefect_queues()
        lifeline.close()


def _start(home: Path, options: list[str], popen,
           announce: str | None = None) -> tuple[str, subprocess.Popen]:
    """Start a server on a socket bound here (no other process can take its port while it
    starts), saying `announce` first; its URL and process, once it answers."""
    from prefect.settings import get_current_settings

    env = {**os.environ, **get_current_settings().to_environment_variables(exclude_unset=True),
           "PREFECT_SERVER_ANALYTICS_ENABLED": os.environ.get("PREFECT_SERVER_ANALYTICS_ENABLED",
                                                              "false")}
    env.pop("PREFECT_API_URL", None)
    with socket.create_server(("127.0.0.1", 0)) as listener, (home / LOG_FILE).open("ab") as log:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/api"
        if announce:
            print(announce.format(url=url), file=sys.stderr, flush=True)
        process = popen([sys.executable, "-m", SERVER_MODULE, "--fd", str(listener.fileno()),
                         *options], env=env, stdin=subprocess.DEVNULL, stdout=log,
                        stderr=subprocess.STDOUT, start_new_session=True, cwd=home,
                        pass_fds=(listener.fileno(),))
    try:
        _wait_healthy(process, url, home / LOG_FILE)
    except BaseException:  # a Ctrl-C or a server that does not come up: leave none behind
        process.terminate()
        raise
    return url, process


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
    """Whether a server answers at `url`; a busy one is given time (one that has gone refuses
    the connection at once)."""
    import httpx

    try:
        return httpx.get(f"{url}/health", timeout=30).status_code == 200
    except httpx.HTTPError:
        return False


def _stop(state: dict) -> bool:
    """Stop the server a state file names, if it is still one of ours."""
    import psutil

    try:
        process = psutil.Process(int(state["pid"]))
        if not any(SERVER_MODULE in part for part in process.cmdline()):
            return False
        process.terminate()
        process.wait(timeout=10)
    except psutil.TimeoutExpired:
        process.kill()
    except (psutil.Error, KeyError, ValueError):
        return False
    return True


def drain_prefect_queues() -> None:
    """Send the logs and events Prefect still queues for its API (when it was loaded)."""
    if "prefect.logging.handlers" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=5)
    EventsWorker.drain_all(timeout=5)


def api_failure(exc: BaseException) -> str | None:
    """One line when `exc` is Prefect's API failing (gone, or answering 5xx), else None."""
    failed = _api_error(exc)
    if failed is None:
        return None
    request = failed.request
    api = str(request.url).split("/api/", 1)[0] + "/api"
    if api_unreachable(exc):
        line = f"the Prefect API at {api} did not answer ({failed.__class__.__name__}: {failed})"
    else:
        line = (f"the Prefect API at {api} failed: HTTP {failed.response.status_code} to "
                f"{request.method} {request.url.path}{_full_disk_of_home()}")
    if "/flow_runs/" in request.url.path and request.url.path.endswith("/set_state"):
        flow_run = request.url.path.split("/flow_runs/", 1)[1].split("/", 1)[0]
        line += f"; the run's end is not recorded there: flow run {flow_run} stays Running"
    return line


def api_unreachable(exc: BaseException) -> bool:
    """Whether `exc` is a request to Prefect's API that found no server (refused, cut off)."""
    import httpx

    return isinstance(_api_error(exc), httpx.TransportError)


def _api_error(exc: BaseException):
    """The httpx error of a request to Prefect's API in the chain of `exc`, if any."""
    import httpx

    from sparkify.errors import causes

    for link in causes(exc):
        if isinstance(link, (httpx.TransportError, httpx.HTTPStatusError)):
            try:
                _ = link.request  # httpx raises RuntimeError for an error without one
            except RuntimeError:
                return None
            return link
    return None


def _full_disk_of_home() -> str:
    home = _home()
    if shutil.disk_usage(home).free < 1 << 20:
        return f" (the disk of PREFECT_HOME, {home}, is full)"
    return ""


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


def _home() -> Path:
    from prefect.settings import get_current_settings

    home = Path(get_current_settings().home)
    home.mkdir(parents=True, exist_ok=True)
    return home


def _identity() -> str:
    """What a kept server must share with a command to serve it: Prefect's version and the
    database (a digest: a file name must not hold a database password)."""
    import prefect
    from prefect.settings import get_current_settings

    database = get_current_settings().server.database.connection_url
    secret = database.get_secret_value() if database else ""
    return hashlib.sha256(f"{prefect.__version__}\n{secret}".encode()).hexdigest()[:16]


def _read_state(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    import fcntl

    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
