"""The reference points, measured on the rows a pipeline run has just loaded, and the
staging path measured alone.

- The COPY ceiling: PostgreSQL's own `COPY ... FROM STDIN` of a ready text file of
  staging_events (exported from the run), into an empty copy of the table, truncated and
  loaded in one transaction as staging does. Best of a few repeats.
- The row-by-row way of most public implementations: one `INSERT` per row, autocommit, into an
  empty copy (indexes and keys included) of every table of the contract, on the first `cap`
  rows of each; each table's rate is extrapolated to all of its rows. No parsing and no
  per-play song look-up are counted, so this is a lower bound for that way.
- The naive transform: the original project's five INSERT ... SELECT statements on the same
  staged rows, into empty copies of the star tables' columns, without keys and with the
  description's keys (songplay_id an IDENTITY primary key, a primary key on each dimension).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg2


class LocalFiles:
    """The read side of the object store, over a local directory in the S3 layout."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def objects(self, prefix: str) -> list:
        from sparkify.store import SourceObject

        paths = sorted(p for p in (self.root / prefix).rglob("*.json") if p.is_file())
        return [SourceObject("local", p.relative_to(self.root).as_posix(), "", p.stat().st_size)
                for p in paths]

    def read(self, bucket: str, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def stream(self, bucket: str, key: str):
        yield self.read(bucket, key)


def staging_alone(url: str, data_dir: Path) -> dict:
    """Warehouse.stage of the events straight from local files: no S3, no songs load beside it,
    no Prefect; what the staging path itself sustains on this server."""
    from sparkify.staging.schema import DEFAULT_JSONPATHS, STAGING_EVENTS
    from sparkify.staging.mappers import events_mapper
    from sparkify.staging.jsonpaths import load_jsonpaths
    from sparkify.warehouse.base import StagingSource
    from sparkify.warehouse.postgres import PostgresWarehouse
    from pydantic import SecretStr

    files = LocalFiles(data_dir)
    jsonpaths = data_dir / "log_json_path.json"
    document = jsonpaths.read_bytes() if jsonpaths.is_file() else DEFAULT_JSONPATHS
    mapper = events_mapper(load_jsonpaths(document, str(jsonpaths), STAGING_EVENTS))
    source = StagingSource(files.objects("log_data"), mapper=mapper, prefix_uri="local")
    started = time.process_time()
    children = _children_cpu()
    result = PostgresWarehouse(SecretStr(url)).stage("staging_events", source, files, max_errors=0,
                                                     run_id="bench")
    return {"rows": result.rows, "seconds": result.seconds,
            "rows_per_second": result.rows / result.seconds,
            "cpu_seconds_main": time.process_time() - started,
            "cpu_seconds_workers": _children_cpu() - children}


def _children_cpu() -> float:
    import os

    times = os.times()
    return times.children_user + times.children_system


ROWWISE_TABLES = ("staging_events", "staging_songs", "songplay", "users", "song", "artist", "time")
SCRATCH_SCHEMA = "bench_anchor"


@dataclass
class Ceiling:
    rows: int
    seconds: list[float]

    @property
    def best_rows_per_second(self) -> float:
        return self.rows / min(self.seconds)

    def as_dict(self) -> dict:
        return {**asdict(self), "best_rows_per_second": self.best_rows_per_second}


@dataclass
class RowwiseTable:
    table: str
    rows: int  # rows the run loaded into the table
    sampled: int  # rows inserted one by one
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.sampled / self.seconds if self.seconds else float("inf")

    @property
    def extrapolated_seconds(self) -> float:
        return self.rows / self.rows_per_second if self.sampled else 0.0


def copy_ceiling(url: str, work_dir: Path, repeats: int = 3) -> Ceiling:
    path = work_dir / "staging_events.copy"
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur, path.open("wb") as out:
            cur.copy_expert("COPY staging_events TO STDOUT", out, size=1 << 20)
            cur.execute("SELECT COUNT(*) FROM staging_events")
            rows = cur.fetchone()[0]
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {SCRATCH_SCHEMA}")
            cur.execute(f"CREATE TABLE {SCRATCH_SCHEMA}.ceiling (LIKE public.staging_events)")
        conn.commit()
        seconds = []
        for _ in range(repeats):
            started = time.perf_counter()
            with conn.cursor() as cur, path.open("rb") as data:
                cur.execute(f"TRUNCATE {SCRATCH_SCHEMA}.ceiling")
                cur.copy_expert(f"COPY {SCRATCH_SCHEMA}.ceiling FROM STDIN", data, size=1 << 20)
            conn.commit()
            seconds.append(time.perf_counter() - started)
        with conn.cursor() as cur:
            cur.execute(f"DROP TABLE {SCRATCH_SCHEMA}.ceiling")
        conn.commit()
    finally:
        conn.close()
        path.unlink(missing_ok=True)
    return Ceiling(rows, seconds)


def row_by_row(url: str, cap: int) -> list[RowwiseTable]:
    conn = psycopg2.connect(url)
    conn.autocommit = True  # as the public implementations do: every INSERT commits
    measured = []
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {SCRATCH_SCHEMA}")
            for table in ROWWISE_TABLES:
                measured.append(_insert_one_by_one(cur, table, cap))
            cur.execute(f"DROP SCHEMA {SCRATCH_SCHEMA} CASCADE")
    finally:
        conn.close()
    return measured


def _insert_one_by_one(cur, table: str, cap: int) -> RowwiseTable:
    cur.execute(f"SELECT COUNT(*) FROM public.{table}")
    total = cur.fetchone()[0]
    cur.execute(f"CREATE TABLE {SCRATCH_SCHEMA}.{table} (LIKE public.{table} INCLUDING ALL)")
    cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = 'public'"
                " AND table_name = %s AND is_identity = 'NO' ORDER BY ordinal_position", (table,))
    columns = [name for (name,) in cur.fetchall()]
    names = ", ".join(columns)
    cur.execute(f"SELECT {names} FROM public.{table} LIMIT %s", (cap,))
    rows = cur.fetchall()
    insert = (f"INSERT INTO {SCRATCH_SCHEMA}.{table} ({names}) "
              f"VALUES ({', '.join(['%s'] * len(columns))})")
    started = time.perf_counter()
    for row in rows:
        cur.execute(insert, row)
    return RowwiseTable(table, total, len(rows), time.perf_counter() - started)


# The original project's five INSERT ... SELECT statements (its description, /docs), on the
# staging tables as the run left them; `{s}` is the scratch schema.
NAIVE_STATEMENTS = {
    "songplay": """INSERT INTO {s}.songplay (start_time, user_id, level, song_id, artist_id,
                       session_id, item_in_session, location, user_agent)
        SELECT TIMESTAMP 'epoch' + e.ts / 1000.0 * INTERVAL '1 second', e.user_id, e.level,
               s.song_id, s.artist_id, e.session_id, e.item_in_session, e.location, e.user_agent
        FROM public.staging_events AS e
        LEFT JOIN public.staging_songs AS s ON e.song = s.title AND e.artist = s.artist_name
        WHERE e.page = 'NextSong' AND e.user_id IS NOT NULL AND e.ts IS NOT NULL""",
    "users": """INSERT INTO {s}.users (user_id, first_name, last_name, gender, level)
        SELECT DISTINCT user_id, first_name, last_name, gender, level
        FROM public.staging_events WHERE page = 'NextSong' AND user_id IS NOT NULL""",
    "song": """INSERT INTO {s}.song (song_id, title, artist_id, year, duration)
        SELECT DISTINCT song_id, title, artist_id, year, duration
        FROM public.staging_songs WHERE song_id IS NOT NULL""",
    "artist": """INSERT INTO {s}.artist (artist_id, name, location, latitude, longitude)
        SELECT DISTINCT artist_id, artist_name, artist_location, artist_latitude, artist_longitude
        FROM public.staging_songs WHERE artist_id IS NOT NULL""",
    "time": """INSERT INTO {s}.time (start_time, hour, day, week, month, year, weekday)
        SELECT DISTINCT start_time, EXTRACT(HOUR FROM start_time), EXTRACT(DAY FROM start_time),
               EXTRACT(WEEK FROM start_time), EXTRACT(MONTH FROM start_time),
               EXTRACT(YEAR FROM start_time), EXTRACT(DOW FROM start_time)
        FROM {s}.songplay""",
}
NAIVE_TABLES = tuple(NAIVE_STATEMENTS)


# The description's keys: songplay_id an IDENTITY primary key, a primary key on each
# dimension. Not the project's play key or other indexes: those are its own costs.
DESCRIPTION_KEYS = {"songplay": "songplay_id", "users": "user_id", "song": "song_id",
                    "artist": "artist_id", "time": "start_time"}


@dataclass
class NaiveTransform:
    keys: bool  # the description's keys (DESCRIPTION_KEYS) or none
    seconds: float  # the five statements and the commit
    statements: dict[str, float]
    rows: dict[str, int]


def naive_transform(url: str, keys: bool) -> NaiveTransform:
    """The five naive statements in one transaction, into empty copies of the star tables'
    columns: without any key, or with the description's keys. Their SELECT DISTINCT removes
    duplicates, as the description's statements do; with keys, a row that would still break
    one (a user seen at two levels) is skipped (ON CONFLICT DO NOTHING), which is as little as
    the keys ask for."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            _naive_tables(cur, keys)
        conn.commit()
        statements, rows = {}, {}
        started = time.perf_counter()
        with conn.cursor() as cur:
            for table, sql in NAIVE_STATEMENTS.items():
                began = time.perf_counter()
                cur.execute(sql.format(s=SCRATCH_SCHEMA) + (" ON CONFLICT DO NOTHING" if keys else ""))
                statements[table], rows[table] = time.perf_counter() - began, cur.rowcount
        conn.commit()
        seconds = time.perf_counter() - started
        with conn.cursor() as cur:
            cur.execute(f"DROP SCHEMA {SCRATCH_SCHEMA} CASCADE")
        conn.commit()
    finally:
        conn.close()
    return NaiveTransform(keys, seconds, statements, rows)


def _naive_tables(cur, keys: bool) -> None:
    cur.execute(f"CREATE SCHEMA IF NOT EXISTS {SCRATCH_SCHEMA}")
    for table in NAIVE_TABLES:
        identity = " INCLUDING IDENTITY" if keys else ""
        cur.execute(f"CREATE TABLE {SCRATCH_SCHEMA}.{table} "
                    f"(LIKE public.{table} INCLUDING DEFAULTS{identity})")
        if keys:
            cur.execute(f"ALTER TABLE {SCRATCH_SCHEMA}.{table} ADD PRIMARY KEY ({DESCRIPTION_KEYS[table]})")
    if not keys:  # no identity to fill it: the column goes (LIKE keeps its NOT NULL)
        cur.execute(f"ALTER TABLE {SCRATCH_SCHEMA}.songplay DROP COLUMN songplay_id")
