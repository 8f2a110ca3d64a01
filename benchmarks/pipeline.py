"""One ELT run in its own process, measured from inside: `python benchmarks/pipeline.py ...`.

Run by benchmarks/run.py. Writes a JSON file with the flow's RunSummary, its wall time, the
staging results and transform statement timings (from sparkify.warehouse's debug records),
the peak memory of this process and of its parse workers, and the CPU time the S3 emulator
(a child process of the flow, not counted as pipeline memory) spent seeding and serving.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import resource
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sparkify import cli  # noqa: E402, F401  (sets Prefect's environment before it is imported)
from sparkify.warehouse.base import STATEMENT_TIMED  # noqa: E402  (the debug records read below)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# sparkify.quality.report.QualityReport.summary(), the line a checkpoint logs when it is done
CHECKPOINT_DONE = re.compile(r"^quality checkpoint '(?P<name>[^']+)' .*? tables in (?P<seconds>[0-9.]+)s")
EMULATOR_MARK = b"sparkify.local.s3_server"


def _proc(pid: int, name: str) -> str:
    return (Path("/proc") / str(pid) / name).read_text()


def _cpu_seconds(pid: int) -> float:
    fields = _proc(pid, "stat").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _status_kb(pid: int, key: str) -> int:
    for line in _proc(pid, "status").splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(_proc(int(entry), "stat").rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


class Sampler(threading.Thread):
    """Every `interval` s: the emulator's CPU time and each other descendant's peak RSS."""

    def __init__(self, interval: float = 0.2) -> None:
        super().__init__(daemon=True, name="bench-sampler")
        self.interval = interval
        self.stopped = threading.Event()
        self.emulator_cpu = 0.0
        self.worker_peak_kb: dict[int, int] = {}
        self.tree_rss_peak_kb = 0
        self._emulators: set[int] = set()

    def sample(self) -> None:
        me, tree_rss = os.getpid(), 0
        emulator_cpu = 0.0
        for pid in _descendants(me):
            try:
                if pid not in self._emulators and EMULATOR_MARK in Path(f"/proc/{pid}/cmdline").read_bytes():
                    self._emulators.add(pid)
                if pid in self._emulators:
                    emulator_cpu += _cpu_seconds(pid)
                    continue
                self.worker_peak_kb[pid] = max(self.worker_peak_kb.get(pid, 0), _status_kb(pid, "VmHWM"))
                tree_rss += _status_kb(pid, "VmRSS")
            except (OSError, ValueError):
                continue  # it ended between listing and reading
        self.emulator_cpu = max(self.emulator_cpu, emulator_cpu)
        self.tree_rss_peak_kb = max(self.tree_rss_peak_kb, tree_rss + _status_kb(me, "VmRSS"))

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            self.sample()


class Capture(logging.Handler):
    """Keeps the staging results and statement timings that sparkify.warehouse logs at debug,
    and the emulator's CPU time when the seeding task says it is done."""

    def __init__(self, sampler: Sampler) -> None:
        super().__init__(logging.DEBUG)
        self.sampler = sampler
        self.stage: dict[str, dict] = {}
        self.statements: list[dict] = []
        self.emulator_cpu_after_seeding: float | None = None
        self.transform_seconds: float | None = None
        self.gate_wait_seconds: float | None = None
        self.checkpoint_seconds: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        result = getattr(record, "stage_result", None)
        if hasattr(record, "transform_seconds"):
            self.transform_seconds = record.transform_seconds
            self.gate_wait_seconds = getattr(record, "gate_wait_seconds", None)
        elif result is not None:
            self.stage[result.table] = {"rows": result.rows, "objects": result.objects,
                                        "seconds": result.seconds, "errors": len(result.errors)}
        elif record.name == "sparkify.warehouse" and isinstance(record.args, tuple) \
                and len(record.args) == 3 and record.msg == STATEMENT_TIMED:
            name, rows, seconds = record.args
            self.statements.append({"name": name, "rows": rows, "seconds": seconds})
        elif done := CHECKPOINT_DONE.match(str(record.msg)):
            self.checkpoint_seconds[done["name"]] = float(done["seconds"])
        elif str(record.msg).startswith("seeded the S3 emulator"):
            self.sampler.sample()
            self.emulator_cpu_after_seeding = self.sampler.emulator_cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--warehouse-url", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    from pydantic import SecretStr

    from flows.main import elt

    sampler = Sampler()
    capture = Capture(sampler)
    warehouse_log = logging.getLogger("sparkify.warehouse")
    warehouse_log.setLevel(logging.DEBUG)
    warehouse_log.addHandler(capture)
    logging.getLogger("prefect.task_runs").addHandler(capture)
    sampler.start()
    started = time.perf_counter()
    summary = elt(data=args.data, warehouse_url=SecretStr(args.warehouse_url))
    wall = time.perf_counter() - started
    sampler.stopped.set()
    sampler.join()

    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across execve, so it would report the bench
    # process's own size at the fork whenever that was larger than this run's peak.
    own_peak_kb = _status_kb(os.getpid(), "VmHWM")
    workers_kb = sorted(sampler.worker_peak_kb.values(), reverse=True)
    result = {
        "flow_wall_seconds": wall,
        "seconds": summary.seconds,
        "rows": summary.rows,
        "staged": summary.staged,
        "matched_plays": summary.matched_plays,
        "malformed": summary.malformed,
        "stage": capture.stage,
        "statements": capture.statements,
        "transform_seconds": capture.transform_seconds,
        "gate_wait_seconds": capture.gate_wait_seconds,
        "checkpoint_seconds": capture.checkpoint_seconds,
        "memory_mb": {
            "pipeline_peak": own_peak_kb / 1024,
            "worker_peaks": [kb / 1024 for kb in workers_kb],
            "pipeline_plus_workers_peak": (own_peak_kb + sum(workers_kb)) / 1024,
            "sampled_tree_peak": sampler.tree_rss_peak_kb / 1024,
        },
        "emulator_cpu_seconds": {
            "total": sampler.emulator_cpu,
            "seeding": capture.emulator_cpu_after_seeding,
            "serving": (sampler.emulator_cpu - capture.emulator_cpu_after_seeding
                        if capture.emulator_cpu_after_seeding is not None else None),
        },
        "pipeline_cpu_seconds": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
    }
    Path(args.out).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
