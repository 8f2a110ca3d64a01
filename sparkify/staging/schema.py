"""The staging tables: the one definition of their columns, kinds and source keys.

The DDL (sql/*/ddl/staging_*.sql), the default JSONPaths, the generator, the expectations and
the tests all follow this list; tests/test_staging_schema.py checks that they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import orjson

TEXT, INT, BIGINT, FLOAT = "text", "int", "bigint", "float"


class Column(NamedTuple):
    name: str  # the staging column
    kind: str  # TEXT, INT, BIGINT or FLOAT
    source_key: str  # the key in the source JSON


@dataclass(frozen=True)
class StagingTable:
    name: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def source_keys(self) -> tuple[str, ...]:
        return tuple(column.source_key for column in self.columns)


STAGING_EVENTS = StagingTable("staging_events", (
    Column("artist", TEXT, "artist"), Column("auth", TEXT, "auth"),
    Column("first_name", TEXT, "firstName"), Column("gender", TEXT, "gender"),
    Column("item_in_session", INT, "itemInSession"), Column("last_name", TEXT, "lastName"),
    Column("length", FLOAT, "length"), Column("level", TEXT, "level"),
    Column("location", TEXT, "location"), Column("method", TEXT, "method"),
    Column("page", TEXT, "page"), Column("registration", FLOAT, "registration"),
    Column("session_id", INT, "sessionId"), Column("song", TEXT, "song"),
    Column("status", INT, "status"), Column("ts", BIGINT, "ts"),
    Column("user_agent", TEXT, "userAgent"), Column("user_id", TEXT, "userId"),
))
STAGING_SONGS = StagingTable("staging_songs", tuple(Column(name, kind, name) for name, kind in (
    ("num_songs", INT), ("artist_id", TEXT), ("artist_latitude", FLOAT),
    ("artist_longitude", FLOAT), ("artist_location", TEXT), ("artist_name", TEXT),
    ("song_id", TEXT), ("title", TEXT), ("duration", FLOAT), ("year", INT),
)))
STAGING_TABLES = (STAGING_EVENTS, STAGING_SONGS)

# The JSONPaths used when a --data directory has no log_json_path.json of its own.
DEFAULT_JSONPATHS = orjson.dumps(
    {"jsonpaths": [f"$['{key}']" for key in STAGING_EVENTS.source_keys]})
