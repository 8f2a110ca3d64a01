"""The one retry policy: I/O tasks back off and retry on connection failures, never on bad data."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NONE

from sparkify.errors import is_transient
from sparkify.interrupts import interrupted

IO_RETRIES = 2
IO_RETRY_DELAYS = [1, 5]


def retry_on_transient(task, task_run, state) -> bool:
    """A Prefect retry_condition_fn: retry only when the failure was a connection problem, and
    never after a Ctrl-C (what fails then, e.g. a call to a stopped API, is its consequence)."""
    if interrupted():
        return False
    try:
        state.result()
    except Exception as exc:  # the task's own exception, re-raised by the state
        return is_transient(exc)
    return False


# Tasks take the runtime, which holds no client: nothing to hash, so no caching (NONE).
io_task = task(cache_policy=NONE, retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAYS,
               retry_condition_fn=retry_on_transient)
local_task = task(cache_policy=NONE)  # no I/O worth retrying
