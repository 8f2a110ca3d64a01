"""A warehouse built by an earlier version of the pipeline (its history in other tables, a
songplay without the title and artist its plays asked for) is recognized, and its next load
makes the star's tables again and rebuilds them from every object, in one transaction."""

from __future__ import annotations

import psycopg2
from pydantic import SecretStr

from sparkify.warehouse.postgres import PostgresWarehouse
from tests.conftest import query, small_dataset
from tests.loading import stage_and_transform, star_snapshot


def _execute(url: str, *statements: str) -> None:
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
    conn.close()


def test_a_star_of_an_earlier_version_is_made_again_on_its_next_load(warehouse_url, tmp_path):
    data = small_dataset(tmp_path)
    stage_and_transform(warehouse_url, data)
    expected = star_snapshot(warehouse_url)
    warehouse = PostgresWarehouse(SecretStr(warehouse_url))
    assert not warehouse.built_by_earlier_version()

    _execute(warehouse_url,  # the shape the previous version left
             "ALTER TABLE songplay DROP COLUMN song_title, DROP COLUMN artist_name",
             "CREATE TABLE songplay_source (user_id TEXT, session_key BIGINT, item_key BIGINT)")
    assert warehouse.built_by_earlier_version()

    stage_and_transform(warehouse_url, data, recreate=True)
    assert not warehouse.built_by_earlier_version()
    assert star_snapshot(warehouse_url) == expected
    assert query(warehouse_url, "SELECT to_regclass('songplay_source')") == [(None,)]


def test_users_without_a_history_are_an_earlier_version_too(warehouse_url, tmp_path):
    stage_and_transform(warehouse_url, small_dataset(tmp_path))
    _execute(warehouse_url, "DELETE FROM user_events")
    assert PostgresWarehouse(SecretStr(warehouse_url)).built_by_earlier_version()
