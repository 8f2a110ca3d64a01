"""What a load stages into each staging table: the one place that pairs objects with a mapper."""

from __future__ import annotations

from collections.abc import Sequence

from sparkify.staging.jsonpaths import load_jsonpaths
from sparkify.staging.mappers import SongsMapper, events_mapper
from sparkify.staging.schema import STAGING_EVENTS
from sparkify.store import ObjectStore, SourceObject
from sparkify.warehouse.base import StagingSource


def staging_jobs(store: ObjectStore, *, events: Sequence[SourceObject],
                 songs: Sequence[SourceObject], jsonpaths: SourceObject, log_data: str,
                 song_data: str) -> list[tuple[str, StagingSource]]:
    """staging_events mapped through the JSONPaths file, staging_songs by key name
    (case-insensitively); `log_data` and `song_data` are the prefixes they were listed under."""
    mapper = events_mapper(load_jsonpaths(store.read(jsonpaths.bucket, jsonpaths.key),
                                          jsonpaths.uri, STAGING_EVENTS))
    return [("staging_events", StagingSource(events, mapper=mapper, jsonpaths_uri=jsonpaths.uri,
                                             prefix_uri=log_data)),
            ("staging_songs", StagingSource(songs, mapper=SongsMapper(), prefix_uri=song_data))]
