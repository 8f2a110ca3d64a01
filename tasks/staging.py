"""Staging: load the discovered objects into staging_events and staging_songs."""

from __future__ import annotations

import time

from prefect.logging import get_run_logger

from sparkify.runtime import Runtime
from sparkify.staging.jsonpaths import load_jsonpaths
from sparkify.staging.mappers import SongsMapper, events_mapper
from sparkify.staging.schema import STAGING_EVENTS
from sparkify.store import SourceObject
from sparkify.warehouse.base import StageResult, StagingSource
from tasks.retries import io_task

PROGRESS_EVERY_SECONDS = 5.0


@io_task
def create_tables(runtime: Runtime) -> None:
    """Create the staging, bookkeeping and star tables that do not exist yet."""
    runtime.warehouse().create_tables()


@io_task
def stage_events(runtime: Runtime, objects: list[SourceObject], jsonpaths: SourceObject,
                 max_errors: int, run_id: str) -> StageResult:
    """Replace staging_events with the event objects, mapped through the JSONPaths file."""
    store = runtime.store()
    mapper = events_mapper(load_jsonpaths(store.read(jsonpaths.bucket, jsonpaths.key),
                                          jsonpaths.uri, STAGING_EVENTS))
    source = StagingSource(objects, mapper=mapper, jsonpaths_uri=jsonpaths.uri,
                           prefix_uri=runtime.sources.log_data)
    return _stage(runtime, "staging_events", source, max_errors, run_id)


@io_task
def stage_songs(runtime: Runtime, objects: list[SourceObject], max_errors: int,
                run_id: str) -> StageResult:
    """Replace staging_songs with the song objects, keys matched case-insensitively."""
    source = StagingSource(objects, mapper=SongsMapper(), prefix_uri=runtime.sources.song_data)
    return _stage(runtime, "staging_songs", source, max_errors, run_id)


def _stage(runtime: Runtime, table: str, source: StagingSource, max_errors: int,
           run_id: str) -> StageResult:
    logger = get_run_logger()
    started = time.monotonic()
    last_report = [started]

    def progress(objects_done: int, rows: int) -> None:
        now = time.monotonic()
        if now - last_report[0] >= PROGRESS_EVERY_SECONDS:
            last_report[0] = now
            logger.info("%s: %d/%d objects, %d rows, %.0f rows/s", table, objects_done,
                        len(source.objects), rows, rows / max(now - started, 1e-9))

    result = runtime.warehouse().stage(table, source, runtime.store(), max_errors=max_errors,
                                       run_id=run_id, progress=progress)
    logger.info("%s: %d rows from %d objects in %.2fs (%.0f rows/s)%s", table, result.rows,
                result.objects, result.seconds, result.rows / max(result.seconds, 1e-9),
                f", {len(result.errors)} malformed kept in load_errors" if result.errors else "")
    if result.unmapped_keys:
        logger.warning("%s: keys no column maps, not loaded: %s", table, "; ".join(
            f"{key!r} (first in {where})" for key, where in result.unmapped_keys.items()))
    return result
