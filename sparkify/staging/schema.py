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
    max_bytes: int | None = None  # text: the bytes Redshift's VARCHAR holds (its DDL says why)


KEY, FREE_TEXT = 256, 1024  # VARCHAR bytes: codes and keys; names, titles, places, agents


@dataclass(frozen=True)
class StagingTable:
    name: str
    columns: tuple[Column, ...]
    after_load: tuple[str, ...] = ()  # statements that finish a load, on every engine

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def source_keys(self) -> tuple[str, ...]:
        return tuple(column.source_key for column in self.columns)


STAGING_EVENTS = StagingTable("staging_events", (
    Column("artist", TEXT, "artist", FREE_TEXT), Column("auth", TEXT, "auth", KEY),
    Column("first_name", TEXT, "firstName", KEY), Column("gender", TEXT, "gender", KEY),
    Column("item_in_session", BIGINT, "itemInSession"), Column("last_name", TEXT, "lastName", KEY),
    Column("length", FLOAT, "length"), Column("level", TEXT, "level", KEY),
    Column("location", TEXT, "location", FREE_TEXT), Column("method", TEXT, "method", KEY),
    Column("page", TEXT, "page", KEY), Column("registration", FLOAT, "registration"),
    Column("session_id", BIGINT, "sessionId"), Column("song", TEXT, "song", FREE_TEXT),
    Column("status", BIGINT, "status"), Column("ts", BIGINT, "ts"),
    Column("user_agent", TEXT, "userAgent", FREE_TEXT), Column("user_id", TEXT, "userId", KEY),
), after_load=("staging/trim_user_ids", "staging/trim_staging_events", "staging/canonical_user_ids"))
STAGING_SONGS = StagingTable("staging_songs", tuple(
    Column(name, kind, name, width) for name, kind, width in (
        ("num_songs", INT, None), ("artist_id", TEXT, KEY), ("artist_latitude", FLOAT, None),
        ("artist_longitude", FLOAT, None), ("artist_location", TEXT, FREE_TEXT),
        ("artist_name", TEXT, FREE_TEXT), ("song_id", TEXT, KEY), ("title", TEXT, FREE_TEXT),
        ("duration", FLOAT, None), ("year", INT, None),
    )), after_load=("staging/trim_staging_songs",))
STAGING_TABLES = (STAGING_EVENTS, STAGING_SONGS)

# The JSONPaths used when a --data directory has no log_json_path.json of its own.
DEFAULT_JSONPATHS = orjson.dumps(
    {"jsonpaths": [f"$['{key}']" for key in STAGING_EVENTS.source_keys]})
