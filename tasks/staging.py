"""Staging: load the discovered objects into staging_events and staging_songs."""

from __future__ import annotations

import time

from prefect import task
from prefect.cache_policies import NONE
from prefect.logging import get_run_logger

from sparkify.profiles import RuntimeSpec
from sparkify.records import STAGING_EVENTS, SongsMapper, events_mapper, load_jsonpaths
from sparkify.storage import SourceObject
from sparkify.warehouse import StageResult, StagingSource
from tasks.retries import IO_RETRIES, IO_RETRY_DELAYS, retry_on_transient

PROGRESS_EVERY_SECONDS = 5.0


@task(cache_policy=NONE, retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAYS,
      retry_condition_fn=retry_on_transient)
def create_tables(spec: RuntimeSpec) -> None:
    """Create the staging, bookkeeping and star tables that do not exist yet."""
    spec.warehouse().create_tables()


@task(cache_policy=NONE, retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAYS,
      retry_condition_fn=retry_on_transient)
def stage_events(spec: RuntimeSpec, objects: list[SourceObject], jsonpaths: SourceObject,
                 max_errors: int, run_id: str) -> StageResult:
    """Replace staging_events with the event objects, mapped through the JSONPaths file."""
    store = spec.store()
    mapper = events_mapper(load_jsonpaths(store.read(jsonpaths.bucket, jsonpaths.key),
                                          jsonpaths.uri, STAGING_EVENTS))
    source = StagingSource(objects, mapper=mapper, jsonpaths_uri=jsonpaths.uri,
                           prefix_uri=spec.log_data)
    return _stage(spec, "staging_events", source, max_errors, run_id)


@task(cache_policy=NONE, retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAYS,
      retry_condition_fn=retry_on_transient)
def stage_songs(spec: RuntimeSpec, objects: list[SourceObject], max_errors: int,
                run_id: str) -> StageResult:
    """Replace staging_songs with the song objects, keys matched case-insensitively."""
    source = StagingSource(objects, mapper=SongsMapper(), prefix_uri=spec.song_data)
    return _stage(spec, "staging_songs", source, max_errors, run_id)


def _stage(spec: RuntimeSpec, table: str, source: StagingSource, max_errors: int,
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

    result = spec.warehouse().stage(table, source, spec.store(), max_errors=max_errors,
                                    run_id=run_id, progress=progress)
    logger.info("%s: %d rows from %d objects in %.2fs (%.0f rows/s)%s", table, result.rows,
                result.objects, result.seconds, result.rows / max(result.seconds, 1e-9),
                f", {len(result.errors)} malformed kept in load_errors" if result.errors else "")
    return result
