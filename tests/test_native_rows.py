"""The compiled parser (sparkify/staging/native/) writes exactly the reference's bytes for every
line it takes, gives back every other line (whose rows the reference puts in their place), and
is built wherever there is a C compiler. With SPARKIFY_NATIVE=off these tests skip: the rest
of the suite then runs the reference alone (`make test` runs the staging tests both ways)."""

from __future__ import annotations

import os
import random
import shutil
import struct
import sysconfig

import orjson
import pytest

from sparkify.staging.lines import copy_chunk, reference_chunk
from sparkify.staging.native import BUILT, DISABLE_ENV
from tests.conftest import event
from tests.test_bench_smoke import EVENTS, ODD_VALUES, _reference

needs_compiled = pytest.mark.skipif(EVENTS.native is None, reason=(
    f"the compiled parser is off ({DISABLE_ENV}=off)" if BUILT is not None
    else "sparkify.staging._native was not built (no C compiler)"))


def test_the_parser_is_built_where_there_is_a_c_compiler():
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        pytest.skip(f"no C compiler ({compiler}): the reference parses every line")
    assert BUILT is not None, "make setup should have built sparkify/staging/native/"
    if os.environ.get(DISABLE_ENV, "").lower() != "off":
        assert EVENTS.native is not None


def _taken(line: bytes) -> bool:
    """Whether the compiled parser writes this line's row itself."""
    return not EVENTS.native.parse(line)[3]


def _random_float(rng: random.Random) -> float:
    """Floats of every shape repr writes: random bits, short decimals, integers, ties, tiny."""
    shape = rng.randrange(6)
    if shape == 0:
        value = struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0]
        return value if value == value and abs(value) != float("inf") else 0.5
    if shape == 1:
        return round(rng.uniform(-1e6, 1e6), rng.randint(0, 12))
    if shape == 2:
        return rng.randint(1, 10 ** rng.randint(1, 15)) / 10 ** rng.randint(0, 15)
    if shape == 3:
        return float(rng.randint(-10**16, 10**16))
    if shape == 4:
        return rng.random() * 10.0 ** rng.randint(-7, 17)
    return (rng.randint(1, 2**50) + 0.5) / 10 ** rng.randint(0, 10)


def _random_text(rng: random.Random, nul: bool = True) -> str:
    alphabet = ("\x00" if nul else "") + "ab \\\t\n\r\x08\x7f\u00e9\u20ac\U0001f600/\"\u2028"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))


@needs_compiled
def test_every_float_is_written_as_repr_writes_it():
    rng = random.Random(5)
    values = [_random_float(rng) for _ in range(100_000)] + [
        0.0, -0.0, 1e-4, 9.999e-5, 1e15, 1e16, 999999999999999.9, 0.1, 0.3, 2.675,
        1.0000000000000002, 5e-324, 1.7976931348623157e308, 1541105830796.0]
    plain = [v for v in values if b"e" not in orjson.dumps(v)]  # an exponent: the reference's
    assert len(plain) > len(values) // 2
    body = b"\n".join(orjson.dumps(event(length=value)) for value in plain)
    data, rows, _, given_back = EVENTS.native.parse(body)
    assert given_back == () and rows == len(plain)
    column = [field.source for field in EVENTS.fields].index("length")
    written = [line.split("\t")[column] for line in data.decode().splitlines()]
    assert written == [repr(value) for value in plain]
    assert data == reference_chunk(body, "k", EVENTS).data


def _json_text(rng: random.Random, text: str) -> bytes:
    """`text` as a JSON string, its characters written plainly or as \\u escapes at random."""
    out = []
    for char in text:
        if rng.random() < 0.3 or char in '"\\' or char < " ":
            out.append("".join(f"\\u{unit:04x}" for unit in
                               struct.unpack(f">{len(char.encode('utf-16-be')) // 2}H",
                                             char.encode("utf-16-be"))))
        else:
            out.append(char)
    return ('"' + "".join(out) + '"').encode()


def _plain_line(rng: random.Random) -> bytes:
    """An event line of the mapped keys in any order and spacing, some values odd or broken."""
    record = event(song="A", artist="X", length=200.5, userId=str(rng.randint(1, 99)))
    parts = []
    for key in rng.sample(list(record), len(record) - rng.randint(0, 2)):
        value = record[key]
        pick = rng.random()
        if pick < 0.02:
            value = rng.choice(ODD_VALUES)
        elif pick < 0.15:
            value = (_random_float(rng) if isinstance(value, float) else value + rng.randint(-9, 9)
                     if isinstance(value, int) else _random_text(rng, nul=False))
        text = _json_text(rng, value) if isinstance(value, str) else orjson.dumps(value)
        space = rng.choice([b"", b" ", b"\t"])
        parts.append(b'"' + key.encode() + b'"' + space + b":" + space + text)
    line = b"{" + b",".join(parts) + b"}"
    if rng.random() < 0.05:  # broken now and then: cut, doubled, bad UTF-8, CR, trailing text
        line = rng.choice([line[:-1], line + line, line.replace(b"A", b"\xff"), line + b"\r",
                           line + b" x", b" " + line + b" "])
    return line


@needs_compiled
@pytest.mark.parametrize(("seed", "count"), [(17, 800), pytest.param(29, 4000, marks=pytest.mark.slow)])
def test_parsed_lines_are_the_reference_rows_or_given_back(seed, count):
    """Line by line (each line its own chunk, so each one the C parser takes is compared) and
    in whole chunks, plain and given-back lines mixed: the rows, errors and unmapped keys of
    the reference parser, and a good part of the lines taken (a third of them or more)."""
    rng = random.Random(seed)
    lines = [_plain_line(rng) for _ in range(count)]
    taken = 0
    for line in lines:
        taken += _taken(line)
        assert _both_ways(line), line
    assert len(lines) // 3 < taken < len(lines) * 0.9
    for size in (7, 400):
        for start in range(0, len(lines), size):
            assert _both_ways(b"\n".join(lines[start:start + size]))


def _both_ways(body: bytes) -> bool:
    """Whether the compiled parser (with the reference for the lines it gives back) and the
    reference alone make the same chunk of `body`: rows, errors, unmapped keys, line breaks."""
    return copy_chunk(body, "s3://b/k.json", EVENTS) == reference_chunk(body, "s3://b/k.json", EVENTS)


@needs_compiled
@pytest.mark.parametrize("key", ["length", "registration", "itemInSession", "sessionId", "status", "ts"])
def test_number_literals_are_the_reference_rows_or_given_back(key):
    """A number as JSON writes it, not as orjson does: `-0` into a float column is 0.0 (the
    integer -0 is 0), an integer into a float column gets its `.0`, fractions, exponents and
    leading zeros into an integer column are left to the Python paths, and so on."""
    literals = [b"-0", b"0", b"-0.0", b"0.0", b"7", b"-12", b"1.50", b"1e2", b"1E-2", b"01",
                b"-", b"1.", b".5", b"+3", b"9007199254740993", b"123456789012345678901234567890",
                b"9223372036854775807", b"9223372036854775808", b"-9223372036854775808",
                b"2147483647", b"2147483648", b"1541105830796", b"946684800000", b"4102444800000",
                b"4102444800001"]
    taken = 0
    for literal in literals:
        record = orjson.dumps(event(**{"song": "A", "artist": "X", "length": 200.5, "userId": "5",
                                       key: 123}))
        line = record.replace(b'"' + key.encode() + b'":123', b'"' + key.encode() + b'":' + literal)
        assert line != record
        taken += _taken(line)
        piece = copy_chunk(line, "s3://b/k.json", EVENTS)
        assert (piece.data, list(piece.errors)) == _reference(line, EVENTS), line
    assert taken >= 3
