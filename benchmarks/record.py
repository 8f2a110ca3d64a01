"""What a results file says besides the measurements: the machine, the commit, when; and
where the file goes (benchmarks/results/<UTC date>-<short sha>.json)."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def git_commit() -> dict:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    return {"sha": git("rev-parse", "--short", "HEAD") or "unknown",
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def machine() -> dict:
    return {"nproc": len(os.sched_getaffinity(0)), "cpus": os.cpu_count(),
            "memory_gb": _meminfo_kb("MemTotal") / 2**20, "platform": platform.platform(),
            "python": platform.python_version(), "load_average_before": os.getloadavg()}


def _meminfo_kb(key: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def results_path(directory: Path, sha: str, prefix: str = "") -> Path:
    """[prefix]<UTC date>-<sha>.json, or -2, -3 ... after it when a run of the same day and
    commit has one."""
    stem = f"{prefix}{time.strftime('%Y-%m-%d', time.gmtime())}-{sha}"
    path, n = directory / f"{stem}.json", 1
    while path.exists():
        n += 1
        path = directory / f"{stem}-{n}.json"
    return path
