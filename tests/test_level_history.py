"""user_level_history maintained incrementally: whatever the order and grouping of the loads,
the periods equal a full reload and an independent computation in Python.

Each case runs the real transform statements (sparkify.model.TRANSFORM_STEPS) on a real
PostgreSQL, one schema per way of loading, without Prefect: fast enough for many orders.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from sparkify.model import TRANSFORM_STEPS
from sparkify.staging.schema import STAGING_EVENTS
from sparkify.warehouse.postgres import PostgresWarehouse
from tests.conftest import query

DAY = 86_400_000
T0 = 1541030400000  # 2018-11-01 00:00 UTC
COLUMNS = STAGING_EVENTS.column_names
HISTORY = "SELECT user_id, level, valid_from, valid_to FROM {schema}.user_level_history " \
          "ORDER BY user_id, valid_from"


def staged_event(user_id: str, ts: int, item: int, level: str, session: int = 1,
                 page: str = "Home") -> dict:
    return {"user_id": user_id, "ts": ts, "item_in_session": item, "session_id": session,
            "level": level, "page": page, "first_name": "Ann", "auth": "Logged In"}


def load(url: str, schema: str, batches: list[list[dict]]) -> PostgresWarehouse:
    """Stage each batch in turn and run the transform on it, as successive runs do."""
    warehouse = PostgresWarehouse(url, schema)
    warehouse.create_tables()
    for batch in batches:
        stage_and_transform(warehouse, batch)
    return warehouse


def stage_and_transform(warehouse: PostgresWarehouse, events: list[dict]) -> None:
    """Stage `events` and run every transform step on them, in one transaction."""
    with warehouse.transaction() as cur:
        warehouse.run(cur, "staging/clear_staging_events")
        cur.insert_rows(f"INSERT INTO staging_events ({', '.join(COLUMNS)}) VALUES %s",
                        [tuple(event.get(c) for c in COLUMNS) for event in events],
                        label="test/stage")
        for step in TRANSFORM_STEPS:
            warehouse.run_step(cur, step)


def history(url: str, schema: str) -> list[tuple]:
    return query(url, HISTORY.format(schema=schema))


def expected_periods(events: list[dict]) -> list[tuple]:
    """The periods computed in Python: at each millisecond, the level of the user's last event
    by (itemInSession, sessionId, level); a period starts where that level changes."""
    by_user: dict[str, set] = {}
    for e in events:
        if e["user_id"] and e["level"]:
            by_user.setdefault(e["user_id"], set()).add(
                (e["ts"], e["item_in_session"], e["session_id"], e["level"]))
    periods = []
    for user_id in sorted(by_user):
        level_at = {ts: level for ts, _, _, level in sorted(by_user[user_id])}
        starts: list[tuple[int, str]] = []
        for ts in sorted(level_at):
            if not starts or starts[-1][1] != level_at[ts]:
                starts.append((ts, level_at[ts]))
        ends = [ts for ts, _ in starts[1:]] + [None]
        periods += [(user_id, level, _at(ts), _at(end)) for (ts, level), end in zip(starts, ends)]
    return periods


def _at(ts: int | None) -> datetime | None:
    return None if ts is None else datetime(1970, 1, 1) + timedelta(milliseconds=ts)


# ---- the user of the issue: upgrades, downgrades, upgrades again; an older day loaded late --

DAY_1 = [staged_event("7", T0 + 9 * 3_600_000, 0, "free")]
DAY_2 = [staged_event("7", T0 + DAY + 12 * 3_600_000, 0, "paid", session=2)]
DAY_3 = [staged_event("7", T0 + 2 * DAY + 10 * 3_600_000, 0, "free", session=3),
         staged_event("7", T0 + 2 * DAY + 18 * 3_600_000, 1, "paid", session=3)]


def test_an_older_day_loaded_late_splits_the_period_it_falls_in(warehouse_url):
    load(warehouse_url, "late", [DAY_1 + DAY_3])
    assert history(warehouse_url, "late") == [
        ("7", "free", _at(DAY_1[0]["ts"]), _at(DAY_3[1]["ts"])),
        ("7", "paid", _at(DAY_3[1]["ts"]), None),
    ]

    load(warehouse_url, "late", [DAY_2])
    assert history(warehouse_url, "late") == [
        ("7", "free", _at(DAY_1[0]["ts"]), _at(DAY_2[0]["ts"])),
        ("7", "paid", _at(DAY_2[0]["ts"]), _at(DAY_3[0]["ts"])),
        ("7", "free", _at(DAY_3[0]["ts"]), _at(DAY_3[1]["ts"])),
        ("7", "paid", _at(DAY_3[1]["ts"]), None),
    ]
    load(warehouse_url, "reload", [DAY_1 + DAY_2 + DAY_3])
    assert history(warehouse_url, "late") == history(warehouse_url, "reload")
    assert query(warehouse_url, "SELECT level FROM late.users") == [("paid",)]


def test_reloading_the_same_events_changes_nothing(warehouse_url):
    load(warehouse_url, "again", [DAY_1 + DAY_2 + DAY_3])
    before = history(warehouse_url, "again")
    kept = query(warehouse_url, "SELECT COUNT(*) FROM again.user_events")

    load(warehouse_url, "again", [DAY_2, DAY_1 + DAY_2 + DAY_3])

    assert history(warehouse_url, "again") == before
    assert query(warehouse_url, "SELECT COUNT(*) FROM again.user_events") == kept == [(4,)]


def test_events_of_one_millisecond_count_as_their_last_and_events_without_a_level_not_at_all(
        warehouse_url):
    ts = T0 + 3_600_000
    load(warehouse_url, "ties", [[
        staged_event("8", ts, 0, "free"),
        staged_event("8", ts + 1000, 3, "paid"),
        staged_event("8", ts + 1000, 4, "free"),  # same millisecond, later item: still free
        staged_event("8", ts + 2000, 5, ""),  # names no level: no period, no change
    ]])
    assert history(warehouse_url, "ties") == [("8", "free", _at(ts), None)]

    load(warehouse_url, "ties", [[staged_event("8", ts + 1000, 6, "paid")]])  # later still

    assert history(warehouse_url, "ties") == [("8", "free", _at(ts), _at(ts + 1000)),
                                              ("8", "paid", _at(ts + 1000), None)]


# ---- incremental equals a full reload, whatever the order of the loads -------------------

def random_events(rng: random.Random) -> list[dict]:
    """Three users over six days: random levels, some events sharing a millisecond."""
    events = []
    for user_id in ("1", "2", "3"):
        ts = T0 + rng.randrange(DAY)
        for item in range(rng.randrange(4, 14)):
            ts += rng.choice((0, 1, 60_000, 3_600_000, DAY // 2))
            events.append(staged_event(user_id, ts, item, rng.choice(("free", "paid", "paid")),
                                       session=ts // DAY))
    return events


@pytest.mark.parametrize("seed", range(6))
def test_any_order_of_loads_equals_a_full_reload_and_the_python_reference(warehouse_url, seed):
    rng = random.Random(seed)
    events = random_events(rng)
    days = sorted({e["ts"] // DAY for e in events})
    rng.shuffle(days)
    batches = [[e for e in events if e["ts"] // DAY == day] for day in days]
    batches.insert(rng.randrange(len(batches)), rng.sample(events, len(events) // 3))  # a rerun

    load(warehouse_url, "incremental", batches)
    load(warehouse_url, "reload", [events])

    assert history(warehouse_url, "incremental") == history(warehouse_url, "reload") \
        == expected_periods(events)
    current_levels = query(warehouse_url, "SELECT user_id, level FROM incremental.user_level_history "
                                          "WHERE valid_to IS NULL ORDER BY user_id")
    assert current_levels == query(warehouse_url, "SELECT user_id, level FROM reload.users "
                                                  "ORDER BY user_id")
