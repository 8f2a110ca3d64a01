"""Real-world oddities: each has one rule, proved here through the real staging code and
transform on one PostgreSQL (tests/loading.py); what only a run reports (its sources artifact,
its unmapped keys) through the real flow.

Every value is checked where it is staged: a record the star cannot hold is a malformed record
named with its file and line, counted against --max-errors and kept in load_errors, and the
star tables stay as they were. The table "One rule per oddity" of docs/data-rules.md lists the rules.
"""

from __future__ import annotations

import gzip

import orjson
import pytest
from pydantic import SecretStr

from flows.main import elt
from sparkify.errors import MalformedRecordError
from sparkify.local.files import LOCAL_BUCKET
from tests.conftest import event, query, song, write_dataset
from tests.loading import stage_and_transform, star_snapshot

SONGS = {"TRAAAAA1": [song("SO1", "A", "AR1", "X")]}
DAY = "2018-11-02"
DAY_OBJECT = f"log_data/2018/11/{DAY}-events.json"
LOG_KEY = f"s3://{LOCAL_BUCKET}/{DAY_OBJECT}"


def run(data_dir, url, max_errors: int = 0, only: str | None = None) -> int:
    """Stage (every object, or `only` this one, as an incremental run finds it new) and fold
    into the star as a run does; the malformed records kept."""
    results = stage_and_transform(url, data_dir, max_errors=max_errors,
                                  keys=None if only is None else {only})
    return sum(len(result.errors) for result in results)


def run_flow(data_dir, url, **options):
    return elt(data=str(data_dir), warehouse_url=SecretStr(url), **options)


@pytest.fixture
def loaded(tmp_path, warehouse_url):
    """A warehouse holding one good load; returns (data dir, url, star snapshot)."""
    write_dataset(tmp_path, {"2018-11-01": [event(userId="1", song="A", artist="X"),
                                            event(userId="9001", itemInSession=1, level="paid")]},
                  SONGS)
    run(tmp_path, warehouse_url)
    return tmp_path, warehouse_url, star_snapshot(warehouse_url)


def _raw_event(**fields) -> bytes:
    return orjson.dumps(event(**fields))


LARGE = _raw_event(userId="2", notes="n" * (4 << 20))
BAD_VALUES = {
    "a ts beyond what a timestamp holds": (
        _raw_event(userId="2", ts=10**17), "key 'ts': 100000000000000000 breaks the rule 'ts is a"),
    "a ts past year 32767": (
        _raw_event(userId="2", ts=1_000_000_000_000_000), "key 'ts': 1000000000000000 breaks"),
    "a negative ts": (_raw_event(userId="2", ts=-5), "key 'ts': -5 breaks the rule"),
    "a NextSong event without ts": (
        orjson.dumps({k: v for k, v in event(userId="2").items() if k != "ts"}),
        "key 'ts': missing or null, but the rule is 'ts is never null'"),
    "a negative itemInSession": (_raw_event(userId="2", itemInSession=-1),
                                 "key 'itemInSession': -1 breaks the rule 'item_in_session is 0 or more'"),
    "a level outside its set": (_raw_event(userId="2", level="gold"),
                                "key 'level': 'gold' breaks the rule 'level is free or paid'"),
    "a NUL inside a string": (b'{"userId": "9\\u0000001", "page": "Home", "ts": 1541200000000,'
                              b' "sessionId": 1, "itemInSession": 5, "level": "free"}',
                              "key 'userId': the text holds a NUL character"),
    "a value too long for its column": (_raw_event(userId="u" * 300),
                                        "key 'userId': 300 bytes, more than the 256"),
    "invalid UTF-8": (b'{"userId": "2", "artist": "\xff\xfe", "ts": 1541200000000}',
                      "not valid JSON"),
    # a parser's own limit was a crash without file or line (RecursionError), and a line of any
    # size was loaded here while Redshift's COPY refuses it: sparkify/staging/limits.py
    "a record nested 10,000 deep under a key no column maps": (
        b'{"x":' + b"[" * 10_000 + b"]" * 10_000 + b"," + _raw_event(userId="2")[1:],
        "nested deeper than 64 levels of arrays and objects"),
    "a record larger than 4 MB": (LARGE, f"{len(LARGE):,} bytes, more than the 4,194,304 (4 MB) a JSON "
                                         "record may have"),
}


@pytest.mark.parametrize("bad", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_a_value_the_star_cannot_hold_is_named_at_staging_and_changes_nothing(loaded, bad):
    data, url, before = loaded
    line, reason = bad
    write_dataset(data, {DAY: [event(userId="1", ts=1541200000000), line]}, {})

    with pytest.raises(MalformedRecordError) as failure:
        run(data, url, only=DAY_OBJECT)

    assert f"malformed record in {LOG_KEY} line 2: {reason}" in str(failure.value)
    assert "\n" not in str(failure.value)
    assert star_snapshot(url) == before


@pytest.mark.parametrize("bad", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_within_max_errors_the_record_is_kept_in_load_errors(loaded, bad):
    data, url, _ = loaded
    line, reason = bad
    write_dataset(data, {DAY: [event(userId="1", ts=1541200000000, itemInSession=7), line]}, {})

    assert run(data, url, max_errors=1, only=DAY_OBJECT) == 1
    kept = query(url, "SELECT source_key, line_number, reason FROM load_errors")
    assert kept == [(LOG_KEY, 2, kept[0][2])] and reason in kept[0][2]
    assert query(url, "SELECT COUNT(*) FROM staging_events") == [(1,)]
    assert query(url, "SELECT level FROM users WHERE user_id = '9001'") == [("paid",)]


def test_a_song_nested_too_deep_is_a_malformed_record_of_its_file_and_line(tmp_path, warehouse_url):
    deep = b'{"extra":' + b"{\"a\":" * 5_000 + b"1" + b"}" * 5_000 + b"}"
    write_dataset(tmp_path, {DAY: [event(userId="1")]},
                  {**SONGS, "TRBBBBB2": [song("SO2", "B", "AR2", "Y"), deep]})
    song_key = f"s3://{LOCAL_BUCKET}/song_data/B/B/B/TRBBBBB2.json"

    with pytest.raises(MalformedRecordError, match=f"malformed record in {song_key} line 2: nested "
                                                   "deeper than 64 levels"):
        run(tmp_path, warehouse_url)

    assert run(tmp_path, warehouse_url, max_errors=1) == 1
    assert query(warehouse_url, "SELECT source_key, line_number FROM load_errors") == [(song_key, 2)]
    assert query(warehouse_url, "SELECT COUNT(*) FROM song") == [(2,)]


def test_a_numeric_user_id_names_the_same_user_however_it_is_written(tmp_path, warehouse_url):
    """Rule: userId 12, 12.0, "12" and "12.0" are one user, '12' (staged as its integer text
    on both engines by sql/staging/canonical_user_ids.sql)."""
    events = [event(userId=12, itemInSession=0), event(userId=12.0, itemInSession=1),
              event(userId="12", itemInSession=2), event(userId="12.0", itemInSession=3),
              event(userId="12.5", itemInSession=4)]
    write_dataset(tmp_path, {"2018-11-01": events}, SONGS)

    run(tmp_path, warehouse_url)

    assert query(warehouse_url, "SELECT user_id FROM users ORDER BY 1") == [("12",), ("12.5",)]
    assert query(warehouse_url, "SELECT DISTINCT user_id FROM staging_events ORDER BY 1") == \
        [("12",), ("12.5",)]


def test_a_key_given_twice_keeps_its_last_value(tmp_path, warehouse_url):
    """Rule: the last value of a repeated key wins (orjson, the compiled parser and most JSON readers)."""
    line = orjson.dumps(event(userId="1"))[:-1] + b', "userId": "2"}'
    write_dataset(tmp_path, {"2018-11-01": [line]}, SONGS)

    run(tmp_path, warehouse_url)

    assert query(warehouse_url, "SELECT user_id FROM users") == [("2",)]


def test_a_byte_order_mark_at_the_start_of_a_file_is_ignored(tmp_path, warehouse_url):
    write_dataset(tmp_path, {"2018-11-01": [event(userId="1")]}, SONGS)
    path = next((tmp_path / "log_data").rglob("*.json"))
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())

    run(tmp_path, warehouse_url)

    assert query(warehouse_url, "SELECT user_id FROM users") == [("1",)]


def test_objects_may_span_lines_or_share_one_as_copy_reads_them(tmp_path, warehouse_url):
    """Rule (Redshift's COPY JSON): a pretty-printed object is one record, at the line where it
    starts; several objects on one line are several records of that line."""
    two_on_a_line = orjson.dumps(event(userId="1")) + b" " + orjson.dumps(
        event(userId="2", itemInSession=1))
    write_dataset(tmp_path, {"2018-11-01": [two_on_a_line, b"{oops"]}, {})
    songs = tmp_path / "song_data" / "A" / "A" / "A" / "TRAAAPRETTY.json"
    songs.parent.mkdir(parents=True, exist_ok=True)
    songs.write_bytes(orjson.dumps(song("SO1", "A", "AR1", "X"), option=orjson.OPT_INDENT_2))

    malformed = run(tmp_path, warehouse_url, max_errors=1)

    assert query(warehouse_url, "SELECT user_id FROM users ORDER BY 1") == [("1",), ("2",)]
    assert query(warehouse_url, "SELECT song_id, title FROM song") == [("SO1", "A")]
    assert malformed == 1
    assert query(warehouse_url, "SELECT line_number FROM load_errors") == [(2,)]


def test_gzip_bytes_in_a_json_file_are_malformed_records_whose_text_is_kept(
        tmp_path, warehouse_url):
    """load_errors holds any raw text: NUL bytes are kept written as \\u0000."""
    blob = gzip.compress(b"\n".join(orjson.dumps(event(userId=str(i))) for i in range(50)))
    write_dataset(tmp_path, {"2018-11-01": [event(userId="1"), blob]}, SONGS)

    assert run(tmp_path, warehouse_url, max_errors=50) >= 1
    texts = [text for (text,) in query(warehouse_url, "SELECT raw_text FROM load_errors")]
    assert texts and all("\x00" not in text for text in texts)
    assert query(warehouse_url, "SELECT user_id FROM users") == [("1",)]


def test_objects_the_run_does_not_load_are_named_not_skipped(tmp_path, warehouse_url,
                                                             prefect_harness):
    write_dataset(tmp_path, {"2018-11-01": [event(userId="1")]}, SONGS)
    (tmp_path / "log_data" / "2018" / "11" / "2018-11-02-events.json.lz4").write_bytes(
        b"\x04\x22\x4d\x18 not a kind this loads")
    (tmp_path / "log_data" / "README.md").write_text("notes\n")
    (tmp_path / "log_data" / "2018" / "11" / "2018-11-03-events.json").write_bytes(b"")

    run_flow(tmp_path, warehouse_url)

    listed = _latest_artifact_rows("sparkify-sources")
    left_out = {row["object"].rsplit("/", 1)[-1]: row["loaded"] for row in listed
                if row["loaded"] != "yes"}
    assert left_out["README.md"] == "no: not a .json, .json.gz, .json.zst, .json.bz2 object"
    assert left_out["2018-11-02-events.json.lz4"].startswith("no: not a .json")
    assert left_out["2018-11-03-events.json"] == "no: empty (0 bytes)"


def test_keys_the_jsonpaths_do_not_map_are_reported_once_with_where_first_seen(
        tmp_path, warehouse_url, prefect_harness):
    events = [event(userId="1"), {**event(userId="2", itemInSession=1), "newKey": [1, {"a": 2}]},
              {**event(userId="3", itemInSession=2), "newKey": 5, "other": None}]
    write_dataset(tmp_path, {"2018-11-01": events}, SONGS)

    summary = run_flow(tmp_path, warehouse_url)

    where = "s3://sparkify-local/log_data/2018/11/2018-11-01-events.json"
    assert summary.unmapped_keys == {"newKey": f"{where} line 2", "other": f"{where} line 3"}
    assert "keys no column maps, not loaded: 'newKey'" in summary.text()
    assert query(warehouse_url, "SELECT COUNT(*) FROM users") == [(3,)]


def test_a_session_id_past_32_bits_is_valid_data(tmp_path, warehouse_url):
    write_dataset(tmp_path, {"2018-11-01": [event(userId="1", sessionId=2_148_000_818)]}, SONGS)

    run(tmp_path, warehouse_url)

    assert query(warehouse_url, "SELECT session_id FROM songplay") == [(2_148_000_818,)]


def _latest_artifact_rows(key: str) -> list[dict]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        artifact = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            sort=ArtifactSort.CREATED_DESC, limit=1)[0]
    data = artifact.data
    return orjson.loads(data) if isinstance(data, str) else data
