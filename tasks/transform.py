"""Transform: staging tables into the star schema, all five tables in one transaction."""

from __future__ import annotations

import time

from prefect import task
from prefect.cache_policies import NONE
from prefect.logging import get_run_logger

from sparkify.profiles import RuntimeSpec
from sparkify.sqllib import TRANSFORM_STEPS
from tasks.retries import IO_RETRIES, IO_RETRY_DELAYS, retry_on_transient


@task(cache_policy=NONE, retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAYS,
      retry_condition_fn=retry_on_transient)
def transform_star(spec: RuntimeSpec) -> dict[str, dict[str, float]]:
    """Run the star statements in order; any failure rolls every star table back."""
    logger = get_run_logger()
    warehouse = spec.warehouse()
    steps: dict[str, dict[str, float]] = {}
    with warehouse.transaction() as cur:
        for name in TRANSFORM_STEPS:
            started = time.perf_counter()
            rows = warehouse.run(cur, name)
            seconds = time.perf_counter() - started
            steps[name.split("/")[-1]] = {"rows": rows, "seconds": seconds}
            logger.info("%s: %d rows in %.2fs", name, rows, seconds)
        warehouse.analyze_star(cur)
    return steps
