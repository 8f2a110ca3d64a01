"""The fast layer's way to load: the real staging code and transform on one PostgreSQL, from a
directory in the S3 layout, without Prefect, the S3 emulator or the quality gates."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import psycopg2
from pydantic import SecretStr

from sparkify.local.files import LOCAL_BUCKET, LocalObjectStore
from sparkify.model import STAR_TABLES
from sparkify.staging.objects import split_loadable
from sparkify.store import S3Location
from sparkify.warehouse.base import StageResult
from sparkify.warehouse.postgres import PostgresWarehouse
from sparkify.warehouse.staging_jobs import staging_jobs

# Each star table's key columns, the order every snapshot lists its rows in.
ORDER = {"songplay": "user_id, session_id, item_in_session", "users": "user_id",
         "song": "song_id", "artist": "artist_id", "time": "start_time",
         "user_level_history": "user_id, valid_from"}


def stage_and_transform(url: str, root: Path, *, keys: Collection[str] | None = None,
                        max_errors: int = 0, rebuild: bool = False, recreate: bool = False,
                        schema: str = "public") -> list[StageResult]:
    """Stage the objects under `root` (or only those whose key is in `keys`) and fold them into
    the star in one transaction, as a run does after its staging gate has passed."""
    store = LocalObjectStore(root)
    warehouse = PostgresWarehouse(SecretStr(url), schema)
    warehouse.create_tables()

    def listed(prefix: str):
        found, _ = split_loadable(store.list_objects(S3Location(LOCAL_BUCKET, prefix), suffix=""))
        return [obj for obj in found if keys is None or obj.key in keys]

    jobs = staging_jobs(store, events=listed("log_data/"), songs=listed("song_data/"),
                        jsonpaths=store.head(LOCAL_BUCKET, "log_json_path.json"),
                        log_data=f"s3://{LOCAL_BUCKET}/log_data", song_data=f"s3://{LOCAL_BUCKET}/song_data")
    results = warehouse.stage_all(jobs, store, max_errors=max_errors, run_id="test")
    with warehouse.transaction() as cur:
        warehouse.transform(cur, rebuild=rebuild, recreate=recreate)
    return results


def star_snapshot(url: str, *, ids: bool = True, schema: str = "public",
                  also: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Every row of the six star tables, in key order, and of the tables in `also`, in the
    order of all their columns; `ids=False` leaves songplay_id out."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            snapshot = {}
            for table in STAR_TABLES:
                cur.execute(f"SELECT * FROM {schema}.{table} ORDER BY {ORDER[table]}")
                rows = cur.fetchall()
                snapshot[table] = [row[1:] for row in rows] if table == "songplay" and not ids else rows
            for table in also:
                cur.execute(f"SELECT * FROM {schema}.{table} AS whole ORDER BY whole")
                snapshot[table] = cur.fetchall()
            return snapshot
    finally:
        conn.close()
