"""The data shapes the benchmark runs on, each made on first use and cached under
.sparkify/bench/data/ (never committed):

- `generator`: the project's own generator at `GeneratorSpec.for_events(events)` (about
  1,000 users and 10,000 songs at 1M).
- `real`: the real sample (../shared/data/udacity-sample) resampled, as below: few users
  with very many events each, few songs, almost no play matched.
- `many`: the generator with many users and songs (50,000 and 20,000 at every scale) over 30
  days: many users, and most plays matched to a song.

`resampled_real_sample(events, out_dir)` repeats the events of the real sample
(../shared/data/udacity-sample: 8,056 events of 97 users, 71 songs) until there are `events`
of them: each copy's `ts` moves on by the sample's whole span (so days never overlap) and its
`sessionId` by the largest id plus one (so plays stay distinct). Everything else, the 97 users
and the raw text of every other value (escapes such as `\\/`, `1540919166796.0`), is the
sample's own: few users with very many events each, and 71 songs. Deterministic: the same
`events` gives the same bytes. `python benchmarks/shapes.py EVENTS OUT_DIR` writes it.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

from sparkify.paths import STATE_DIR

DATA_DIR = STATE_DIR / "bench" / "data"
SEED = 42
MANY_USERS, MANY_SONGS, MANY_DAYS = 50_000, 20_000, 30
REAL_SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "udacity-sample"
DAY_MS = 86_400_000
_TS = re.compile(rb'"ts":(-?\d+)')
_SESSION = re.compile(rb'"sessionId":(-?\d+)')


def _sample_lines(sample: Path) -> list[bytes]:
    """The sample's event lines, in key order, blank lines dropped."""
    lines = []
    for path in sorted((sample / "log_data").rglob("*.json")):
        lines += [line for line in path.read_bytes().splitlines() if line.strip()]
    return lines


def _shifted(line: bytes, ts_shift: int, session_shift: int) -> tuple[bytes, int]:
    """The line with its ts and sessionId moved on (their raw text otherwise kept), and its ts."""
    ts = int(_TS.search(line).group(1)) + ts_shift
    line = _TS.sub(b'"ts":%d' % ts, line, count=1)
    line = _SESSION.sub(lambda m: b'"sessionId":%d' % (int(m.group(1)) + session_shift), line, count=1)
    return line, ts


def resampled_real_sample(events: int, out_dir: Path, sample: Path = REAL_SAMPLE) -> Path:
    """`out_dir`, holding `events` events made from the real sample's (as the module says), in
    log_data/YYYY/MM/YYYY-MM-DD-events.json files, with its song_data/ and log_json_path.json.
    Made on first use: a directory already complete for `events` is reused."""
    marker = out_dir / ".complete"
    if marker.is_file() and marker.read_text() == f"{events} events from {sample}":
        return out_dir
    if out_dir.exists():
        shutil.rmtree(out_dir)
    lines = _sample_lines(sample)
    stamps = [int(_TS.search(line).group(1)) for line in lines]
    sessions = [int(_SESSION.search(line).group(1)) for line in lines]
    ts_step = (max(stamps) // DAY_MS + 1 - min(stamps) // DAY_MS) * DAY_MS  # whole days
    session_step = max(sessions) + 1
    days: dict[str, list[bytes]] = defaultdict(list)
    for n in range(events):
        copy, index = divmod(n, len(lines))
        line, ts = _shifted(lines[index], copy * ts_step, copy * session_step)
        days[datetime.fromtimestamp(ts / 1000, timezone.utc).strftime("%Y/%m/%Y-%m-%d")].append(line)
    for day, day_lines in days.items():
        path = out_dir / "log_data" / f"{day}-events.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\n".join(day_lines))  # as the sample's files: no final newline
    shutil.copytree(sample / "song_data", out_dir / "song_data")
    shutil.copy(sample / "log_json_path.json", out_dir / "log_json_path.json")
    marker.write_text(f"{events} events from {sample}")
    return out_dir


class ShapeUnavailable(Exception):
    """The shape's source is not on this machine (a run skips it and says why)."""


def generator_spec(shape: str, events: int):
    from sparkify.local.generator import GeneratorSpec

    if shape == "generator":
        return GeneratorSpec.for_events(events, seed=SEED)
    return GeneratorSpec(songs=MANY_SONGS, users=MANY_USERS, days=MANY_DAYS,
                         events_per_day=max(1, round(events / MANY_DAYS)), seed=SEED)


def generated(shape: str, events: int) -> Path:
    """The generator's data set for `shape` ("generator" or "many") at `events`, made on first use."""
    from sparkify.local.generator import generate

    spec = generator_spec(shape, events)
    name = f"events-{events}-seed{SEED}" if shape == "generator" else f"{shape}-{events}-seed{SEED}"
    path = DATA_DIR / name
    marker = path / ".complete"
    if marker.exists() and marker.read_text() == repr(spec):
        return path
    shutil.rmtree(path, ignore_errors=True)
    print(f"generating the {shape} shape, {events:,} events, into {path} ...", flush=True)
    generate(path, spec)
    marker.write_text(repr(spec))
    return path


def real(events: int) -> Path:
    if not (REAL_SAMPLE / "log_data").is_dir():
        raise ShapeUnavailable(f"the real sample is not at {REAL_SAMPLE} (no log_data/ there)")
    path = DATA_DIR / f"real-resampled-{events}"
    if not (path / ".complete").is_file():
        print(f"resampling the real sample to {events:,} events into {path} ...", flush=True)
    return resampled_real_sample(events, path, REAL_SAMPLE)


SHAPES = {"generator": lambda events: generated("generator", events), "real": real,
          "many": lambda events: generated("many", events)}


def shape_data(shape: str, events: int) -> Path:
    """The directory (S3 layout) of `shape` at `events`; ShapeUnavailable when it cannot be made."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r} (choose from {', '.join(SHAPES)})")
    return SHAPES[shape](events)


if __name__ == "__main__":
    print(resampled_real_sample(int(sys.argv[1]), Path(sys.argv[2])))
