"""The two reference points, measured on the rows a pipeline run has just loaded, and the
staging path measured alone.

- The COPY ceiling: PostgreSQL's own `COPY ... FROM STDIN` of a ready text file of
  staging_events (exported from the run), into an empty copy of the table, truncated and
  loaded in one transaction as staging does. Best of a few repeats.
- The row-by-row way of most public implementations: one `INSERT` per row, autocommit, into an
  empty copy (indexes and keys included) of every table of the contract, on the first `cap`
  rows of each; each table's rate is extrapolated to all of its rows. No parsing and no
  per-play song look-up are counted, so this is a lower bound for that way.
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
