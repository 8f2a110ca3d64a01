"""`--data` seeds the S3 emulator with every file below it: a symbolic link to a directory is
followed as a link to a file is, a link back to a directory above it (a loop) is not, and
what is not followed is named. A real emulator process (sparkify.local.s3_server)."""

from __future__ import annotations

import os

import pytest

from sparkify.local.emulator import EMULATOR_BUCKET, S3Emulator, emulator_session, seed


@pytest.fixture(scope="module")
def emulator():
    with S3Emulator() as emu:
        yield emu


def _keys(emulator) -> set[str]:
    s3 = emulator_session().client("s3", endpoint_url=emulator.endpoint_url)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=EMULATOR_BUCKET)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def test_links_to_directories_are_followed_and_loops_named(tmp_path, emulator):
    elsewhere = tmp_path / "elsewhere" / "11"
    elsewhere.mkdir(parents=True)
    (elsewhere / "2018-11-02-events.json").write_bytes(b"{}\n")
    data = tmp_path / "data"
    (data / "log_data" / "2018").mkdir(parents=True)
    (data / "song_data").mkdir()
    (data / "song_data" / "one.json").write_bytes(b"{}\n")
    os.symlink(elsewhere, data / "log_data" / "2018" / "11")  # a day's folder kept elsewhere
    os.symlink(data / "song_data" / "one.json", data / "song_data" / "linked.json")
    os.symlink(data / "log_data", data / "log_data" / "2018" / "again")  # a loop
    os.symlink(tmp_path / "missing", data / "song_data" / "gone.json")  # a link to nothing

    seeded = seed(emulator.endpoint_url, data)

    assert {"log_data/2018/11/2018-11-02-events.json", "song_data/one.json",
            "song_data/linked.json"} <= _keys(emulator)
    assert seeded.files == 3
    assert seeded.not_followed == ["log_data/2018/again (a link to a directory above it)",
                                   "song_data/gone.json (a link to nothing)"]
