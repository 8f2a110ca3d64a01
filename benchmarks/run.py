"""The Sparkify ELT benchmark: `make bench` or `python benchmarks/run.py [--scales 10k,100k]`.

For each scale: generate the data once (cached in .sparkify/bench/data/), run the whole flow
in a child process on the embedded PostgreSQL (a fresh database per scale) with its local S3
emulator, then measure anchors on the same rows and the same server: PostgreSQL's own COPY
of the staging rows (the ceiling), one INSERT per row (the way most public implementations
load) and the naive five INSERT ... SELECT transform (with and without keys). Prints a table
per scale and writes everything to .sparkify/bench/results-<sha>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT))

from benchmarks.anchors import copy_ceiling, naive_transform, row_by_row, staging_alone  # noqa: E402
from benchmarks.fixed_costs import measure as measure_fixed_costs, print_fixed_costs  # noqa: E402
from benchmarks.summary import _s, markdown_summary  # noqa: E402
from sparkify.paths import STATE_DIR  # noqa: E402

OUT_DIR = STATE_DIR / "bench"
DEFAULT_SCALES = "10k,100k,1M,10M"
SEED = 42
TARGETS = {"staging_vs_ceiling": 0.7, "elt_speedup_vs_rowwise": 20.0, "peak_memory_mb": 1024.0,
           "overhead_share": 0.2, "transform_vs_naive_with_keys": 1.5,
           "nothing_new_seconds": 5.0, "sample_seconds": 10.0}
GX_STEP = re.compile(r"check|quality|valid", re.IGNORECASE)
BESIDE = re.compile(r"\(beside ")


def parse_scale(text: str) -> int:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmM]?)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"not a scale: {text!r} (e.g. 10k, 1M, 2500)")
    number, unit = float(match.group(1)), match.group(2).lower()
    return int(number * {"": 1, "k": 1_000, "m": 1_000_000}[unit])


def label(events: int) -> str:
    for size, unit in ((1_000_000, "M"), (1_000, "k")):
        if events >= size and events % size == 0:
            return f"{events // size}{unit}"
    return str(events)


# ---- data ---------------------------------------------------------------------------------

def dataset(events: int) -> Path:
    """The generated data set of `events` events, made on first use."""
    from sparkify.local.generator import GeneratorSpec, generate

    spec = GeneratorSpec.for_events(events, seed=SEED)
    path = OUT_DIR / "data" / f"events-{events}-seed{SEED}"
    marker = path / ".complete"
    if marker.exists() and marker.read_text() == repr(spec):
        return path
    shutil.rmtree(path, ignore_errors=True)
    print(f"generating {label(events)} events into {path} ...", flush=True)
    started = time.perf_counter()
    generate(path, spec)
    marker.write_text(repr(spec))
    print(f"  generated in {time.perf_counter() - started:.1f}s", flush=True)
    return path


def describe_data(path: Path) -> dict:
    def files(sub: str) -> list[Path]:
        return [p for p in (path / sub).rglob("*.json") if p.is_file()]

    logs, songs = files("log_data"), files("song_data")
    return {"event_files": len(logs), "event_bytes": sum(p.stat().st_size for p in logs),
            "song_files": len(songs), "song_bytes": sum(p.stat().st_size for p in songs)}


# ---- servers ------------------------------------------------------------------------------

def fresh_database(server_url: str, name: str) -> str:
    import psycopg2

    admin = psycopg2.connect(server_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    base, _, query = server_url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def run_pipeline(data: Path, url: str, scale: str, api_url: str) -> dict:
    out = OUT_DIR / "runs" / f"{scale}.json"
    log = OUT_DIR / "runs" / f"{scale}.log"
    out.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PREFECT_API_URL": api_url}
    started = time.perf_counter()
    with log.open("w") as log_file:
        code = subprocess.call(
            [sys.executable, str(BENCH_DIR / "pipeline.py"), "--data", str(data),
             "--warehouse-url", url, "--out", str(out)],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    if code != 0:
        tail = log.read_text().strip().splitlines()[-5:]
        raise SystemExit(f"the pipeline failed at {scale} (exit {code}); see {log}:\n" + "\n".join(tail))
    result = json.loads(out.read_text())
    result["process_wall_seconds"] = time.perf_counter() - started
    return result


# ---- figures ------------------------------------------------------------------------------

def figures(run: dict, ceiling, rowwise, alone: dict, naive: dict) -> dict:
    """Derived rates, ratios and the overhead estimate of one scale."""
    seconds = run["seconds"]
    seed = seconds.get("seed emulator", 0.0)
    elt = run["flow_wall_seconds"] - seed
    events = run["stage"].get("staging_events", {})
    songs = run["stage"].get("staging_songs", {})
    events_rate = events["rows"] / events["seconds"] if events.get("seconds") else 0.0
    rowwise_seconds = sum(t.extrapolated_seconds for t in rowwise)
    # GX's share of the wall time: the checks the flow waits for. The staging checkpoint runs
    # beside the transform, so only the time the transform then waits for it counts.
    gx = sum(v for k, v in seconds.items() if GX_STEP.search(k) and not BESIDE.search(k))
    gx += run.get("gate_wait_seconds") or 0.0
    # The pipeline's own work: steps as timed by the flow, except staging and transform, which
    # are counted from inside their tasks (the flow stages the two tables one after the other).
    # The rest of the ELT is Prefect (flow and task runs, their API calls, the lock and
    # hand-offs between steps) plus the GX checks.
    inner_stage = events.get("seconds", 0.0) + songs.get("seconds", 0.0)
    work = sum(v for k, v in seconds.items()
               if k not in ("seed emulator", "stage", "transform") and not GX_STEP.search(k))
    work += inner_stage + (run["transform_seconds"] or 0.0)
    overhead = max(elt - work, 0.0)
    ceiling_rate = ceiling.best_rows_per_second
    events_rowwise = next(t for t in rowwise if t.table == "staging_events")
    return {
        "elt_seconds": elt,
        "staging_events_rows_per_second": events_rate,
        "staging_vs_ceiling": events_rate / ceiling_rate if ceiling_rate else None,
        "staging_alone_vs_ceiling": alone["rows_per_second"] / ceiling_rate if ceiling_rate else None,
        "staging_vs_rowwise": events_rate / events_rowwise.rows_per_second,
        "elt_vs_ceiling_seconds": elt / (events["rows"] / ceiling_rate) if ceiling_rate else None,
        "rowwise_elt_seconds": rowwise_seconds,
        "elt_speedup_vs_rowwise": rowwise_seconds / elt if elt else None,
        "work_seconds": work,
        "gx_seconds": gx,
        "prefect_seconds": max(overhead - gx, 0.0),
        "overhead_seconds": overhead,
        "overhead_share": overhead / elt if elt else None,
        "transform_vs_naive": _ratio(run["transform_seconds"], naive["without_keys"].seconds),
        "transform_vs_naive_with_keys": _ratio(run["transform_seconds"], naive["with_keys"].seconds),
    }


def _ratio(seconds: float | None, anchor: float) -> float | None:
    return seconds / anchor if seconds and anchor else None


def print_scale(name: str, data: dict, run: dict, ceiling, rowwise, fig: dict, alone: dict,
                naive: dict) -> None:
    seconds, stage = run["seconds"], run["stage"]
    staged_rows = sum(v["rows"] for v in stage.values())
    star_rows = sum(run["rows"].get(t, 0) for t in ("songplay", "users", "song", "artist", "time"))
    step_rows = {"stage": staged_rows, "transform": star_rows}
    print(f"\n== {name}: {run['staged'].get('staging_events', 0):,} events in {data['event_files']} "
          f"files ({data['event_bytes'] / 1e6:,.0f} MB), {data['song_files']:,} song files ==")
    print(f"  {'step':<40}{'seconds':>10}{'rows':>14}{'rows/s':>12}")

    def line(step: str, secs: float, rows: int | None) -> None:
        rate = f"{rows / secs:>12,.0f}" if rows and secs else f"{'':>12}"
        print(f"  {step:<40}{secs:>10.2f}{(f'{rows:,}' if rows else ''):>14}{rate}")

    for step, secs in seconds.items():
        if step == "seed emulator":
            continue
        line(step, secs, step_rows.get(step))
        if step == "stage":
            for table, result in stage.items():
                line(f"  {table}", result["seconds"], result["rows"])
        if step == "transform":
            for statement in run["statements"]:
                if statement["name"].startswith(("star/", "bulk/drop", "bulk/build")):
                    line(f"  {statement['name'].removeprefix('star/')}", statement["seconds"],
                         statement["rows"])
    line("ELT (flow, no seeding)", fig["elt_seconds"], None)
    emulator = run["emulator_cpu_seconds"]
    print(f"  S3 emulator, apart: seeding {seconds.get('seed emulator', 0):.2f}s wall; CPU "
          f"{_s(emulator['seeding'])} seeding, {_s(emulator['serving'])} serving GETs")
    memory = run["memory_mb"]
    workers = " + ".join(f"{w:.0f}" for w in memory["worker_peaks"]) or "none"
    print(f"  peak memory: pipeline process {memory['pipeline_peak']:.0f} MB; with parse workers "
          f"{memory['pipeline_plus_workers_peak']:.0f} MB (workers {workers} MB)")
    print(f"  COPY ceiling: {ceiling.best_rows_per_second:,.0f} rows/s (best of "
          f"{', '.join(f'{s:.2f}' for s in ceiling.seconds)}s for {ceiling.rows:,} rows)")
    print("  row by row: " + ", ".join(f"{t.table} {t.rows_per_second:,.0f}/s" for t in rowwise)
          + f"; all rows of every table: {fig['rowwise_elt_seconds']:,.0f}s extrapolated")
    print(f"  staging_events in the flow: {fig['staging_vs_ceiling']:.2f} x the COPY ceiling, "
          f"{fig['staging_vs_rowwise']:.0f} x row by row")
    print(f"  staging_events alone (local files, no S3, no songs load beside it): "
          f"{alone['rows_per_second']:,.0f} rows/s = {fig['staging_alone_vs_ceiling']:.2f} x the ceiling "
          f"(CPU {alone['cpu_seconds_main']:.1f}s here + {alone['cpu_seconds_workers']:.1f}s in workers)")
    print(f"  ELT: {fig['elt_vs_ceiling_seconds']:.1f} x the ceiling's time for its events; "
          f"{fig['elt_speedup_vs_rowwise']:.1f} x faster than row by row")
    print(f"  transform {run['transform_seconds']:.2f}s = {fig['transform_vs_naive']:.2f} x the naive "
          f"five INSERT ... SELECT ({naive['without_keys'].seconds:.2f}s), "
          f"{fig['transform_vs_naive_with_keys']:.2f} x them with keys ({naive['with_keys'].seconds:.2f}s)")
    print(f"  load average (other processes on the machine): "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"  Prefect+GX overhead: {fig['overhead_seconds']:.2f}s of {fig['elt_seconds']:.2f}s "
          f"({fig['overhead_share']:.0%}; GX checks {fig['gx_seconds']:.2f}s, Prefect "
          f"{fig['prefect_seconds']:.2f}s)")


def git_commit() -> dict:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    return {"sha": git("rev-parse", "--short", "HEAD") or "unknown",
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default=DEFAULT_SCALES,
                        help=f"events per run, comma-separated (default {DEFAULT_SCALES})")
    parser.add_argument("--insert-cap", type=int, default=20_000,
                        help="rows per table inserted one by one for the row-by-row anchor")
    parser.add_argument("--ceiling-repeats", type=int, default=3)
    parser.add_argument("--no-fixed-costs", action="store_true",
                        help="skip the command-line runs of the sample (benchmarks/fixed_costs.py)")
    parser.add_argument("--out", type=Path, help="results JSON (default .sparkify/bench/results-<sha>.json)")
    parser.add_argument("--summary", type=Path, metavar="RESULTS_JSON",
                        help="print the summary table of an earlier run and exit")
    args = parser.parse_args(argv)
    if args.summary:
        print(markdown_summary(json.loads(args.summary.read_text())))
        return 0
    scales = [parse_scale(s) for s in args.scales.split(",") if s.strip()]

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    from sparkify.local.postgres import EmbeddedPostgres

    commit = git_commit()
    out = args.out or OUT_DIR / f"results-{commit['sha']}.json"
    results = {"commit": commit, "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                                             "python": platform.python_version()},
               "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "targets": TARGETS, "scales": {}}
    from sparkify.staging.native import NATIVE

    results["compiled_staging"] = NATIVE is not None
    print("staging rows built by " + ("the compiled parser (sparkify.staging._native)" if NATIVE
                                      else "the reference alone: sparkify.staging._native is not "
                                           "built, or SPARKIFY_NATIVE=off"))
    datasets = {events: dataset(events) for events in scales}
    with prefect_test_harness(server_startup_timeout=120), \
            EmbeddedPostgres(data_dir=OUT_DIR / "pgdata", database="postgres") as server:
        api_url = PREFECT_API_URL.value()
        for events in scales:
            name = label(events)
            url = fresh_database(server.url, f"bench_{name.lower()}")
            print(f"\nrunning the ELT on {name} events ...", flush=True)
            run = run_pipeline(datasets[events], url, name, api_url)
            alone = staging_alone(url, datasets[events])
            ceiling = copy_ceiling(url, OUT_DIR, args.ceiling_repeats)
            rowwise = row_by_row(url, args.insert_cap)
            naive = {"without_keys": naive_transform(url, keys=False),
                     "with_keys": naive_transform(url, keys=True)}
            data = describe_data(datasets[events])
            fig = figures(run, ceiling, rowwise, alone, naive)
            print_scale(name, data, run, ceiling, rowwise, fig, alone, naive)
            results["scales"][name] = {
                "events": events, "data": data, "run": run, "staging_alone": alone,
                "ceiling": ceiling.as_dict(), "load_average": os.getloadavg(),
                "row_by_row": [{**asdict(t), "rows_per_second": t.rows_per_second,
                                "extrapolated_seconds": t.extrapolated_seconds} for t in rowwise],
                "naive_transform": {k: asdict(v) for k, v in naive.items()},
                "figures": fig,
            }
            out.write_text(json.dumps(results, indent=2))  # after every scale: a partial run counts
        if not args.no_fixed_costs:
            results["fixed_costs"] = measure_fixed_costs(
                lambda name: fresh_database(server.url, name), OUT_DIR)
            print_fixed_costs(results["fixed_costs"])
            out.write_text(json.dumps(results, indent=2))
    print("\n" + markdown_summary(results))
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
