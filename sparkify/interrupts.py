"""Ctrl-C on the command line: the run stops within seconds, exits 130, and is never retried.

A terminal's Ctrl-C sends SIGINT to its whole foreground process group. The local Prefect
server runs in a session of its own (sparkify/local_prefect.py), so it is still there for the
run to record its end. The first Ctrl-C raises KeyboardInterrupt where the run is (at the end of
the statement in progress: psycopg2 blocks in libpq until then), stops the staging gate at its
next query, and gives the run GRACE_SECONDS to unwind; a second Ctrl-C, or the grace running
out, ends the process at once. Nothing retries after a Ctrl-C (tasks/retries.py asks
`interrupted()`).
"""

from __future__ import annotations

import os
import signal
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
    """For one command: the SIGINT handling above."""
    main_thread = threading.current_thread() is threading.main_thread()  # signals land there
    previous = signal.signal(signal.SIGINT, _on_sigint) if main_thread else None
    try:
        yield
    finally:
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
    """Report and end the process, from any thread: os._exit is the one exit that does not wait
    for what is stuck (a statement in progress, a thread the interpreter would join). The
    processes the run started end with it (sparkify/local/lifeline.py)."""
    report()
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
