"""The transform's property: any partition of the sources, loaded in any order, ends as a full
load of them all, and as a small Python oracle of the contract's semantics says after every load.

Generated data has what makes incremental loads hard: days that arrive late, songs that arrive
after their plays, the same play in two objects with different ts and details, users who change
level several times, several events of a user in one millisecond, songs and artists repeated
with different details, titles several songs share; and the oddities of docs/data-rules.md's
"One rule per oddity" that change what a record is: user ids with blanks around them, pages that are
NextSong but for case or blanks. One PostgreSQL, no Prefect, no S3 emulator.
"""

from __future__ import annotations

import random
from pathlib import Path

import orjson
import pytest

from tests.conftest import SHARED_SAMPLE, requires_shared_sample
from tests.databases import admin
from tests.loading import stage_and_transform, star_snapshot
from tests.star_oracle import Oracle

SEEDS = range(int(__import__("os").environ.get("PROPERTY_SEEDS", "24")))
DAY_MS = 86_400_000
T0 = 1541030400000  # 2018-11-01 00:00:00 UTC
TITLES = [f"title {n}" for n in range(6)]
ARTISTS = [f"artist {n}" for n in range(3)]


def _songs(rng: random.Random) -> dict[str, list[dict]]:
    """Song files: some (title, artist) pairs have two songs, some song ids and artist ids
    appear twice with other details, in the same file or another."""
    records = []
    for number in range(rng.randint(4, 9)):
        artist = rng.randrange(len(ARTISTS))
        records.append({
            "num_songs": 1, "song_id": f"SO{number}", "title": rng.choice(TITLES),
            "artist_id": f"AR{artist}", "artist_name": ARTISTS[artist],
            "artist_location": rng.choice(["", "Austin", "Berlin"]),
            "artist_latitude": rng.choice([None, 1.5]), "artist_longitude": rng.choice([None, 2.5]),
            "duration": rng.choice([None, 180.0, 200.0, 220.0]), "year": rng.choice([0, 1999, 2004])})
    repeated = [dict(rng.choice(records), year=rng.choice([0, 2010]),
                     duration=rng.choice([190.0, 210.0]), artist_location=rng.choice(["", "Paris"]))
                for _ in range(rng.randint(0, 3))]
    files: dict[str, list[dict]] = {}
    for number, record in enumerate(records + repeated):
        files.setdefault(f"song_data/A/{number % 4}/songs-{number % 4}.json", []).append(record)
    # a song id staged again, in a file of its own, under another title and artist id: the
    # plays matched to it take the new artist_id
    files["song_data/B/renamed.json"] = [
        dict(record, title="other", artist_id=f"AR{len(ARTISTS)}", year=2020, duration=200.0)
        for record in rng.sample(records, 2)]
    return files


def _events(rng: random.Random) -> dict[str, list[dict]]:
    """Event files, one per day, and copy files that repeat some plays with other details."""
    files: dict[str, list[dict]] = {}
    plays = []
    for user in range(1, rng.randint(3, 5)):
        level = rng.choice(["free", "paid"])
        for session in range(rng.randint(1, 3)):
            day = rng.randrange(4)
            ts = T0 + day * DAY_MS + rng.randrange(DAY_MS // 2)
            for item in range(rng.randint(2, 8)):
                page = rng.choice(["NextSong"] * 6 + ["Home", "Submit Upgrade", "Submit Downgrade"])
                if page == "NextSong" and rng.random() < 0.1:  # a play only but for its case
                    page = rng.choice(["NextSong ", "nextsong", " NextSong", "Next Song"])
                if page.startswith("Submit") or rng.random() < 0.1:
                    level = rng.choice(["free", "paid", ""])
                ts += rng.choice([0, 0, 1, 1000, 60_000])  # several events in one millisecond
                event = {
                    "artist": rng.choice(ARTISTS + ["nobody"]), "auth": "Logged In",
                    "firstName": rng.choice(["Ann", "Bo", ""]), "gender": rng.choice(["F", "M", ""]),
                    "itemInSession": item, "lastName": "Lee",
                    "length": rng.choice([None, 185.0, 199.0, 215.0]), "level": level,
                    "location": rng.choice(["Austin", "Reno", ""]), "method": "PUT", "page": page,
                    "registration": 1540919166796.0, "sessionId": user * 100 + session,
                    "song": rng.choice(TITLES + ["unknown"]), "status": 200, "ts": ts,
                    "userAgent": rng.choice(["Mozilla/5.0", ""]),
                    "userId": rng.choice([str(user)] * 9 + ["", f" {user} ", f"{user}  ", "  "])}
                files.setdefault(f"log_data/2018/11/2018-11-0{day + 1}-events.json", []).append(event)
                if page.strip() == "NextSong":
                    plays.append(event)
    for number, play in enumerate(rng.sample(plays, min(len(plays), rng.randint(1, 5)))):
        copy = dict(play, ts=play["ts"] + rng.choice([-5000, 0, 7]), level=rng.choice(["free", "paid"]),
                    location=rng.choice(["Austin", "Oslo"]))
        files.setdefault(f"log_data/2018/11/copies-{number % 2}.json", []).append(copy)
    return files


def _write(root: Path, files: dict[str, list[dict]]) -> None:
    from sparkify.staging.schema import DEFAULT_JSONPATHS

    for key, records in files.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\n".join(orjson.dumps(r) for r in records) + b"\n")
    (root / "log_json_path.json").write_bytes(DEFAULT_JSONPATHS)


def _schema(url: str, name: str) -> str:
    admin(url, f"CREATE SCHEMA {name}")
    return name


@pytest.mark.parametrize("seed", SEEDS)
def test_any_partition_in_any_order_ends_as_a_full_load(seed, tmp_path, warehouse_url):
    rng = random.Random(seed)
    events, songs = _events(rng), _songs(rng)
    _write(tmp_path, {**events, **songs})
    keys = list(events) + list(songs)
    rng.shuffle(keys)
    cuts = sorted(rng.sample(range(1, len(keys)), min(len(keys) - 1, rng.randint(1, 4))))
    batches = [keys[a:b] for a, b in zip([0, *cuts], [*cuts, len(keys)])]

    oracle = Oracle()
    incremental = _schema(warehouse_url, "incremental")
    for number, batch in enumerate(batches):
        stage_and_transform(warehouse_url, tmp_path, keys=batch, schema=incremental)
        oracle.load([e for key in batch for e in events.get(key, [])],
                    [s for key in batch for s in songs.get(key, [])])
        _assert_same(_sorted(star_snapshot(warehouse_url, schema=incremental)), oracle.tables(),
                     f"seed {seed}: after load {number + 1} of {len(batches)}")

    before = star_snapshot(warehouse_url, schema=incremental)
    stage_and_transform(warehouse_url, tmp_path, keys=rng.choice(batches), schema=incremental)
    assert star_snapshot(warehouse_url, schema=incremental) == before, f"seed {seed}: a rerun"

    full = _schema(warehouse_url, "full_load")
    stage_and_transform(warehouse_url, tmp_path, schema=full)
    assert star_snapshot(warehouse_url, ids=False, schema=incremental) == \
        star_snapshot(warehouse_url, ids=False, schema=full), f"seed {seed}: against a full load"


def _assert_same(found: dict[str, list[tuple]], expected: dict[str, list[tuple]], when: str) -> None:
    """Equal, or a message with the rows of each table that differ."""
    differ = {table: (sorted(set(found[table]) - set(rows), key=repr),
                      sorted(set(rows) - set(found[table]), key=repr))
              for table, rows in expected.items() if found[table] != rows}
    assert not differ, f"{when}: " + "; ".join(
        f"{table}: only in the warehouse {extra}, only in the oracle {missing}"
        for table, (extra, missing) in differ.items())


def _sorted(snapshot: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """Rows in Python's order, as the oracle lists them (level periods: by user, then start)."""
    return {table: rows if table == "user_level_history" else sorted(rows)
            for table, rows in snapshot.items()}


@requires_shared_sample
@pytest.mark.parametrize("seed", range(3))
def test_the_real_sample_in_shuffled_batches_ends_as_its_full_load(seed, warehouse_url):
    """The public sample, data the project was not written against: its objects cut into
    random batches and loaded in random order end as one load of them all, and as the oracle."""
    rng = random.Random(seed)
    keys = [path.relative_to(SHARED_SAMPLE).as_posix() for path in sorted(SHARED_SAMPLE.rglob("*.json"))
            if path.name != "log_json_path.json"]
    rng.shuffle(keys)
    cuts = sorted(rng.sample(range(1, len(keys)), 5))
    incremental = _schema(warehouse_url, "incremental")
    for a, b in zip([0, *cuts], [*cuts, len(keys)]):
        stage_and_transform(warehouse_url, SHARED_SAMPLE, keys=keys[a:b], schema=incremental)
    full = _schema(warehouse_url, "full_load")
    stage_and_transform(warehouse_url, SHARED_SAMPLE, schema=full)

    batched = star_snapshot(warehouse_url, ids=False, schema=incremental)
    assert batched == star_snapshot(warehouse_url, ids=False, schema=full)
    oracle = Oracle()
    oracle.load(*_records(SHARED_SAMPLE))
    expected = oracle.tables()
    expected["songplay"] = [row[1:] for row in expected["songplay"]]  # ids differ by batching
    _assert_same({table: sorted(rows, key=repr) for table, rows in batched.items()},
                 {table: sorted(rows, key=repr) for table, rows in expected.items()}, "the oracle")
    assert {table: len(rows) for table, rows in batched.items()} == {
        "songplay": 6820, "users": 97, "song": 71, "artist": 69, "time": 6813,
        "user_level_history": 106}


def _records(root: Path) -> tuple[list[dict], list[dict]]:
    """Every event and song record of a data set, as the oracle reads them."""
    def lines(folder: str) -> list[dict]:
        return [orjson.loads(line) for path in sorted((root / folder).rglob("*.json"))
                for line in path.read_bytes().splitlines() if line.strip()]
    return lines("log_data"), lines("song_data")
