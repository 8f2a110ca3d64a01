"""An interrupted task is never retried, whatever its failure looks like.

The command-line behaviour (SIGINT to the process group: exit 130 within seconds, the
transform run once) is tested end to end in test_crash_reruns.py.
"""

from __future__ import annotations

import threading

from prefect.states import Failed

from sparkify import interrupts
from sparkify.errors import is_transient
from tasks.retries import retry_on_transient

REFUSED = (111, "Connection refused")


def _refused_while_interrupted() -> ConnectionRefusedError:
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise ConnectionRefusedError(*REFUSED)  # e.g. recording the crash in a dead API
    except ConnectionRefusedError as exc:
        return exc


def test_a_connection_failure_raised_by_an_interrupt_is_not_transient():
    assert is_transient(ConnectionRefusedError(*REFUSED))
    assert not is_transient(_refused_while_interrupted())


def test_after_a_ctrl_c_no_task_is_retried(monkeypatch):
    state = Failed(data=ConnectionRefusedError(*REFUSED))
    assert retry_on_transient(None, None, state)
    ctrl_c = threading.Event()
    ctrl_c.set()
    monkeypatch.setattr(interrupts, "_interrupted", ctrl_c)
    assert not retry_on_transient(None, None, state)
