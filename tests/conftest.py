"""Shared fixtures: a real PostgreSQL (embedded, or SPARKIFY_TEST_DATABASE_URL), a fresh
database per test, Prefect's test harness, and helpers that write source data sets."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterable

import orjson
import psycopg2
import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_SAMPLE = PROJECT_ROOT.parent / "shared" / "data" / "udacity-sample"
requires_shared_sample = pytest.mark.skipif(
    not SHARED_SAMPLE.is_dir(),
    reason=f"the real sample is not at {SHARED_SAMPLE} (../shared is absent in this checkout)",
)


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory) -> Iterable[str]:
    """A maintenance-database URL of a real PostgreSQL server."""
    external = os.environ.get("SPARKIFY_TEST_DATABASE_URL")
    if external:
        yield external
        return
    from sparkify.local import EmbeddedPostgres

    # pgserver's socket lives in the data directory: keep its path short.
    data_dir = Path("/tmp") / f"sparkify-test-pg-{os.getpid()}"
    with EmbeddedPostgres(data_dir=data_dir, database="postgres") as server:
        yield server.url


def _with_database(server_url: str, database: str) -> str:
    base, _, query = server_url.partition("?")
    base = base.rsplit("/", 1)[0] + "/" + database
    return f"{base}?{query}" if query else base


@pytest.fixture
def warehouse_url(postgres_server_url) -> Iterable[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(postgres_server_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(postgres_server_url, name)
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def query(url: str, sql: str, params=None) -> list[tuple]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def snapshot(url: str, tables: Iterable[str]) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    return {t: query(url, f"SELECT * FROM {t} ORDER BY 1, 2, 3") for t in tables}


# ---- writing source data sets ------------------------------------------------------------

EVENT_DEFAULTS = {
    "artist": None, "auth": "Logged In", "firstName": "Ann", "gender": "F", "itemInSession": 0,
    "lastName": "Lee", "length": None, "level": "free", "location": "Austin, TX", "method": "PUT",
    "page": "NextSong", "registration": 1540919166796.0, "sessionId": 1, "song": None,
    "status": 200, "ts": 1541105830796, "userAgent": "Mozilla/5.0", "userId": "1",
}


def event(**fields) -> dict:
    """An event with realistic defaults; keys as in the source (camelCase)."""
    return {**EVENT_DEFAULTS, **fields}


def song(song_id: str, title: str, artist_id: str, artist_name: str, duration: float = 200.0,
         **fields) -> dict:
    record = {"num_songs": 1, "artist_id": artist_id, "artist_latitude": None,
              "artist_longitude": None, "artist_location": "", "artist_name": artist_name,
              "song_id": song_id, "title": title, "duration": duration, "year": 2000}
    return {**record, **fields}


def _line(record) -> bytes:
    return record if isinstance(record, bytes) else orjson.dumps(record)


def write_dataset(root: Path, events: dict[str, list], songs: dict[str, list],
                  jsonpaths: bool = True, newline: bytes = b"\n") -> Path:
    """Write `{day: [event, ...]}` to log_data/ and `{track: [song, ...]}` to song_data/.

    Records may be dicts (serialized) or raw bytes (written as they are, for malformed lines).
    """
    for day, records in events.items():
        path = root / "log_data" / day[:4] / day[5:7] / f"{day}-events.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(newline.join(_line(r) for r in records) + newline)
    for track, records in songs.items():
        path = root / "song_data" / track[2] / track[3] / track[4] / f"{track}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\n".join(_line(r) for r in records) + b"\n")
    if jsonpaths:
        from sparkify.records import DEFAULT_JSONPATHS

        (root / "log_json_path.json").write_bytes(DEFAULT_JSONPATHS)
    return root
