"""Tests of the deterministic Sparkify-like data set generator (sparkify/local/generator.py)."""
from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from sparkify.local.generator import (
    EVENT_KEYS, LOG_JSON_PATH, SONG_KEYS, GeneratedSummary, GeneratorSpec, generate, main,
)

SONG_PATH = re.compile(r"song_data/([A-Z])/([A-Z])/([A-Z])/TR\1\2\3[A-Z0-9]{13}\.json")
LOG_PATH = re.compile(r"log_data/(\d{4})/(\d{2})/\1-\2-(\d{2})-events\.json")
SAMPLE = Path(__file__).resolve().parents[2] / "shared/data/udacity-sample"
SMALL = GeneratorSpec(songs=60, users=20, days=3, events_per_day=300)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def records(path: Path) -> list[dict]:
    lines = path.read_text(encoding="utf-8").split("\n")
    objects = [json.loads(line) for line in lines]
    assert all(isinstance(o, dict) for o in objects), path
    return objects


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GeneratedSummary]:
    out = tmp_path_factory.mktemp("generated")
    return out, generate(out)  # the default spec: 300 songs, 60 users, 30 days


@pytest.fixture(scope="module")
def events(dataset) -> dict[Path, list[dict]]:
    out, _ = dataset
    return {p: records(p) for p in sorted((out / "log_data").rglob("*.json"))}


@pytest.fixture(scope="module")
def songs(dataset) -> dict[Path, list[dict]]:
    out, _ = dataset
    return {p: records(p) for p in sorted((out / "song_data").rglob("*.json"))}


def all_events(events: dict[Path, list[dict]]) -> list[dict]:
    return [e for file_events in events.values() for e in file_events]


def all_songs(songs: dict[Path, list[dict]]) -> list[dict]:
    return [s for file_songs in songs.values() for s in file_songs]


def test_same_spec_gives_byte_identical_files_and_another_seed_does_not(tmp_path: Path) -> None:
    assert generate(tmp_path / "a", SMALL) == generate(tmp_path / "b", SMALL)
    generate(tmp_path / "c", replace(SMALL, seed=7))
    a, b, c = (tree(tmp_path / name) for name in "abc")
    assert a == b
    assert set(a) != set(c)  # other track ids
    first_day = "log_data/2018/11/2018-11-01-events.json"
    assert a[first_day] != c[first_day]


def test_layout_is_the_s3_one_with_zero_padded_dates(tmp_path: Path) -> None:
    spec = GeneratorSpec(songs=60, users=20, days=5, events_per_day=50, start=date(2018, 12, 29))
    generate(tmp_path, spec)
    files = sorted(tree(tmp_path))
    logs = [f for f in files if f.startswith("log_data/")]
    assert logs == ["log_data/2018/12/2018-12-29-events.json",
                    "log_data/2018/12/2018-12-30-events.json",
                    "log_data/2018/12/2018-12-31-events.json",
                    "log_data/2019/01/2019-01-01-events.json",
                    "log_data/2019/01/2019-01-02-events.json"]
    assert all(LOG_PATH.fullmatch(f) for f in logs)
    song_files = [f for f in files if f.startswith("song_data/")]
    assert song_files and all(SONG_PATH.fullmatch(f) for f in song_files), song_files[:3]
    assert set(files) == {*logs, *song_files, "log_json_path.json"}


def test_refuses_a_directory_that_already_holds_a_data_set(tmp_path: Path) -> None:
    generate(tmp_path, SMALL)
    with pytest.raises(FileExistsError):
        generate(tmp_path, SMALL)


def test_every_event_line_has_exactly_the_18_keys_in_order(events) -> None:
    for path, file_events in events.items():
        for e in file_events:
            assert tuple(e) == EVENT_KEYS, (path, e)
            assert isinstance(e["userId"], str) and isinstance(e["ts"], int)
            assert isinstance(e["sessionId"], int) and isinstance(e["itemInSession"], int)


def test_event_lines_look_like_the_real_ones(dataset) -> None:
    out, _ = dataset
    raw = (out / "log_data/2018/11/2018-11-01-events.json").read_bytes()
    assert raw.isascii() and not raw.endswith(b"\n") and b"\n\n" not in raw
    assert b'"userAgent":"\\"Mozilla\\/5.0 (' in raw  # embedded quotes, escaped slashes
    assert re.search(rb'"registration":1\d{12}\.0,', raw)
    assert b'"length":null' in raw and b'"artist":null' in raw
    assert re.search(rb'"userId":"\d+"}', raw)


def test_ts_increases_within_each_file_and_stays_in_its_utc_day(events) -> None:
    for path, file_events in events.items():
        day = date.fromisoformat(path.name[:10])
        stamps = [e["ts"] for e in file_events]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps), path
        days = {datetime.fromtimestamp(t / 1000, tz=timezone.utc).date() for t in stamps}
        assert days == {day}, path


def test_sessions_count_items_from_zero(events) -> None:
    items: dict[int, list[int]] = defaultdict(list)
    for e in all_events(events):
        items[e["sessionId"]].append(e["itemInSession"])
    assert all(seq == list(range(len(seq))) for seq in items.values())


def test_page_mix_is_dominated_by_next_song(events) -> None:
    evs = all_events(events)
    plays = [e for e in evs if e["page"] == "NextSong"]
    assert len(plays) / len(evs) > 0.6
    assert {"Home", "Logout", "Login", "Settings", "Help", "About", "Upgrade", "Downgrade",
            "Submit Upgrade", "Error", "Thumbs Up", "Add to Playlist", "Roll Advert"} <= {
        e["page"] for e in evs}
    assert all(e["artist"] and e["song"] and e["length"] > 0 and e["method"] == "PUT"
               and e["status"] == 200 and e["userId"] for e in plays)
    others = [e for e in evs if e["page"] != "NextSong"]
    assert all(e["artist"] is None and e["song"] is None and e["length"] is None for e in others)
    assert {(e["method"], e["status"]) for e in evs if e["page"] == "Error"} == {("GET", 404)}
    assert {(e["method"], e["status"]) for e in evs if e["page"].startswith("Submit")} == {
        ("PUT", 307)}


def test_logged_out_visitors_have_no_identity(events) -> None:
    anonymous = [e for e in all_events(events) if e["auth"] != "Logged In"]
    assert anonymous and {e["auth"] for e in anonymous} <= {"Logged Out", "Guest"}
    assert {e["page"] for e in anonymous} <= {"Home", "Login", "About", "Help"}
    for e in anonymous:
        assert e["userId"] == "" and e["level"] == "free"
        assert [e[k] for k in ("firstName", "lastName", "gender", "location", "userAgent",
                               "registration")] == [None] * 6
    logged_in = [e for e in all_events(events) if e["auth"] == "Logged In"]
    assert all(e["userId"] and e["firstName"] and e["gender"] in ("M", "F") for e in logged_in)


def test_users_have_both_levels_and_some_switch_after_submitting(events) -> None:
    levels: dict[str, list[str]] = defaultdict(list)
    for e in sorted(all_events(events), key=lambda e: e["ts"]):
        if e["userId"]:
            levels[e["userId"]].append(e["level"])
    assert {lv[0] for lv in levels.values()} == {"free", "paid"}
    assert any(set(lv) == {"free", "paid"} for lv in levels.values())
    after_upgrade = {}
    for e in sorted(all_events(events), key=lambda e: e["ts"]):
        if e["userId"] in after_upgrade and after_upgrade[e["userId"]] is None:
            after_upgrade[e["userId"]] = e["level"]
        if e["page"] == "Submit Upgrade":
            assert e["level"] == "free"
            after_upgrade[e["userId"]] = None
    assert after_upgrade and "paid" in after_upgrade.values()


def test_most_plays_match_a_catalogue_song_with_its_duration(events, songs) -> None:
    durations = defaultdict(set)
    for s in all_songs(songs):
        durations[(s["title"], s["artist_name"])].add(s["duration"])
    plays = [e for e in all_events(events) if e["page"] == "NextSong"]
    matched = [e for e in plays if (e["song"], e["artist"]) in durations]
    assert 0.8 < len(matched) / len(plays) < 1.0
    assert all(e["length"] in durations[(e["song"], e["artist"])] for e in matched)


def test_song_files_have_the_10_keys_and_real_looking_ids(songs) -> None:
    for path, file_songs in songs.items():
        for s in file_songs:
            assert tuple(s) == SONG_KEYS, path
            assert re.fullmatch(r"SO[A-Z0-9]{16}", s["song_id"])
            assert re.fullmatch(r"AR[A-Z0-9]{16}", s["artist_id"])
            assert s["num_songs"] == 1 and s["duration"] > 0 and isinstance(s["year"], int)
    assert any(len(file_songs) == 2 for file_songs in songs.values())
    assert sum(len(file_songs) == 1 for file_songs in songs.values()) > 0.9 * len(songs)


def test_catalogue_has_the_quirks_of_the_real_data(songs) -> None:
    catalogue = all_songs(songs)
    assert 0.25 < sum(s["year"] == 0 for s in catalogue) / len(catalogue) < 0.55
    assert 0.45 < sum(s["artist_latitude"] is None for s in catalogue) / len(catalogue) < 0.75
    assert all((s["artist_latitude"] is None) == (s["artist_longitude"] is None)
               for s in catalogue)
    assert any(s["artist_location"] == "" for s in catalogue)
    by_artist, by_title, by_pair = defaultdict(set), defaultdict(set), defaultdict(set)
    for s in catalogue:
        by_artist[s["artist_id"]].add(s["song_id"])
        by_title[s["title"]].add(s["artist_id"])
        by_pair[(s["title"], s["artist_name"])].add((s["song_id"], s["duration"]))
    assert len({s["song_id"] for s in catalogue}) == len(catalogue)
    assert any(len(ids) >= 3 for ids in by_artist.values())
    assert any(len(artists) >= 2 for artists in by_title.values())
    duplicates = [v for v in by_pair.values() if len(v) >= 2]
    assert duplicates and all(len({d for _, d in v}) == len(v) for v in duplicates)


def test_summary_counts_what_is_on_disk(dataset, events, songs) -> None:
    _, summary = dataset
    evs = all_events(events)
    assert summary == GeneratedSummary(
        song_files=len(songs), songs=len(all_songs(songs)), event_files=len(events),
        events=len(evs), plays=sum(e["page"] == "NextSong" for e in evs))
    assert summary.songs == 300 and summary.event_files == 30
    assert 0.99 * 30 * 400 < summary.events <= 30 * 400


def test_daily_volume_varies_around_events_per_day(events) -> None:
    sizes = [len(v) for v in events.values()]
    assert len(set(sizes)) > 1 and all(0.6 * 400 < n < 1.4 * 400 for n in sizes)


def test_log_json_path_lists_the_event_keys(dataset) -> None:
    out, _ = dataset
    text = (out / "log_json_path.json").read_text()
    assert text == LOG_JSON_PATH
    assert json.loads(text)["jsonpaths"] == [f"$['{k}']" for k in EVENT_KEYS]
    if (SAMPLE / "log_json_path.json").exists():  # the real file, when the sample is at hand
        assert text == (SAMPLE / "log_json_path.json").read_text()


@pytest.mark.parametrize("events, songs, users, days", [
    (1_000, 50, 20, 30), (1_000_000, 10_000, 1_000, 30), (10_000_000, 100_000, 10_000, 50),
    (100_000_000, 100_000, 20_000, 500)])
def test_for_events_sizes_in_proportion(events: int, songs: int, users: int, days: int) -> None:
    spec = GeneratorSpec.for_events(events, seed=3)
    assert (spec.songs, spec.users, spec.days, spec.seed) == (songs, users, days, 3)
    assert spec.events_per_day <= 200_000
    assert abs(spec.events_per_day * spec.days - events) <= spec.days


def test_for_events_total_is_close_to_the_request(tmp_path: Path) -> None:
    summary = generate(tmp_path, GeneratorSpec.for_events(30_000))
    assert 0.99 * 30_000 < summary.events <= 30_000  # a rare session is cut at midnight


def test_invalid_sizes_are_rejected() -> None:
    with pytest.raises(ValueError):
        GeneratorSpec(days=0)


def test_cli_prints_a_one_line_summary(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main([str(tmp_path / "out"), "--songs", "50", "--users", "20", "--days", "2",
                 "--events-per-day", "100", "--seed", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and "50 songs" in lines[0] and "2 event files" in lines[0]
    assert tree(tmp_path / "out") == tree_of(tmp_path / "api", GeneratorSpec(
        songs=50, users=20, days=2, events_per_day=100, seed=5))
    assert main([str(tmp_path / "out"), "--events", "2000"]) == 1  # already generated there
    assert "error:" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(tmp_path / "other"), "--events", "2000", "--songs", "10"])


def tree_of(out: Path, spec: GeneratorSpec) -> dict[str, bytes]:
    generate(out, spec)
    return tree(out)
