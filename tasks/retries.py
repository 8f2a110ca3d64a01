"""Retry policy shared by I/O tasks: back off on connection errors, never on bad data."""

from __future__ import annotations

from sparkify.errors import is_transient

IO_RETRIES = 2
IO_RETRY_DELAYS = [1, 5]


def retry_on_transient(task, task_run, state) -> bool:
    """A Prefect retry_condition_fn: retry only when the failure was a connection problem."""
    try:
        state.result()
    except Exception as exc:  # the task's own exception, re-raised by the state
        return is_transient(exc)
    return False
