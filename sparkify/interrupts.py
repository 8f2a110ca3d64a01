"""Ctrl-C on the command line: the run stops within seconds, exits 130, and is never retried.

A terminal's Ctrl-C sends SIGINT to its whole foreground process group. Prefect's temporary API
server was a child in that group, so it died at once, while the run, interrupted, went on to
record its crash against the dead API: minutes of the Prefect client's connection retries,
tasks failing on a ConnectionRefusedError that the retry policy took for a transient failure
(the transform ran again), and an exit on that error (`error: [Errno 111] Connection refused`,
exit 1) instead of `error: interrupted` (130). So, while a command runs:
- the temporary server starts in a session of its own, out of the terminal's reach;
- the first Ctrl-C raises KeyboardInterrupt where the run is (at the end of the statement in
  progress: psycopg2 blocks in libpq until then), stops the staging gate at its next query,
  and gives the run GRACE_SECONDS to unwind; a second Ctrl-C, or the grace running out, ends
  the process at once. Nothing retries after a Ctrl-C (tasks/retries.py asks `interrupted()`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# After the first Ctrl-C, how long the run may take to unwind (roll back, record its crash in
# Prefect) before the process ends anyway.
GRACE_SECONDS = 10.0
EXIT_CODE = 130
MESSAGE = "error: interrupted"

_interrupted = threading.Event()
_reported = threading.Event()
_report_lock = threading.RLock()  # the command, the watchdog, a second Ctrl-C: one line


def interrupted() -> bool:
    """Whether this process has had a Ctrl-C."""
    return _interrupted.is_set()


@contextmanager
def ctrl_c_stops_the_run() -> Iterator[None]:
    """For one command: the SIGINT handling above, and Prefect's temporary server (when this
    command starts one) in its own session, stopped on the way out, before the last line."""
    main_thread = threading.current_thread() is threading.main_thread()  # signals land there
    previous = signal.signal(signal.SIGINT, _on_sigint) if main_thread else None
    started = _isolate_prefect_server()
    try:
        yield
    finally:
        _stop_prefect_servers(started)
        if main_thread and not interrupted():  # after one, a second Ctrl-C still ends it at once
            signal.signal(signal.SIGINT, previous)


def report() -> int:
    """Print the interrupted line, once; the exit code."""
    with _report_lock:
        if not _reported.is_set():
            print(MESSAGE, file=sys.stderr, flush=True)
            _reported.set()
    return EXIT_CODE


def exit_now() -> None:
    """Report, stop this process's children and exit: once the run has unwound (the
    interpreter's own teardown of Prefect and GX would add seconds), or if it does not in time."""
    import psutil

    report()
    children = psutil.Process().children(recursive=True)
    for child in children:
        try:
            child.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(children, timeout=3)
    for child in alive:
        try:
            child.kill()
        except psutil.Error:
            pass
    os._exit(EXIT_CODE)


def _on_sigint(signum, frame) -> None:
    if _interrupted.is_set():
        exit_now()
    _interrupted.set()
    _refuse_new_sqlalchemy_statements()
    watchdog = threading.Timer(GRACE_SECONDS, exit_now)
    watchdog.daemon = True  # it also covers the interpreter's exit, after the command returns
    watchdog.start()
    raise KeyboardInterrupt


def _refuse_new_sqlalchemy_statements() -> None:
    """The staging gate (GX, on SQLAlchemy) runs on a worker thread beside the transform, and
    Prefect waits for it before the flow run ends: stop it at its next query, not its last."""
    if "sqlalchemy" not in sys.modules:  # no gate has started
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def refuse(*_args, **_kwargs) -> None:
        raise KeyboardInterrupt("interrupted")

    event.listen(Engine, "before_cursor_execute", refuse)


class _SubprocessInOwnSession:
    """The `subprocess` module, except that Popen starts the child in a session of its own
    (and notes it, so that only what this command started is stopped)."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []

    def __getattr__(self, name: str):
        return getattr(subprocess, name)

    def Popen(self, *args, **kwargs) -> subprocess.Popen:  # noqa: N802  (stands in for the class)
        process = subprocess.Popen(*args, **kwargs, start_new_session=True)
        self.started.append(process)
        return process


def _isolate_prefect_server() -> list[subprocess.Popen]:
    """Have Prefect start its temporary API server out of the terminal's process group, when
    this command would start one; the processes so started (filled in as they start).

    Prefect 3.9 starts it with a plain Popen (SubprocessASGIServer._run_uvicorn_command), and
    uvicorn installs its own SIGINT handler, so ignoring SIGINT in the child cannot work; in a
    session of its own, Ctrl-C does not reach it and the run can still record its crash.
    """
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return []
    from prefect.server.api import server

    server.subprocess = _SubprocessInOwnSession()
    return server.subprocess.started


def drain_prefect_queues() -> None:
    """Send the logs and events Prefect still queues for its API (when it was loaded)."""
    if "prefect.logging.handlers" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=5)
    EventsWorker.drain_all(timeout=5)


def _stop_prefect_servers(started: list[subprocess.Popen]) -> None:
    """Send Prefect's queued logs and events, then stop the temporary server this command
    started: its goodbye line comes before the command's last line, and nothing is left to
    send to it at exit. Prefect's own module comes back as it was."""
    if "prefect.server.api.server" not in sys.modules:
        return
    from prefect.server.api import server as server_module

    if isinstance(server_module.subprocess, _SubprocessInOwnSession):
        server_module.subprocess = subprocess
    servers = [server for server in list(server_module.SubprocessASGIServer._instances.values())
               if server.server_process in started]
    if not servers:
        return
    drain_prefect_queues()
    for server in servers:
        server.stop()
