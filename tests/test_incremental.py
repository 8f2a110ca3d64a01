"""Incremental loads, backfills, full refreshes and the one-run-at-a-time lock."""

from __future__ import annotations

import threading
from datetime import date

import orjson
import pytest
from pydantic import SecretStr

from flows.main import elt
from sparkify.local.generator import GeneratorSpec, generate
from sparkify.warehouse.postgres import PostgresWarehouse as Warehouse
from tests.conftest import event, query, song, write_dataset
from tests.faults import wait_for

pytestmark = pytest.mark.usefixtures("prefect_harness")

SMALL = GeneratorSpec(songs=80, users=25, days=5, events_per_day=250, seed=7)
STAR_ORDERED = {
    "songplay": "SELECT start_time, user_id, level, song_id, artist_id, session_id, "
                "item_in_session, location, user_agent FROM songplay "
                "ORDER BY user_id, session_id, item_in_session",
    "users": "SELECT * FROM users ORDER BY user_id",
    "song": "SELECT * FROM song ORDER BY song_id",
    "artist": "SELECT * FROM artist ORDER BY artist_id",
    "time": "SELECT * FROM time ORDER BY start_time",
}


def run(data_dir, url, **options):
    return elt(data=str(data_dir), warehouse_url=SecretStr(url), **options)


def star(url) -> dict[str, list[tuple]]:
    """The star tables' contents; songplay without its surrogate key."""
    return {table: query(url, sql) for table, sql in STAR_ORDERED.items()}


def ledger_keys(url, run_id_of_latest: bool = False) -> list[str]:
    sql = "SELECT source_key FROM load_ledger"
    if run_id_of_latest:
        sql += " WHERE run_id = (SELECT run_id FROM load_ledger ORDER BY loaded_at DESC LIMIT 1)"
    return sorted(key for (key,) in query(url, sql))


@pytest.fixture
def fresh_url(databases) -> str:
    """A second empty database, for the full-reload reference."""
    return databases.create()


def test_incremental_run_stages_only_new_objects_and_equals_a_full_reload(
        tmp_path, warehouse_url, fresh_url):
    data = tmp_path / "data"
    generate(data, SMALL)
    run(data, warehouse_url)
    first_ledger = ledger_keys(warehouse_url)
    assert len(first_ledger) > 80  # every event and song object is in the ledger

    # a play that matched no song, and the user who played it
    user_id, title, artist, length = query(
        warehouse_url, "SELECT user_id, song, artist, length FROM user_events "
                       "JOIN songplay USING (user_id, session_id, item_in_session) "
                       "WHERE is_play AND songplay.song_id IS NULL ORDER BY 1, 2 LIMIT 1")[0]
    late_song = song("SOLATEARRIVAL0001", title, "ARLATE0000000001", artist, length)
    # a new day: that user changes level; the late song arrives in a new song file
    write_dataset(data, {"2018-11-06": [
        event(userId=user_id, level="free", ts=1541500000000, page="Home", sessionId=999),
        event(userId=user_id, level="paid", ts=1541500001000, itemInSession=1, sessionId=999,
              song=title, artist=artist, length=length),
    ]}, {"TRZZZZZ00001": [late_song]}, jsonpaths=False)

    summary = run(data, warehouse_url)
    assert summary.staged == {"staging_events": 2, "staging_songs": 1}
    new_objects = ledger_keys(warehouse_url, run_id_of_latest=True)
    assert new_objects == [  # the objects loaded, and the JSONPaths file they were read with
        "s3://sparkify-local/log_data/2018/11/2018-11-06-events.json",
        "s3://sparkify-local/log_json_path.json",
        "s3://sparkify-local/song_data/Z/Z/Z/TRZZZZZ00001.json",
    ]
    assert query(warehouse_url, "SELECT level FROM users WHERE user_id = %s", (user_id,)) == [
        ("paid",)]
    # every play of that title and artist, earlier ones included, now points at the late song
    matched = query(warehouse_url,
                    "SELECT DISTINCT songplay.song_id, songplay.artist_id FROM songplay "
                    "JOIN user_events AS src USING (user_id, session_id, item_in_session) "
                    "WHERE src.is_play AND src.song = %s AND src.artist = %s", (title, artist))
    assert matched == [("SOLATEARRIVAL0001", "ARLATE0000000001")]

    run(data, fresh_url)  # everything at once, on an empty warehouse
    assert star(warehouse_url) == star(fresh_url)


def test_an_older_backfilled_day_never_regresses_a_user(tmp_path, warehouse_url, fresh_url):
    songs = {"TRAAAAA1": [song("SO1", "A", "AR1", "X")]}
    write_dataset(tmp_path, {"2018-11-10": [event(userId="5", level="paid", ts=1541800000000)]},
                  songs)
    run(tmp_path, warehouse_url)
    write_dataset(tmp_path, {"2018-11-02": [event(userId="5", level="free", ts=1541120000000, page="Home",
                                                  firstName="Older")]}, {})
    run(tmp_path, warehouse_url, start=date(2018, 11, 2), end=date(2018, 11, 2))
    assert query(warehouse_url, "SELECT level, first_name FROM users") == [("paid", "Ann")]
    run(tmp_path, fresh_url)
    assert star(warehouse_url) == star(fresh_url)


def test_backfill_stages_exactly_the_days_of_the_range(tmp_path, warehouse_url):
    days = ["2018-11-29", "2018-11-30", "2018-12-01", "2018-12-02", "2018-12-03"]
    events = {day: [event(userId="1", itemInSession=i, ts=1543449600000 + i * 86_400_000)]
              for i, day in enumerate(days)}
    write_dataset(tmp_path, events, {"TRAAAAA1": [song("SO1", "A", "AR1", "X")]})
    (tmp_path / "log_data" / "2018" / "12" / "notes.json").write_text('{"page": "Home"}\n')
    summary = run(tmp_path, warehouse_url, start=date(2018, 11, 30), end=date(2018, 12, 2))
    assert summary.staged["staging_events"] == 3
    assert [k for k in ledger_keys(warehouse_url) if "log_data" in k] == [
        "s3://sparkify-local/log_data/2018/11/2018-11-30-events.json",
        "s3://sparkify-local/log_data/2018/12/2018-12-01-events.json",
        "s3://sparkify-local/log_data/2018/12/2018-12-02-events.json",
    ]


def test_rerun_with_nothing_new_changes_nothing_and_full_refresh_rebuilds(tmp_path, warehouse_url):
    generate(tmp_path, SMALL)
    run(tmp_path, warehouse_url)
    every = ("staging_events", "staging_songs", "load_ledger", "songplay")
    before = {t: query(warehouse_url, f"SELECT * FROM {t} ORDER BY 1, 2") for t in every}
    assert run(tmp_path, warehouse_url).staged == {}
    assert {t: query(warehouse_url, f"SELECT * FROM {t} ORDER BY 1, 2") for t in every} == before

    star_before = star(warehouse_url)
    refreshed = run(tmp_path, warehouse_url, full_refresh=True)
    assert refreshed.staged["staging_events"] == len(before["staging_events"])
    assert star(warehouse_url) == star_before
    assert query(warehouse_url, "SELECT MIN(songplay_id) FROM songplay") == [(1,)]


def test_a_second_run_waits_for_the_warehouse_lock(tmp_path, warehouse_url):
    write_dataset(tmp_path, {"2018-11-01": [event(userId="1", song="A", artist="X")]},
                  {"TRAAAAA1": [song("SO1", "A", "AR1", "X")]})
    holder = Warehouse(warehouse_url)
    outcome: dict = {}
    with holder.exclusive():
        worker = threading.Thread(target=lambda: outcome.update(summary=run(tmp_path, warehouse_url)))
        worker.start()
        wait_for(warehouse_url, "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = %s "
                 "AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
                 run_ended=lambda: not worker.is_alive(), timeout=120)
        assert worker.is_alive()  # waiting for the lock
        staged_tables = query(warehouse_url, "SELECT COUNT(*) FROM information_schema.tables "
                                             "WHERE table_name = 'songplay'")
        assert staged_tables == [(0,)]  # it has not even created the tables
    worker.join(timeout=120)
    assert outcome["summary"].rows["songplay"] == 1


def test_two_runs_at_once_never_interleave(tmp_path, warehouse_url):
    generate(tmp_path, SMALL)
    results: list = []

    def one_run() -> None:
        results.append(run(tmp_path, warehouse_url))

    workers = [threading.Thread(target=one_run) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert len(results) == 2
    assert sorted(bool(r.staged) for r in results) == [False, True]  # one loaded, one found nothing
    assert query(warehouse_url, "SELECT COUNT(*), COUNT(DISTINCT (user_id, session_id, "
                                "item_in_session)) FROM songplay")[0][0] == results[0].rows["songplay"]


COPY_A = event(userId="1", sessionId=1, itemInSession=0, ts=1541200000000, song="A", artist="X",
               length=200.0, level="free", location="Austin, TX")
COPY_B = event(userId="1", sessionId=1, itemInSession=0, ts=1541100000000, song="B", artist="Y",
               length=100.0, level="paid", location="Waco, TX")
OTHER = event(userId="2", sessionId=2, itemInSession=0, ts=1541150000000, song="A", artist="X")
COPY_SONGS = {"TRAAAAA1": [song("SO1", "A", "AR1", "X", 200.0)],
              "TRAAAAB2": [song("SO2", "B", "AR2", "Y", 100.0)]}


@pytest.mark.parametrize("first, second", [("2018-11-01", "2018-11-02"),
                                           ("2018-11-02", "2018-11-01")])
def test_the_same_play_in_two_objects_ends_the_same_whichever_is_loaded_first(
        tmp_path, warehouse_url, fresh_url, first, second):
    """The contract's rule: one play per (user, session, item), from its earliest copy (by ts).
    Loaded one object at a time, in either order, the star equals a full reload, and the play
    keeps the songplay_id it got first."""
    days = {"2018-11-01": [COPY_A, OTHER], "2018-11-02": [COPY_B]}
    write_dataset(tmp_path, {first: days[first]}, COPY_SONGS)
    run(tmp_path, warehouse_url)
    play_id = query(warehouse_url, "SELECT songplay_id FROM songplay WHERE user_id = '1'")
    write_dataset(tmp_path, {second: days[second]}, {})
    run(tmp_path, warehouse_url)
    run(tmp_path, fresh_url)

    assert star(warehouse_url) == star(fresh_url)
    assert query(warehouse_url, "SELECT song_id, level, location FROM songplay "
                                "WHERE user_id = '1'") == [("SO2", "paid", "Waco, TX")]
    assert query(warehouse_url, "SELECT songplay_id FROM songplay WHERE user_id = '1'") == play_id
    assert query(warehouse_url, "SELECT COUNT(*) FROM time") == [(2,)]


def test_a_changed_jsonpaths_file_stages_every_event_object_again(tmp_path, warehouse_url):
    write_dataset(tmp_path, {"2018-11-01": [event(userId="1", location="Austin, TX")],
                             "2018-11-02": [event(userId="2", ts=1541200000000)]}, COPY_SONGS)
    run(tmp_path, warehouse_url)
    assert run(tmp_path, warehouse_url).staged == {}  # nothing new
    # the same 18 paths, but location now reads the userAgent key
    paths = orjson.loads((tmp_path / "log_json_path.json").read_bytes())["jsonpaths"]
    paths[8] = "$['userAgent']"
    (tmp_path / "log_json_path.json").write_bytes(orjson.dumps({"jsonpaths": paths}))

    summary = run(tmp_path, warehouse_url)

    assert summary.staged == {"staging_events": 2, "staging_songs": 2}  # a rebuild: everything
    assert query(warehouse_url, "SELECT DISTINCT location FROM songplay") == [("Mozilla/5.0",)]
    assert run(tmp_path, warehouse_url).staged == {}  # and then nothing is new again
