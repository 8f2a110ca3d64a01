"""Source lines to COPY rows: JSONPaths, type conversion, escaping, line numbering."""

from __future__ import annotations

import orjson
import pytest

from sparkify.errors import SourceError
from sparkify.staging.schema import DEFAULT_JSONPATHS, STAGING_EVENTS
from sparkify.staging.mappers import SongsMapper, events_mapper
from sparkify.staging.lines import copy_lines
from sparkify.staging.jsonpaths import load_jsonpaths, parse_jsonpath
from tests.conftest import event, song


@pytest.mark.parametrize("path, steps", [
    ("$['userId']", ("userId",)),
    ('$["user id"]', ("user id",)),
    ("$.a.b[0]", ("a", "b", 0)),
    ("$['a']['b']", ("a", "b")),
])
def test_parse_jsonpath(path, steps):
    assert parse_jsonpath(path) == steps


def test_jsonpaths_must_match_the_column_count():
    with pytest.raises(SourceError, match="2 JSONPaths for the 18 columns of staging_events"):
        load_jsonpaths(b'{"jsonpaths": ["$.a", "$.b"]}', "s3://b/p.json", STAGING_EVENTS)
    with pytest.raises(SourceError, match="s3://b/p.json: not a JSONPaths file"):
        load_jsonpaths(b'{"paths": []}', "s3://b/p.json", STAGING_EVENTS)


def _events(body: bytes):
    errors = []
    mapper = events_mapper(load_jsonpaths(DEFAULT_JSONPATHS, "default", STAGING_EVENTS))
    return list(copy_lines(body, "s3://b/k.json", mapper, errors.append)), errors


def test_a_fraction_into_an_integer_column_is_malformed_even_when_integral():
    """As COPY's integer conversion: digits only, anything else is 1207 "Invalid digit"."""
    rows, errors = _events(b'{"ts": 1541105830796.0, "userId": "39", "page": "Home", '
                           b'"itemInSession": 0, "sessionId": 1, "level": "free"}\n')

    assert rows == [] and [e.reason for e in errors] == [
        "key 'ts': expected an integer, got 1541105830796.0"]


def test_event_line_becomes_copy_text_with_escapes_and_nulls():
    rows, errors = _events(b'{"artist": "A\\\\B\\tC", "ts": 1541105830796, "userId": 39,'
                           b' "sessionId": "12", "length": "1.5", "page": "Home",'
                           b' "itemInSession": 0}\r\n')
    assert errors == []
    fields = rows[0].rstrip("\n").split("\t")
    columns = dict(zip(STAGING_EVENTS.column_names, fields))
    assert columns["artist"] == "A\\\\B\\tC"  # backslash and tab escaped for COPY
    assert columns["ts"] == "1541105830796"
    assert columns["user_id"] == "39"
    assert columns["session_id"] == "12"
    assert columns["length"] == "1.5"
    assert columns["song"] == "\\N"


def test_bad_lines_are_numbered_and_blank_lines_skipped():
    keys = b'"page": "Home", "sessionId": 1, "itemInSession": 0'
    body = (b'{"ts": 1541105830796, %s}\n\n  \n{"ts": "soon", %s}\n"just a string"\n{"ts": 2\n'
            b'{"ts": 9223372036854775808, %s}\n' % (keys, keys, keys))
    rows, errors = _events(body)
    assert len(rows) == 1
    assert [(e.line_number, e.reason.split(" ")[0]) for e in errors] == [
        (4, "key"), (5, "not"), (6, "not"), (7, "key")]
    assert "key 'ts': expected an integer, got \"soon\"" == errors[0].reason
    assert errors[1].reason.startswith("not a JSON object")
    assert errors[2].reason.startswith("not valid JSON")
    assert "out of range for bigint" in errors[3].reason


def test_songs_map_keys_case_insensitively():
    errors = []
    line = (b'{"SONG_ID": "S1", "Title": "T", "artist_name": "N", "Year": 1999, "Duration": 1,'
            b' "Artist_Id": "AR1"}')
    rows = list(copy_lines(line, "k", SongsMapper(), errors.append))
    columns = dict(zip(SongsMapper().table.column_names, rows[0].rstrip("\n").split("\t")))
    assert (columns["song_id"], columns["title"], columns["year"], columns["duration"]) == (
        "S1", "T", "1999", "1.0")
    assert errors == []


# ---- the size and depth a record may have (sparkify/staging/limits.py) -----------------------

EVENT = orjson.dumps(event())
SONG = orjson.dumps(song("S1", "T", "AR1", "N"))


def _nested(depth: int, record: bytes = EVENT) -> bytes:
    """A valid record whose key no column maps holds arrays nested so that the whole record is
    `depth` deep."""
    return b'{"x":' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"," + record[1:]


def _parsed(body: bytes, mapper) -> tuple[bytes, list]:
    from sparkify.staging.lines import copy_chunk, reference_chunk

    piece = copy_chunk(body, "s3://b/k.json", mapper)
    assert piece == reference_chunk(body, "s3://b/k.json", mapper)  # whichever parser reads it
    return piece.data, [(e.line_number, e.reason) for e in piece.errors]


@pytest.mark.parametrize("mapper, record", [
    (events_mapper(load_jsonpaths(DEFAULT_JSONPATHS, "default", STAGING_EVENTS)), EVENT),
    (SongsMapper(), SONG)], ids=["events", "songs"])
def test_a_record_nested_deeper_than_the_limit_is_malformed_not_a_crash(mapper, record):
    body = b"\n".join([_nested(64, record), _nested(65, record), _nested(10_000, record),
                       b"[" * 5_000 + b"]" * 5_000, b'{"x":' + b'{"a":' * 5_000 + b"1" + b"}" * 5_001])
    data, errors = _parsed(body, mapper)
    assert data.count(b"\n") == 1  # 64 deep is a row
    assert errors == [(n, "nested deeper than 64 levels of arrays and objects") for n in (2, 3, 4, 5)]


def test_an_object_spanning_lines_is_held_to_the_same_depth():
    mapper = events_mapper(load_jsonpaths(DEFAULT_JSONPATHS, "default", STAGING_EVENTS))
    spanning = EVENT[:-1] + b',\n "x": ' + b"[" * 70 + b"]" * 70 + b"\n}"
    data, errors = _parsed(spanning, mapper)
    assert data == b"" and [line for line, _ in errors] == [1, 2, 3]  # no record, as bad JSON
    assert _parsed(spanning.replace(b"[" * 70 + b"]" * 70, b"[[1]]"), mapper)[0].count(b"\n") == 1


def test_a_record_larger_than_4_mb_is_malformed_whatever_parser_reads_it():
    mapper = events_mapper(load_jsonpaths(DEFAULT_JSONPATHS, "default", STAGING_EVENTS))
    plain = b"{" + b" " * (4 << 20) + EVENT[1:]  # but for its size, the compiled parser's
    assert mapper.native is None or mapper.native.parse(b"{ " + EVENT[1:])[3] == ()
    data, errors = _parsed(EVENT + b"\n" + plain, mapper)
    assert data.count(b"\n") == 1
    assert errors == [(2, f"{len(plain):,} bytes, more than the 4,194,304 (4 MB) a JSON record "
                          "may have (Redshift's limit)")]
