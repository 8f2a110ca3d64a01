"""What a user waits for besides the data: `flows/main.py` as a command, wall seconds.

In a fresh PREFECT_HOME (its prefect.db created first, as ~/.prefect is after a first run) and a
fresh database per series: the real sample's first load (../shared/data/udacity-sample, else the
generated sample) and a second run that finds nothing new, with the kept local Prefect server
(the first run of the series starts it) and with a temporary server per command.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REAL_SAMPLE = ROOT.parent / "shared" / "data" / "udacity-sample"
MODES = ("kept", "temporary")
RUN_TIMEOUT = 900


def sample_dir() -> Path:
    if REAL_SAMPLE.is_dir():
        return REAL_SAMPLE
    from sparkify.local.generator import default_sample

    return default_sample()


def user_env(home: Path, mode: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return {**env, "PREFECT_HOME": str(home), "SPARKIFY_PREFECT_SERVER": mode,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


def timed_run(data: Path, url: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "flows/main.py", "--data", str(data),
                           "--warehouse-url", url], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=RUN_TIMEOUT)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"flows/main.py failed (exit {done.returncode}): {done.stderr[-2000:]}")
    return seconds


def measure(fresh_database, work_dir: Path) -> dict:
    """{mode: {"first load": s, "nothing new": s}}, plus the kept server's own start."""
    from sparkify.local_prefect import stop_kept_server

    data = sample_dir()
    results: dict = {"sample": str(data)}
    template = work_dir / "prefect-home-template"
    if not (template / "prefect.db").is_file():
        shutil.rmtree(template, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"],
                       env=user_env(template, "temporary"), check=True, capture_output=True,
                       timeout=RUN_TIMEOUT)
    for mode in MODES:
        home = work_dir / f"prefect-home-{mode}"
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(template, home)
        env, url = user_env(home, mode), fresh_database(f"fixed_costs_{mode}")
        try:
            if mode == "kept":  # its start apart, by a command that starts it and stops
                started = time.perf_counter()
                started_server = subprocess.run(
                    [sys.executable, "-c", "from sparkify.local_prefect import kept_server_url; "
                     "kept_server_url()"], cwd=ROOT, env=env, capture_output=True, text=True,
                    timeout=RUN_TIMEOUT)
                if started_server.returncode != 0:
                    raise SystemExit(f"the kept server did not start: {started_server.stderr[-2000:]}")
                results["kept server start"] = time.perf_counter() - started
            results[mode] = {"first load": timed_run(data, url, env),
                             "nothing new": timed_run(data, url, env)}
        finally:
            stop_kept_server(home)
    return results


def print_fixed_costs(results: dict) -> None:
    print(f"\n== fixed costs: flows/main.py as a command on {results['sample']} ==")
    print(f"  kept local Prefect server, its start apart: {results['kept server start']:.1f}s")
    for mode in MODES:
        runs = results[mode]
        print(f"  {mode + ' server':<18} first load {runs['first load']:6.1f}s   "
              f"nothing new {runs['nothing new']:6.1f}s")
