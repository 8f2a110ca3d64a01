"""The benchmark script runs at a tiny scale, and the fast staging path (the compiled parser,
the reference for the lines it gives back) gives exactly the rows, errors and unmapped keys of
the reference parser: in chunks of any size, and through the loader's read-ahead thread."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import orjson
import pytest

from sparkify.staging import loader
from sparkify.staging.lines import BOM, copy_chunk, copy_lines, line_chunks, reference_chunk
from sparkify.staging.schema import DEFAULT_JSONPATHS, STAGING_EVENTS
from sparkify.staging.mappers import SongsMapper, events_mapper
from sparkify.staging.jsonpaths import load_jsonpaths
from sparkify.store import SourceObject
from tests.conftest import PROJECT_ROOT, event, song

EVENTS = events_mapper(load_jsonpaths(DEFAULT_JSONPATHS, "default", STAGING_EVENTS))
NESTED = events_mapper(load_jsonpaths(
    b'{"jsonpaths": ["$.a.b", "$[\'auth\']", "$.x[0]"' + b', "$.gender"' * 15 + b"]}",
    "nested", STAGING_EVENTS))
ODD_VALUES = [None, "", "x", "a\\b", "t\tab", "n\nl", "c\rr", "nul\x00", "\x7f", "\u00e9", "\\N",
              0, -1, 2**31 - 1, 2**31, -2**31 - 1, 2**63, 1.5, 1.0, -0.0, 1e300, 1541105830796.0,
              "12", " 7 ", "+3", "1.5", "abc", True, False, [1, "a\\"], {"k": "v\t"}, "Mozilla\\/5.0",
              # the edges of the staging rules, which the compiled parser checks too
              946684800000, 946684799999, 4102444800000, 4102444800001, 4102444800000.0, "free",
              "paid", "M", "F", "x" * 64, "x" * 65, "\u00e9" * 64, "\u20ac" * 85, "\u20ac" * 86,
              "x" * 256, "x" * 257, "\U0001f600" * 64, "\U0001f600" * 65]
ODD_LINES = [b"", b"  \r", b"[1, 2]", b'"str"', b"{bad", b'{"a": "x\r', b"null", b"12"]


def _odd_body(rng: random.Random) -> bytes:
    """Lines mixing every value type, escapes, bad JSON, blank lines, CRLF, a BOM and
    pretty-printed objects (which a cut between chunks must not split)."""
    keys = [*event().keys(), *song("S", "T", "A", "N").keys(), "a", "x", "Title", "SONG_ID"]
    lines = []
    for _ in range(rng.randint(0, 40)):
        if rng.random() < 0.15:
            lines.append(rng.choice(ODD_LINES))
            continue
        record = {k: rng.choice(ODD_VALUES) for k in rng.sample(keys, rng.randint(0, len(keys)))}
        if rng.random() < 0.1:
            record["a"] = {"b": rng.choice(ODD_VALUES)}
        line = orjson.dumps(record) if rng.random() < 0.5 else json.dumps(record).encode()
        if rng.random() < 0.1:
            line = json.dumps(record, indent=rng.choice([0, 2])).encode()
        lines.append(line + (b"\r" if rng.random() < 0.1 else b""))
    body = b"\n".join(lines) + (b"\n" if rng.random() < 0.3 else b"")
    return (BOM + body) if rng.random() < 0.1 else body


def _reference(body: bytes, mapper) -> tuple[bytes, list]:
    errors: list = []
    rows = "".join(copy_lines(body, "s3://b/k.json", mapper, errors.append))
    return rows.encode(), errors


def _in_chunks(body: bytes, mapper, size: int, parse=copy_chunk) -> tuple[bytes, list]:
    pieces, lines_before = [], 0
    for chunk in line_chunks(body, size):
        piece = parse(chunk, "s3://b/k.json", mapper)
        pieces.append(piece.shifted(lines_before))
        lines_before += piece.line_breaks
    return b"".join(p.data for p in pieces), [e for p in pieces for e in p.errors]


def _unmapped_in_chunks(body: bytes, mapper, size: int, parse=copy_chunk) -> dict[str, int]:
    seen: dict[str, int] = {}
    lines_before = 0
    for chunk in line_chunks(body, size):
        piece = parse(chunk, "s3://b/k.json", mapper).shifted(lines_before)
        for key, line in piece.unmapped_keys:
            seen.setdefault(key, line)
        lines_before += piece.line_breaks
    return seen


@pytest.mark.parametrize("mapper", [EVENTS, NESTED, SongsMapper()], ids=["events", "nested", "songs"])
def test_chunks_give_the_reference_rows_and_errors(mapper):
    rng = random.Random(7)
    for _ in range(300):
        body = _odd_body(rng)
        expected = _reference(body, mapper)
        unmapped = _unmapped_in_chunks(body, mapper, 1 << 20, reference_chunk)
        for size in (1, 64, 1 << 20):
            assert _in_chunks(body, mapper, size) == expected, body
            assert _unmapped_in_chunks(body, mapper, size) == unmapped, body


def test_plain_lines_among_odd_ones_give_the_reference_rows_and_errors():
    """Lines with only the event keys are the compiled parser's; values of another type,
    escapes, NULLs and bad lines among them must change nothing."""
    rng = random.Random(3)
    keys = list(event().keys())
    typical = [event(song="A", artist="X", length=200.5, userId=str(i)) for i in range(5)]
    for _ in range(300):
        lines = []
        for _ in range(rng.randint(1, 30)):
            record = dict(rng.choice(typical))
            for key in rng.sample(keys, rng.randint(0, 4)):
                record[key] = rng.choice(ODD_VALUES)
            lines.append(json.dumps(record).encode() if rng.random() < 0.7 else rng.choice(ODD_LINES))
        body = b"\n".join(lines)
        expected = _reference(body, EVENTS)
        for size in (1, 1 << 20):
            assert _in_chunks(body, EVENTS, size) == expected, body


class _FilesStore:
    def __init__(self, bodies: dict[str, bytes]) -> None:
        self.bodies = bodies

    def read(self, bucket: str, key: str) -> bytes:
        return self.bodies[key]

    def stream(self, bucket: str, key: str):
        yield self.bodies[key]


def _small_chunks(monkeypatch) -> None:
    monkeypatch.setattr(loader, "PARSE_CHUNK_BYTES", 300)


def test_the_loader_gives_the_reference_rows_errors_and_keys_in_order(monkeypatch):
    """Through the read-ahead thread (with the compiled parser) and in small chunks."""
    _small_chunks(monkeypatch)
    rng = random.Random(11)
    good = b"\n".join(orjson.dumps(event(userId=str(i), itemInSession=i)) for i in range(200))
    bodies = {f"log_data/{i:02d}.json": (good if i % 3 == 0 else _odd_body(rng)) for i in range(12)}
    objects = [SourceObject("b", key, "etag", len(body)) for key, body in bodies.items()]
    errors: list = []
    rows_by_key: dict[str, int] = {}
    unmapped: dict[str, str] = {}
    data = b"".join(loader.copy_text(_FilesStore(bodies), objects, EVENTS, errors.append,
                                     lambda obj, rows: rows_by_key.__setitem__(obj.key, rows),
                                     unmapped.setdefault))
    expected_errors, expected_rows, expected_unmapped = [], [], {}
    for key, body in bodies.items():
        piece = reference_chunk(body.removeprefix(BOM), f"s3://b/{key}", EVENTS)
        expected_rows.append(piece.data)
        expected_errors += piece.errors
        assert rows_by_key[key] == piece.rows
        for name, line in piece.unmapped_keys:
            expected_unmapped.setdefault(name, f"s3://b/{key} line {line}")
    assert (data, errors, unmapped) == (b"".join(expected_rows), expected_errors, expected_unmapped)
    assert sum(rows_by_key.values()) > 200 and errors and unmapped  # all three exercised


def test_a_fatal_error_stops_the_parse_and_names_file_and_line(monkeypatch):
    from sparkify.errors import MalformedRecordError

    _small_chunks(monkeypatch)
    good = b"\n".join(orjson.dumps(event(itemInSession=i)) for i in range(50))
    bodies = {"a.json": good, "b.json": good + b"\n{oops\n" + good}
    objects = [SourceObject("b", key, "etag", len(body)) for key, body in bodies.items()]

    def on_error(error):
        raise MalformedRecordError(error.describe())

    chunks = loader.copy_text(_FilesStore(bodies), objects, EVENTS, on_error, lambda *_: None)
    with pytest.raises(MalformedRecordError, match=r"s3://b/b.json line 51: not valid JSON"):
        list(chunks)


@pytest.mark.slow  # two servers, two ELT runs and their anchors: about a minute and a half
def test_bench_runs_at_a_tiny_scale_on_both_servers(tmp_path):
    """The bench's plumbing end to end: the generator's data on the embedded server and on a
    default one, the results file, and the summary's rows."""
    out = tmp_path / "results.json"
    run = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--scales", "2000", "--shapes", "generator",
         "--servers", "embedded,default", "--insert-cap", "50", "--ceiling-repeats", "1",
         "--no-fixed-costs", "--out", str(out)],  # those: four CLI runs
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    results = json.loads(out.read_text())
    assert [(r["shape"], r["server"], r["scale"]) for r in results["runs"]] == [
        ("generator", "embedded", "2k"), ("generator", "default", "2k")]
    assert results["machine"]["nproc"] >= 1 and len(results["machine"]["load_average_after"]) == 3
    assert set(results["commit"]) == {"sha", "dirty"}
    wal = {name: about["settings"]["max_wal_size"] for name, about in results["servers"].items()}
    assert wal["embedded"]["setting"] == "4096" and wal["default"]["setting"] == "1024"  # MB
    for each in results["runs"]:
        assert each["run"]["staged"]["staging_events"] > 1000
        fig = each["figures"]
        assert fig["elt_vs_floor"] > 1 and fig["transform_vs_naive_with_keys"] > 0
        assert fig["elt_speedup_vs_rowwise"] > 0 and 0 < fig["gx_share"] < 1
        assert 0 < fig["gx_checkpoint_share"] <= fig["gx_share"]  # the checkpoints' own time: within
        timed = {statement["name"] for statement in each["run"]["statements"]}  # the step table
        assert {"star/songplay", "bulk/build_indexes (songplay)"} <= timed

    summary = subprocess.run([sys.executable, "benchmarks/run.py", "--summary", str(out)],
                             cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=True)
    rows = [line for line in summary.stdout.splitlines() if line.startswith("| generator |")]
    assert [row.split(" | ")[1] for row in rows] == ["embedded", "default"]
    assert "no run at a target's scale" in summary.stdout


def test_gets_bench_runs_at_a_tiny_scale(tmp_path):
    out = tmp_path / "gets.json"
    run = subprocess.run(
        [sys.executable, "benchmarks/gets.py", "--objects", "40", "--rounds", "1",
         "--concurrency", "4", "--delays-ms", "0,30", "--out", str(out)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(out.read_text())
    from benchmarks.get_clients import CLIENTS

    assert {(row["client"], row["delay_ms"]) for row in result["summary"]} == {
        (client, delay) for client in CLIENTS for delay in (0.0, 30.0)}
    assert all(row["gets"] == result["objects"] and row["bytes"] > 0 for row in result["rounds"])
    fastest = min(row["wall_s"] for row in result["rounds"] if row["delay_ms"] == 30.0)
    assert fastest >= 0.03 * result["objects"] / 4  # 4 in flight, each answer 30 ms late


def _with_extra_key(key: bytes, value: bytes) -> bytes:
    """An event line that starts with a key no column maps."""
    return b'{"' + key + b'":' + value + b"," + orjson.dumps(event(userId="7"))[1:]


@pytest.mark.parametrize("body", [
    _with_extra_key(b"\\u0001", b"1"),  # escaped keys: the compiled parser gives them back
    _with_extra_key(b'a\\"b', b"1") + b"\n" + _with_extra_key(b'a\\"b', b"2"),
    _with_extra_key(b"\\t", b"1"),
    _with_extra_key(b"x", b'"\x82"'),  # an unmapped key's value: invalid UTF-8
    _with_extra_key(b"x", b"1") + b"\n" + _with_extra_key(b"x", b'"\xff"'),
    _with_extra_key(b"x", b'"\xed\xa0\x80"'),  # a surrogate written as UTF-8
    _with_extra_key(b"x", b"1e5000"),  # beyond a double
    _with_extra_key(b"x", b"9" * 400),
    _with_extra_key(b"x", b"9" * 308) + b"\n" + _with_extra_key(b"x", b'["\\ud800"]'),
], ids=["control-key", "quote-key", "tab-key", "bad-utf8", "bad-utf8-later", "surrogate-utf8",
        "huge-float", "huge-int", "lone-surrogate-nested"])
def test_a_key_no_column_maps_is_checked_as_the_reference_checks_it(body):
    """Its value is valid JSON or the line is an error, whatever the key; no path may crash on
    a key or skip a value orjson refuses (found by a differential fuzz of the chunk paths)."""
    assert _in_chunks(body, EVENTS, 1 << 20) == _reference(body, EVENTS)
