"""Staging: load the discovered objects into staging_events and staging_songs."""

from __future__ import annotations

import time

from prefect.logging import get_run_logger

from sparkify.quality.gate import import_great_expectations_in_background
from sparkify.runtime import Runtime
from sparkify.warehouse.base import StageResult
from sparkify.warehouse.staging_jobs import staging_jobs
from tasks.discovery import DiscoveredSources
from tasks.retries import io_task, local_task

PROGRESS_EVERY_SECONDS = 5.0


@local_task
def check_max_errors(runtime: Runtime, max_errors: int) -> None:
    """Refuse, before anything is loaded, a --max-errors the engine's load cannot honour."""
    runtime.warehouse().check_max_errors(max_errors)


@io_task
def create_tables(runtime: Runtime) -> None:
    """Create the staging, bookkeeping and star tables that do not exist yet."""
    runtime.warehouse().create_tables()


@io_task
def stage_sources(runtime: Runtime, to_load: DiscoveredSources, max_errors: int,
                  run_id: str) -> list[StageResult]:
    """Replace staging_events (mapped through the JSONPaths file) and staging_songs (keys
    matched case-insensitively); the engine decides whether the two loads run side by side."""
    store = runtime.store()
    jobs = staging_jobs(store, events=to_load.events, songs=to_load.songs,
                        jsonpaths=to_load.jsonpaths, log_data=runtime.sources.log_data,
                        song_data=runtime.sources.song_data)
    # GX loads while the second load runs (the songs, which wait on S3 more than on this
    # process; on Redshift, while both run on the cluster).
    results = runtime.warehouse().stage_all(
        jobs, store, max_errors=max_errors, run_id=run_id,
        progress=lambda table: _progress(table, len(dict(jobs)[table].objects)),
        between=import_great_expectations_in_background)
    for result in results:
        _report(result)
    return results


def _progress(table: str, objects: int):
    logger = get_run_logger()
    started = time.monotonic()
    last_report = [started]

    def progress(objects_done: int, rows: int) -> None:
        now = time.monotonic()
        if now - last_report[0] >= PROGRESS_EVERY_SECONDS:
            last_report[0] = now
            logger.info("%s: %d/%d objects, %d rows, %.0f rows/s", table, objects_done,
                        objects, rows, rows / max(now - started, 1e-9))

    return progress


def _report(result: StageResult) -> None:
    get_run_logger().info(
        "%s: %d rows from %d objects in %.2fs (%.0f rows/s)%s", result.table, result.rows,
        result.objects, result.seconds, result.rows / max(result.seconds, 1e-9),
        f", {len(result.errors)} malformed kept in load_errors" if result.errors else "")
    if result.unmapped_keys:
        get_run_logger().warning("%s: keys no column maps, not loaded: %s", result.table, "; ".join(
            f"{key!r} (first in {where})" for key, where in result.unmapped_keys.items()))
