"""Every rule of the contract's Semantics section, on small hand-made data with known answers.

Each test stages the files with the real staging code and folds them into the star with the
real transform, on one PostgreSQL (tests/loading.py): no Prefect, no S3 emulator, no gates. The
whole flow over the same rules runs in tests/test_incremental.py and tests/test_command.py.
"""

from __future__ import annotations

from datetime import datetime

from tests.conftest import event, query, song, write_dataset
from tests.loading import stage_and_transform, star_snapshot

TS = 1541105830796  # 2018-11-01 20:57:10.796 UTC, a Thursday


def run(data_dir, url):
    """The staged rows per staging table."""
    return {result.table: result.rows for result in stage_and_transform(url, data_dir)}


def rows(url, sql):
    return query(url, sql)


def test_one_songplay_per_nextsong_event_with_user(tmp_path, warehouse_url):
    events = [
        event(userId="1", itemInSession=0, page="Home", ts=TS),
        event(userId="1", itemInSession=1, song="A", artist="X", length=100.0, ts=TS + 1),
        event(userId="", auth="Logged Out", itemInSession=2, song="A", artist="X", ts=TS + 2),
        event(userId="2", itemInSession=0, sessionId=9, song="Unknown", artist="Nobody", ts=TS + 3),
    ]
    write_dataset(tmp_path, {"2018-11-01": events}, {"TRAAAAA1": [song("SO1", "A", "AR1", "X", 100.0)]})
    run(tmp_path, warehouse_url)
    plays = rows(warehouse_url, "SELECT user_id, song_id, artist_id FROM songplay ORDER BY user_id")
    assert plays == [("1", "SO1", "AR1"), ("2", None, None)]  # unmatched play kept, with NULLs


def test_users_take_latest_event_across_all_pages(tmp_path, warehouse_url):
    events = [
        event(userId="7", level="free", firstName="Old", ts=TS, itemInSession=0, song="A"),
        event(userId="7", level="paid", firstName="New", ts=TS + 5000, itemInSession=1,
              page="Submit Upgrade"),
        # same millisecond: the higher itemInSession is the later event
        event(userId="8", level="paid", ts=TS, itemInSession=3, song="A"),
        event(userId="8", level="free", ts=TS, itemInSession=4, page="Home"),
        event(userId="9", level="free", page="Home", ts=TS),  # a user with no plays
    ]
    write_dataset(tmp_path, {"2018-11-01": events}, {"TRAAAAA1": [song("SO1", "A", "AR1", "X")]})
    run(tmp_path, warehouse_url)
    users = rows(warehouse_url, "SELECT user_id, first_name, level FROM users ORDER BY user_id")
    assert users == [("7", "New", "paid"), ("8", "Ann", "free"), ("9", "Ann", "free")]
    # the play keeps the level the user had when playing
    assert rows(warehouse_url, "SELECT level FROM songplay WHERE user_id = '7'") == [("free",)]


def test_same_title_by_different_artists_matches_the_right_artist(tmp_path, warehouse_url):
    events = [
        event(userId="1", itemInSession=0, song="Home", artist="Alpha", length=200.0),
        event(userId="1", itemInSession=1, song="Home", artist="Beta", length=200.0, ts=TS + 1),
    ]
    songs = {"TRAAAAA1": [song("SOA", "Home", "ARA", "Alpha")],
             "TRAAAAB1": [song("SOB", "Home", "ARB", "Beta")]}
    write_dataset(tmp_path, {"2018-11-01": events}, songs)
    run(tmp_path, warehouse_url)
    assert rows(warehouse_url, "SELECT item_in_session, song_id, artist_id FROM songplay "
                               "ORDER BY item_in_session") == [(0, "SOA", "ARA"), (1, "SOB", "ARB")]


def test_several_matching_songs_pick_closest_duration_then_smallest_id(tmp_path, warehouse_url):
    events = [
        event(userId="1", itemInSession=0, song="Twin", artist="Duo", length=201.0),
        event(userId="1", itemInSession=1, song="Tie", artist="Duo", length=100.0, ts=TS + 1),
    ]
    songs = {
        "TRAAAAA1": [song("SO3", "Twin", "AR1", "Duo", 180.0)],
        "TRAAAAB1": [song("SO2", "Twin", "AR1", "Duo", 200.0)],  # closest to 201
        "TRAAAAC1": [song("SO1", "Twin", "AR1", "Duo", 230.0)],
        "TRAAAAD1": [song("SO9", "Tie", "AR1", "Duo", 90.0)],
        "TRAAAAE1": [song("SO8", "Tie", "AR1", "Duo", 110.0)],  # equally close: smallest id
    }
    write_dataset(tmp_path, {"2018-11-01": events}, songs)
    run(tmp_path, warehouse_url)
    assert rows(warehouse_url, "SELECT item_in_session, song_id FROM songplay "
                               "ORDER BY item_in_session") == [(0, "SO2"), (1, "SO8")]
    assert rows(warehouse_url, "SELECT COUNT(*) FROM songplay") == [(2,)]  # never two rows


def test_same_millisecond_plays_by_two_users_share_one_time_row(tmp_path, warehouse_url):
    events = [event(userId="1", song="A", artist="X"), event(userId="2", song="A", artist="X")]
    write_dataset(tmp_path, {"2018-11-01": events}, {"TRAAAAA1": [song("SO1", "A", "AR1", "X")]})
    run(tmp_path, warehouse_url)
    assert rows(warehouse_url, "SELECT COUNT(*) FROM songplay") == [(2,)]
    assert rows(warehouse_url, "SELECT * FROM time") == [
        (datetime(2018, 11, 1, 20, 57, 10, 796000), 20, 1, 44, 11, 2018, 4)
    ]


def test_time_parts_iso_week_and_sunday_zero(tmp_path, warehouse_url):
    sunday_new_year = 1546300799999  # 2018-12-31 23:59:59.999, a Monday in ISO week 1 of 2019
    sunday = 1543708800000  # 2018-12-02 00:00:00.000, a Sunday
    events = [event(userId="1", ts=sunday_new_year, song="A"),
              event(userId="1", ts=sunday, itemInSession=1, song="A")]
    write_dataset(tmp_path, {"2018-12-02": events}, {"TRAAAAA1": [song("SO1", "B", "AR1", "X")]})
    run(tmp_path, warehouse_url)
    assert rows(warehouse_url, "SELECT * FROM time ORDER BY start_time") == [
        (datetime(2018, 12, 2, 0, 0), 0, 2, 48, 12, 2018, 0),
        (datetime(2018, 12, 31, 23, 59, 59, 999000), 23, 31, 1, 12, 2018, 1),
    ]


def test_empty_strings_become_null(tmp_path, warehouse_url):
    events = [event(userId="1", song="A", artist="X", location="", userAgent="", gender="")]
    songs = {"TRAAAAA1": [song("SO1", "A", "AR1", "X", artist_location="")]}
    write_dataset(tmp_path, {"2018-11-01": events}, songs)
    run(tmp_path, warehouse_url)
    assert rows(warehouse_url, "SELECT location, user_agent FROM songplay") == [(None, None)]
    assert rows(warehouse_url, "SELECT gender FROM users") == [(None,)]
    assert rows(warehouse_url, "SELECT location FROM artist") == [(None,)]


def test_crlf_blank_lines_unicode_quotes_backslashes(tmp_path, warehouse_url):
    tricky = 'Björk "Live" \\ Ünïcødé\ttab — 東京'
    events = [event(userId="1", song=tricky, artist="SSand \\o/", location='Nice, "FR"'), b"",
              b"   ", event(userId="2", itemInSession=1, song="B")]
    songs = {"TRAAAAA1": [song("SO1", tricky, "AR1", "SSand \\o/")]}
    write_dataset(tmp_path, {"2018-11-01": events}, songs, newline=b"\r\n")
    assert run(tmp_path, warehouse_url)["staging_events"] == 2
    assert rows(warehouse_url, "SELECT title FROM song") == [(tricky,)]
    assert rows(warehouse_url, "SELECT song_id, location FROM songplay WHERE user_id = '1'") == [
        ("SO1", 'Nice, "FR"')]


def test_two_songs_in_one_file_and_keys_matched_case_insensitively(tmp_path, warehouse_url):
    upper = {key.upper(): value for key, value in song("SO2", "B", "AR2", "Y").items()}
    songs = {"TRAAAAA1": [song("SO1", "A", "AR1", "X"), upper]}
    write_dataset(tmp_path, {"2018-11-01": [event(userId="1", song="B", artist="Y")]}, songs)
    run(tmp_path, warehouse_url)
    assert rows(warehouse_url, "SELECT song_id, title, artist_id FROM song ORDER BY 1") == [
        ("SO1", "A", "AR1"), ("SO2", "B", "AR2")]
    assert rows(warehouse_url, "SELECT song_id FROM songplay") == [("SO2",)]


def test_repeated_song_and_artist_ids_pick_deterministically(tmp_path, warehouse_url):
    songs = {
        "TRAAAAA1": [song("SO1", "A", "AR1", "Zed", year=0, artist_location="")],
        "TRAAAAB1": [song("SO1", "A", "AR1", "Zed", year=1999, artist_location="Oslo")],
        "TRAAAAC1": [song("SO2", "C", "AR1", "Ant", artist_location="Oslo")],
    }
    write_dataset(tmp_path, {"2018-11-01": [event(userId="1", song="A", artist="Zed")]}, songs)
    run(tmp_path, warehouse_url)
    assert rows(warehouse_url, "SELECT song_id, year FROM song ORDER BY 1") == [
        ("SO1", 1999), ("SO2", 2000)]
    # most complete record first (a location), then the smallest name
    assert rows(warehouse_url, "SELECT artist_id, name, location FROM artist") == [
        ("AR1", "Ant", "Oslo")]
    assert rows(warehouse_url, "SELECT COUNT(*) FROM songplay") == [(1,)]


def test_duplicate_event_is_one_play_and_rerun_changes_nothing(tmp_path, warehouse_url):
    play = event(userId="1", song="A", artist="X", length=200.0)
    events = {"2018-11-01": [play, event(userId="2", song="Z", itemInSession=4)],
              "2018-11-02": [play]}  # the same event in two objects
    write_dataset(tmp_path, events, {"TRAAAAA1": [song("SO1", "A", "AR1", "X")]})
    run(tmp_path, warehouse_url)
    before = star_snapshot(warehouse_url)
    assert len(before["songplay"]) == 2
    run(tmp_path, warehouse_url)
    assert star_snapshot(warehouse_url) == before  # songplay_id included


def test_late_song_fills_existing_play_and_keeps_its_id(tmp_path, warehouse_url):
    events = {"2018-11-01": [event(userId="1", song="Late", artist="X")]}
    write_dataset(tmp_path, events, {"TRAAAAA1": [song("SO1", "Other", "AR1", "X")]})
    run(tmp_path, warehouse_url)
    first = rows(warehouse_url, "SELECT songplay_id, song_id FROM songplay")
    assert first[0][1] is None
    write_dataset(tmp_path, {}, {"TRAAAAB1": [song("SO2", "Late", "AR1", "X")]})
    run(tmp_path, warehouse_url)
    assert rows(warehouse_url, "SELECT songplay_id, song_id FROM songplay") == [(first[0][0], "SO2")]
