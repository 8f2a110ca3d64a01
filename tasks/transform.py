"""Transform: the staged rows into the history and the six star tables, in one transaction."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone

from prefect.logging import get_run_logger

from sparkify.errors import QualityGateError, WarehouseError
from sparkify.runtime import Runtime
from sparkify.warehouse.base import StageResult
from tasks.discovery import DiscoveredSources
from tasks.retries import io_task


@io_task
def transform_star(runtime: Runtime, loaded: DiscoveredSources, staged: list[StageResult],
                   full_refresh: bool, run_id: str,
                   before_commit: Callable[[], object] | None = None) -> dict[str, dict[str, float]]:
    """Run the star statements in order and record the ledger; a failure rolls all of it back.

    `before_commit` is called last, inside the transaction: the flow passes the verdict of the
    staging gate running beside the transform, so a failed gate rolls the transform back.
    """
    logger = get_run_logger()
    warehouse = runtime.warehouse()
    steps: dict[str, dict[str, float]] = {}
    transaction_started = time.perf_counter()
    try:
        with warehouse.transaction() as cur:
            warehouse.transform(cur, rebuild=full_refresh or loaded.rebuild,
                                recreate=loaded.recreate,
                                on_step=lambda name, rows, seconds: _note_step(steps, name, rows,
                                                                               seconds, logger))
            warehouse.record_loaded(cur, _ledger_rows(loaded, staged, run_id))
            warehouse.analyze_star(cur)
            waited = _wait_for(before_commit, logger)
    except WarehouseError as failure:
        _raise_the_gates_verdict(before_commit, failure)
        raise
    committed = time.perf_counter() - transaction_started - waited
    logger.info("transform committed in %.2fs, after %.2fs waiting for the staging gate",
                committed, waited, extra={"transform_seconds": committed, "gate_wait_seconds": waited})
    return steps


def _note_step(steps: dict, name: str, rows: int, seconds: float, logger) -> None:
    steps[name.split("/")[-1]] = {"rows": rows, "seconds": seconds}
    logger.info("%s: %d rows in %.2fs", name, rows, seconds)


def _raise_the_gates_verdict(before_commit: Callable[[], object] | None,
                             failure: WarehouseError) -> None:
    """A statement failed: when the staging gate beside it fails too, its message names the
    rule the data broke, so that is the one the user sees (the transform's error is its cause)."""
    if before_commit is None:
        return
    try:
        before_commit()
    except QualityGateError as verdict:
        raise verdict from failure


def _wait_for(before_commit: Callable[[], object] | None, logger) -> float:
    if before_commit is None:
        return 0.0
    logger.info("star statements done: committing once the staging checks have passed")
    started = time.perf_counter()
    try:
        before_commit()
    except BaseException as exc:
        verdict = "did not pass" if isinstance(exc, QualityGateError) else "gave no verdict"
        logger.warning("the staging checks %s: the transform is rolled back", verdict)
        raise
    return time.perf_counter() - started


def _ledger_rows(loaded: DiscoveredSources, staged: list[StageResult], run_id: str) -> list[tuple]:
    rows_by_key = {key: rows for result in staged for key, rows in result.rows_by_key.items()}
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    mapping = [loaded.jsonpaths] if loaded.jsonpaths is not None else []  # to see it change
    return [(obj.uri, obj.etag, obj.size, rows_by_key.get(obj.key), run_id, loaded_at)
            for obj in (*loaded.events, *loaded.songs, *mapping)]
