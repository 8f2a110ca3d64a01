"""S3 discovery: what objects the run will load, and seeding the local emulator."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from prefect.logging import get_run_logger

from sparkify.errors import SourceError
from sparkify.local.emulator import seed
from sparkify.runtime import Runtime
from sparkify.staging.compression import LOADABLE_SUFFIXES, SUFFIX_PATTERN
from sparkify.staging.objects import split_loadable
from sparkify.store import S3Location, SourceObject
from tasks.artifacts import publish_table
from tasks.retries import io_task


@dataclass(frozen=True)
class DiscoveredSources:
    events: list[SourceObject]
    songs: list[SourceObject]
    jsonpaths: SourceObject | None
    left_out: list[tuple[SourceObject, str]] = field(default_factory=list)  # (object, why)
    rebuild: bool = False  # the star is rebuilt from these objects, as with --full-refresh
    recreate: bool = False  # ... in tables made again (a star built by an earlier version)

    @property
    def is_empty(self) -> bool:
        return not self.events and not self.songs


SHOWN_LEFT_OUT = 20  # objects not loaded named in the warning; the artifact lists them all
DAILY_LOG = re.compile(r"(\d{4})-(\d{2})-(\d{2})-events" + SUFFIX_PATTERN + "$")


@io_task
def seed_emulator(runtime: Runtime) -> int:
    """Upload the --data directory (the source layout) into the local S3 emulator."""
    root = Path(runtime.seed_dir)
    if not root.is_dir():
        raise SourceError(f"--data directory not found: {root}")
    missing = [name for name in ("log_data", "song_data") if not (root / name).is_dir()]
    if missing:
        raise SourceError(f"--data {root} has no {' or '.join(missing)}/ directory")
    seeded = seed(runtime.s3_endpoint, root)
    if seeded.default_jsonpaths:
        get_run_logger().info("%s has no log_json_path.json: using the project's default", root)
    if seeded.not_followed:
        get_run_logger().warning("--data %s: not followed: %s", root, "; ".join(seeded.not_followed))
    get_run_logger().info("seeded the S3 emulator with %d files from %s", seeded.files, root)
    return seeded.files


@io_task
def discover_sources(runtime: Runtime, start: date | None = None,
                     end: date | None = None) -> DiscoveredSources:
    """List the event and song objects, check the JSONPaths file, publish what was found.

    With a backfill window (`start`..`end`, inclusive) only the log objects of those days are
    listed, from the log_data/YYYY/MM/YYYY-MM-DD-events.json layout.
    """
    store = runtime.store()
    sources = runtime.sources
    logs, songs = S3Location.parse(sources.log_data), S3Location.parse(sources.song_data)
    jsonpaths = S3Location.parse(sources.log_jsonpath)
    for bucket in sorted({logs.bucket, songs.bucket, jsonpaths.bucket}):
        store.ensure_bucket(bucket)
    listed_events = _events_in_window(store, logs, start, end) if (start or end) else \
        store.list_objects(logs, suffix="")
    events, events_left_out = split_loadable(listed_events)
    songs_found, songs_left_out = split_loadable(store.list_objects(songs, suffix=""))
    found = DiscoveredSources(events, songs_found, _jsonpaths_object(store, jsonpaths),
                              events_left_out + songs_left_out)
    for name, objects, location in (("log_data", found.events, logs),
                                    ("song_data", found.songs, songs)):
        if not objects:
            raise SourceError(f"no .json objects under {location.uri}/ ({name} is empty or "
                              f"missing; {', '.join(LOADABLE_SUFFIXES[1:])} count too)")
    _publish(found, logs, songs)
    return found


def _events_in_window(store, logs: S3Location, start: date | None,
                      end: date | None) -> list[SourceObject]:
    if start is None or end is None or start > end:
        raise SourceError(f"a backfill needs --start <= --end, got {start} .. {end}")
    found: list[SourceObject] = []
    month = date(start.year, start.month, 1)
    while month <= end:
        found += [obj for obj in store.list_objects(logs.child(f"{month:%Y/%m}"), suffix="")
                  if start <= (_day_of(obj.key) or date.min) <= end]
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return found


def _day_of(key: str) -> date | None:
    """The day in a log_data/YYYY/MM/YYYY-MM-DD-events.json[.gz|.zst|.bz2] key, if any."""
    match = DAILY_LOG.search(key)
    try:
        return date(*map(int, match.groups())) if match else None
    except ValueError:
        return None


def _jsonpaths_object(store, location: S3Location) -> SourceObject:
    head = store.head(location.bucket, location.prefix)
    if head is None:
        raise SourceError(f"JSONPaths file not found: {location.uri}")
    return head


@io_task
def select_new_objects(runtime: Runtime, found: DiscoveredSources,
                       full_refresh: bool) -> DiscoveredSources:
    """Keep the objects that are new or changed since the load ledger last saw them."""
    if full_refresh:
        return found
    warehouse = runtime.warehouse()
    if warehouse.built_by_earlier_version():
        get_run_logger().warning("the star was built by an earlier version of the pipeline: "
                                 "its tables are made again and rebuilt from every object "
                                 "(docs/transform.md)")
        return replace(found, rebuild=True, recreate=True)
    ledger = warehouse.loaded_objects()
    if _jsonpaths_changed(found.jsonpaths, ledger):
        get_run_logger().warning("the JSONPaths file %s changed since the last load: every event "
                                 "means something else now, so the star is rebuilt from every "
                                 "object (as with --full-refresh)", found.jsonpaths.uri)
        return replace(found, rebuild=True)
    selected = replace(found, events=[o for o in found.events if ledger.get(o.uri) != o.etag],
                       songs=[o for o in found.songs if ledger.get(o.uri) != o.etag])
    rows = [{"objects": name, "found": len(all_), "new": sum(o.uri not in ledger for o in all_),
             "changed": sum(o.uri in ledger for o in new), "to load": len(new)}
            for name, all_, new in (("log_data", found.events, selected.events),
                                    ("song_data", found.songs, selected.songs))]
    publish_table(key="sparkify-ledger-delta", rows=rows,
                          description="Source objects new or changed since the last load")
    get_run_logger().info("to load: %d of %d event objects, %d of %d song objects (ledger)",
                          len(selected.events), len(found.events), len(selected.songs),
                          len(found.songs))
    return selected


def _jsonpaths_changed(jsonpaths: SourceObject | None, ledger: dict[str, str]) -> bool:
    """The mapping of events to columns changed: what was staged with the old one is stale.
    (The ledger records the JSONPaths file with the objects of each load.)"""
    return jsonpaths is not None and jsonpaths.uri in ledger and ledger[jsonpaths.uri] != jsonpaths.etag


def _publish(found: DiscoveredSources, logs: S3Location, songs: S3Location) -> None:
    rows = [
        {"object": logs.uri, "objects": len(found.events),
         "bytes": sum(o.size for o in found.events), "loaded": "yes"},
        {"object": songs.uri, "objects": len(found.songs),
         "bytes": sum(o.size for o in found.songs), "loaded": "yes"},
    ]
    rows += [{"object": obj.uri, "objects": 1, "bytes": obj.size, "loaded": f"no: {why}"}
             for obj, why in found.left_out]
    publish_table(key="sparkify-sources", rows=rows,
                          description=f"Source objects discovered on S3 ({len(found.left_out)} "
                                      "not loaded)")
    logger = get_run_logger()
    for row in rows[:2]:
        logger.info("found %(objects)d objects (%(bytes)d bytes) under %(object)s", row)
    if found.left_out:
        shown = "; ".join(f"{obj.uri} ({why})" for obj, why in found.left_out[:SHOWN_LEFT_OUT])
        more = len(found.left_out) - SHOWN_LEFT_OUT
        logger.warning("not loaded, %d objects: %s%s", len(found.left_out), shown,
                       f"; and {more} more (the sparkify-sources artifact lists them)"
                       if more > 0 else "")
