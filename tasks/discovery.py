"""S3 discovery: what objects the run will load, and seeding the local emulator."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NONE
from prefect.logging import get_run_logger

from sparkify.errors import SourceError
from sparkify.local import EMULATOR_BUCKET
from sparkify.profiles import RuntimeSpec
from sparkify.storage import S3Location, SourceObject
from tasks.retries import IO_RETRIES, IO_RETRY_DELAYS, retry_on_transient


@dataclass(frozen=True)
class DiscoveredSources:
    events: list[SourceObject]
    songs: list[SourceObject]
    jsonpaths: SourceObject | None

    @property
    def total_bytes(self) -> int:
        return sum(o.size for o in self.events) + sum(o.size for o in self.songs)


@task(cache_policy=NONE, retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAYS,
      retry_condition_fn=retry_on_transient)
def seed_emulator(spec: RuntimeSpec, data_dir: str) -> int:
    """Upload a local directory in the source layout into the S3 emulator."""
    root = Path(data_dir)
    if not root.is_dir():
        raise SourceError(f"--data directory not found: {root}")
    missing = [name for name in ("log_data", "song_data") if not (root / name).is_dir()]
    if missing:
        raise SourceError(f"--data {root} has no {' or '.join(missing)}/ directory")
    count = spec.store().upload_tree(root, EMULATOR_BUCKET)
    if not (root / "log_json_path.json").is_file():
        from sparkify.records import DEFAULT_JSONPATHS

        spec.store().client.put_object(Bucket=EMULATOR_BUCKET, Key="log_json_path.json",
                                       Body=DEFAULT_JSONPATHS)
        get_run_logger().info("%s has no log_json_path.json: using the project's default", root)
    get_run_logger().info("seeded the S3 emulator with %d files from %s", count, root)
    return count


@task(cache_policy=NONE, retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAYS,
      retry_condition_fn=retry_on_transient)
def discover_sources(spec: RuntimeSpec) -> DiscoveredSources:
    """List the event and song objects, check the JSONPaths file, publish what was found."""
    store = spec.store()
    logs, songs = S3Location.parse(spec.log_data), S3Location.parse(spec.song_data)
    jsonpaths = S3Location.parse(spec.log_jsonpath)
    for bucket in sorted({logs.bucket, songs.bucket, jsonpaths.bucket}):
        store.ensure_bucket(bucket)
    found = DiscoveredSources(store.list_objects(logs), store.list_objects(songs),
                              _jsonpaths_object(store, jsonpaths))
    for name, objects, location in (("log_data", found.events, logs),
                                    ("song_data", found.songs, songs)):
        if not objects:
            raise SourceError(f"no .json objects under {location.uri}/ ({name} is empty or missing)")
    _publish(found, logs, songs)
    return found


def _jsonpaths_object(store, location: S3Location) -> SourceObject:
    head = store.head(location.bucket, location.prefix)
    if head is None:
        raise SourceError(f"JSONPaths file not found: {location.uri}")
    return head


def _publish(found: DiscoveredSources, logs: S3Location, songs: S3Location) -> None:
    rows = [
        {"prefix": logs.uri, "objects": len(found.events), "bytes": sum(o.size for o in found.events)},
        {"prefix": songs.uri, "objects": len(found.songs), "bytes": sum(o.size for o in found.songs)},
    ]
    create_table_artifact(key="sparkify-sources", table=rows,
                          description="Source objects discovered on S3")
    for row in rows:
        get_run_logger().info("found %(objects)d objects (%(bytes)d bytes) under %(prefix)s", row)
