"""A step that fills an empty table builds its indexes after the insert (PostgreSQL only):
the tables end with the indexes their DDL made, keys still enforced, and a failed transform
leaves them as they were. Real transform statements on a real PostgreSQL, without Prefect."""

from __future__ import annotations

import shutil

import psycopg2
import pytest

from sparkify.errors import WarehouseError
from sparkify.model import TABLE_FILLED_BY
from sparkify.sqllib import SQL_ROOT, SqlLibrary
from sparkify.warehouse.postgres import PostgresWarehouse
from tests.conftest import query
from tests.test_level_history import stage_and_transform, staged_event

INDEXES = "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' " \
          "AND tablename = ANY(%s) ORDER BY tablename, indexname"
TABLES = sorted(TABLE_FILLED_BY.values())


def failing_at(step: str, tmp_path) -> SqlLibrary:
    """The project's SQL with `step` replaced by an insert that breaks songplay's NOT NULL."""
    shutil.copytree(SQL_ROOT, tmp_path / "sql")
    (tmp_path / "sql" / f"{step}.sql").write_text(
        "INSERT INTO songplay (start_time, user_id) SELECT NULL, NULL")
    return SqlLibrary("postgres", tmp_path / "sql")


class Labels:
    """A Recorder that keeps the label of every statement sent (beside executing it)."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def connection_opened(self) -> int:
        return 1

    def statement(self, connection: int, label: str, sql: str, params: str) -> None:
        self.sent.append(label)

    def event(self, connection: int, what: str) -> None:
        pass

    def answer(self, label: str) -> list[tuple]:
        return []

    def flush(self) -> None:
        pass


def plays(count: int, start: int = 0) -> list[dict]:
    return [staged_event("7", 1541030400000 + n * 1000, n, "free", page="NextSong")
            for n in range(start, start + count)]


def test_a_first_load_ends_with_the_indexes_the_ddl_made(warehouse_url):
    warehouse = PostgresWarehouse(warehouse_url)
    warehouse.create_tables()
    made = query(warehouse_url, INDEXES, (TABLES,))
    assert {name for _, name, _ in made} >= {"songplay_pkey", "songplay_play_key",
                                              "user_events_identity", "time_pkey"}

    stage_and_transform(warehouse, plays(50))

    assert query(warehouse_url, INDEXES, (TABLES,)) == made
    assert query(warehouse_url, "SELECT COUNT(*) FROM songplay") == [(50,)]
    with pytest.raises(psycopg2.errors.UniqueViolation):  # the play key still holds
        query(warehouse_url, "INSERT INTO songplay (start_time, user_id, session_id, "
                             "item_in_session) SELECT start_time, user_id, session_id, "
                             "item_in_session FROM songplay LIMIT 1")


def test_a_later_load_keeps_the_indexes_up_row_by_row(warehouse_url):
    """Only an empty table is loaded without its indexes: the second load finds them there."""
    labels = Labels()
    warehouse = PostgresWarehouse(warehouse_url, recorder=labels)
    warehouse.create_tables()
    stage_and_transform(warehouse, plays(50))
    made = query(warehouse_url, INDEXES, (TABLES,))
    assert labels.sent.count("bulk/drop_indexes") == len(TABLES)
    assert labels.sent.count("bulk/build_indexes") == len(TABLES)
    labels.sent.clear()

    stage_and_transform(warehouse, plays(50, start=25))

    assert labels.sent.count("bulk/is_empty") == len(TABLES)
    assert "bulk/drop_indexes" not in labels.sent and "bulk/build_indexes" not in labels.sent
    assert query(warehouse_url, INDEXES, (TABLES,)) == made
    assert query(warehouse_url, "SELECT COUNT(*), COUNT(DISTINCT songplay_id) FROM songplay") \
        == [(75, 75)]


def test_a_transform_that_fails_without_the_indexes_leaves_them_as_they_were(
        warehouse_url, tmp_path):
    """songplay's insert fails while its indexes are dropped: all of it is rolled back."""
    warehouse = PostgresWarehouse(warehouse_url)
    warehouse.create_tables()
    made = query(warehouse_url, INDEXES, (TABLES,))
    warehouse.sql = failing_at("star/songplay", tmp_path)

    with pytest.raises(WarehouseError, match=r"star/songplay.sql failed: .*null value"):
        stage_and_transform(warehouse, plays(20))

    assert query(warehouse_url, INDEXES, (TABLES,)) == made
    assert query(warehouse_url, "SELECT COUNT(*) FROM user_events") == [(0,)]


def test_a_step_that_fails_after_other_tables_indexes_were_built_again_rolls_back_too(
        warehouse_url, tmp_path):
    """The last step (time) fails: the three tables before it had their indexes dropped and
    built again in the same transaction, time has its own dropped."""
    warehouse = PostgresWarehouse(warehouse_url)
    warehouse.create_tables()
    made = query(warehouse_url, INDEXES, (TABLES,))
    warehouse.sql = failing_at("star/time", tmp_path)

    with pytest.raises(WarehouseError, match=r"star/time.sql failed: .*null value"):
        stage_and_transform(warehouse, plays(20))

    assert query(warehouse_url, INDEXES, (TABLES,)) == made
    assert query(warehouse_url, "SELECT COUNT(*) FROM songplay") == [(0,)]
