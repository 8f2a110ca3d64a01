"""Compressed sources (.json.gz, .json.zst, .json.bz2) on the client path: decompressed as they
stream in, to exactly the rows of the same data uncompressed; bad input is a one-line error."""

from __future__ import annotations

import bz2
import gzip
import shutil
from pathlib import Path

import pytest
import zstandard
from pydantic import SecretStr

from flows.main import elt
from sparkify.errors import MalformedRecordError, SourceError
from sparkify.local.generator import GeneratorSpec, generate
from sparkify.staging.compression import BZIP2, GZIP, PLAIN, ZSTD, compression_of, decompressed
from tests.conftest import event, query, song, write_dataset

SMALL = GeneratorSpec(songs=40, users=12, days=6, events_per_day=150, seed=11)
TABLES = {
    "staging_events": "SELECT * FROM staging_events ORDER BY ts, user_id, item_in_session",
    "staging_songs": "SELECT * FROM staging_songs ORDER BY song_id",
    "songplay": "SELECT * FROM songplay ORDER BY songplay_id",
    "users": "SELECT * FROM users ORDER BY user_id",
    "song": "SELECT * FROM song ORDER BY song_id",
    "artist": "SELECT * FROM artist ORDER BY artist_id",
    "time": "SELECT * FROM time ORDER BY start_time",
    "load_errors": "SELECT table_name, source_key, line_number, reason FROM load_errors",
}
COMPRESS = {GZIP: gzip.compress, ZSTD: zstandard.ZstdCompressor().compress, BZIP2: bz2.compress}


def compress_copy(plain: Path, out: Path) -> dict[str, int]:
    """The data set with each file compressed in turn: gz, gz, zst, plain (and bz2 for one
    song file); returns how many files of each kind."""
    shutil.copytree(plain, out)
    files = sorted(p for p in out.rglob("*.json") if p.name != "log_json_path.json")
    cycle = [GZIP, GZIP, ZSTD, PLAIN]
    kinds: dict[str, int] = {}
    for number, path in enumerate(files):
        kind = BZIP2 if number == len(files) - 1 else cycle[number % len(cycle)]
        kinds[kind.name] = kinds.get(kind.name, 0) + 1
        if kind is not PLAIN:
            path.with_name(path.name[:-len(".json")] + kind.suffix).write_bytes(
                COMPRESS[kind](path.read_bytes()))
            path.unlink()
    return kinds


@pytest.fixture
def second_url(databases) -> str:
    return databases.create()


def test_a_mixed_data_set_loads_exactly_as_the_same_data_uncompressed(
        prefect_harness, tmp_path, warehouse_url, second_url):
    plain = tmp_path / "plain"
    generate(plain, SMALL)
    kinds = compress_copy(plain, tmp_path / "mixed")
    assert kinds["gzip"] >= kinds["zstd"] >= 2 and kinds["plain"] >= 2 and kinds["bzip2"] == 1

    elt(data=str(plain), warehouse_url=SecretStr(warehouse_url))
    elt(data=str(tmp_path / "mixed"), warehouse_url=SecretStr(second_url))

    expected = {table: query(warehouse_url, sql) for table, sql in TABLES.items()}
    assert all(expected[table] for table in ("staging_events", "songplay", "song"))
    assert {table: query(second_url, sql) for table, sql in TABLES.items()} == expected
    suffixes = sorted({compression_of(key).name for (key,) in
                       query(second_url, "SELECT source_key FROM load_ledger")})
    assert suffixes == ["bzip2", "gzip", "plain", "zstd"]  # every kind was loaded


def test_a_malformed_line_in_a_compressed_object_names_the_object_and_line(
        prefect_harness, tmp_path, warehouse_url):
    root = write_dataset(tmp_path, {"2018-11-01": [event(), b"{oops", event(itemInSession=2)]},
                         {"TRAAAAA1": [song("SO1", "A", "AR1", "X")]})
    day = root / "log_data/2018/11/2018-11-01-events.json"
    day.with_name(day.name + ".gz").write_bytes(gzip.compress(day.read_bytes()))
    day.unlink()

    with pytest.raises(MalformedRecordError) as raised:
        elt(data=str(root), warehouse_url=SecretStr(warehouse_url))

    assert str(raised.value).startswith(
        "malformed record in s3://sparkify-local/log_data/2018/11/2018-11-01-events.json.gz "
        "line 2: not valid JSON")


def test_a_corrupt_compressed_object_is_a_one_line_error_naming_it(
        prefect_harness, tmp_path, warehouse_url):
    root = write_dataset(tmp_path, {"2018-11-01": [event()]},
                         {"TRAAAAA1": [song("SO1", "A", "AR1", "X")]})
    track = root / "song_data/A/A/A/TRAAAAA1.json"
    track.with_name("TRAAAAA1.json.zst").write_bytes(
        zstandard.ZstdCompressor().compress(track.read_bytes())[:-4])  # truncated
    track.unlink()

    with pytest.raises(SourceError) as raised:
        elt(data=str(root), warehouse_url=SecretStr(warehouse_url))

    assert str(raised.value) == (
        "cannot decompress s3://sparkify-local/song_data/A/A/A/TRAAAAA1.json.zst as zstd: "
        "the compressed data ends inside its last member (truncated?)")
    assert query(warehouse_url, "SELECT COUNT(*) FROM songplay") == [(0,)]


@pytest.mark.parametrize("kind", [GZIP, ZSTD, BZIP2], ids=lambda kind: kind.name)
def test_concatenated_members_decode_whole_from_pieces_of_any_size(kind):
    first, second = b'{"a": 1}\n' * 5000, b'{"b": 2}\n'
    body = COMPRESS[kind](first) + COMPRESS[kind](second)

    pieces = [body[i:i + 333] for i in range(0, len(body), 333)]

    assert decompressed(pieces, kind, "s3://b/k") == first + second


@pytest.mark.parametrize("key, kind", [("a/b.json", PLAIN), ("a/b.json.gz", GZIP),
                                       ("a/b.json.zst", ZSTD), ("a/b.json.bz2", BZIP2)])
def test_the_kind_follows_the_extension(key, kind):
    assert compression_of(key) is kind


def test_any_other_key_is_not_loadable():
    with pytest.raises(SourceError, match=r"a/b\.json\.xz: not a loadable object"):
        compression_of("a/b.json.xz")
