"""The embedded PostgreSQL carries its bulk-load settings, also when started on an older data
directory whose settings differ (they are put back at each start, without a restart)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import psycopg2
import pytest

from sparkify.local.postgres import BULK_LOAD_SETTINGS, EmbeddedPostgres


def setting(url: str, name: str) -> str:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting(%s)", (name,))
            return cur.fetchone()[0]
    finally:
        conn.close()


@pytest.mark.skipif(bool(os.environ.get("SPARKIFY_TEST_DATABASE_URL")),
                    reason="the embedded server is not used when SPARKIFY_TEST_DATABASE_URL is set")
def test_the_embedded_server_has_its_bulk_load_settings_at_every_start():
    data_dir = Path("/tmp") / f"sparkify-test-pgset-{os.getpid()}"
    with EmbeddedPostgres(data_dir=data_dir, database="postgres") as server:
        assert {name: setting(server.url, name) for name in BULK_LOAD_SETTINGS} == BULK_LOAD_SETTINGS
        conn = psycopg2.connect(server.url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("ALTER SYSTEM SET max_wal_size = '1GB'")
            cur.execute("SELECT pg_reload_conf()")
        conn.close()
    try:
        with EmbeddedPostgres(data_dir=data_dir, database="postgres") as server:
            assert setting(server.url, "max_wal_size") == BULK_LOAD_SETTINGS["max_wal_size"]
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
