"""The Sparkify ELT benchmark: `make bench`, or `python benchmarks/run.py [options]`.

For each data shape (benchmarks/shapes.py) on each server (benchmarks/servers.py) at each
scale: run the whole ELT in a child process (benchmarks/pipeline.py) against a fresh database
through --warehouse-url, with its own S3 emulator; then, on the same rows and server, the
anchors (benchmarks/anchors.py): the COPY ceiling, row by row, the naive transform without
keys and with the description's keys. The figures are ratios to those anchors, taken in the
same run (benchmarks/figures.py). Every measurement goes to
benchmarks/results/<UTC date>-<short sha>.json (written after every run, so a partial run
counts); `--summary [FILE]` prints the table of one (the latest by default).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT))

from benchmarks import servers as bench_servers  # noqa: E402
from benchmarks.anchors import copy_ceiling, naive_transform, row_by_row, staging_alone  # noqa: E402
from benchmarks.figures import FIXED_COST_TARGETS, TARGETS, figures, print_run  # noqa: E402
from benchmarks.fixed_costs import measure as measure_fixed_costs, print_fixed_costs  # noqa: E402
from benchmarks.record import git_commit, machine, results_path, utc_now  # noqa: E402
from benchmarks.shapes import SHAPES, ShapeUnavailable, shape_data  # noqa: E402
from benchmarks.summary import RESULTS_DIR, latest_results, markdown_summary  # noqa: E402
from sparkify.paths import STATE_DIR  # noqa: E402

OUT_DIR = STATE_DIR / "bench"
MATRIX_SCALE, LARGE_RUN = "1M", ("generator", "embedded", "10M")


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


def _names(text: str, known, what: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"no {what} named {', '.join(unknown) or '(none given)'}: "
                                         f"choose from {', '.join(known)}")
    return names


def plan(shapes: list[str], servers: list[str], scales: str | None) -> list[tuple[str, str, int]]:
    """(shape, server, events) for each run, grouped by server. Without --scales: every shape
    and server at 1M, and the generator's data at 10M on the embedded server (the 10M targets)."""
    events = [parse_scale(s) for s in (scales or MATRIX_SCALE).split(",") if s.strip()]
    runs = [(shape, server, n) for server in servers for shape in shapes for n in events]
    shape, server, large = LARGE_RUN
    if scales is None and shape in shapes and server in servers:
        runs.insert(max(i for i, run in enumerate(runs) if run[1] == server) + 1,
                    (shape, server, parse_scale(large)))
    return runs


def run_pipeline(data: Path, url: str, name: str, api_url: str) -> dict:
    out, log = OUT_DIR / "runs" / f"{name}.json", OUT_DIR / "runs" / f"{name}.log"
    out.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PREFECT_API_URL": api_url}
    started = time.perf_counter()
    with log.open("w") as log_file:
        code = subprocess.call(
            [sys.executable, str(BENCH_DIR / "pipeline.py"), "--data", str(data),
             "--warehouse-url", url, "--out", str(out)],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    if code != 0:
        tail = log.read_text().strip().splitlines()[-3:]
        raise RunFailed(f"the ELT failed (exit {code}); see {log}: " + " / ".join(tail))
    result = json.loads(out.read_text())
    result["process_wall_seconds"] = time.perf_counter() - started
    return result


class RunFailed(Exception):
    pass


def measure(server_url: str, shape: str, server: str, events: int, data: Path, api_url: str,
            args: argparse.Namespace) -> dict:
    """One run: the ELT, then the anchors on its rows; in a fresh database, dropped after."""
    name = f"{shape}-{server}-{label(events)}"
    database = f"bench_{shape}_{label(events)}".lower()
    url = bench_servers.fresh_database(server_url, database)
    load_before = os.getloadavg()
    print(f"\nrunning the ELT: {name} ...", flush=True)
    writes: dict[str, dict] = {}

    def written(step: str, measure_step):
        before = bench_servers.write_counters(server_url)
        result = measure_step()
        writes[step] = bench_servers.counted(before, bench_servers.write_counters(server_url))
        return result

    try:
        run = written("elt", lambda: run_pipeline(data, url, name, api_url))
        alone = staging_alone(url, data)
        ceiling = copy_ceiling(url, OUT_DIR, args.ceiling_repeats)
        rowwise = row_by_row(url, args.insert_cap)
        naive = {keys: written(f"naive_{keys}", lambda k=keys: naive_transform(url, k == "with_keys"))
                 for keys in ("without_keys", "with_keys")}
    finally:
        bench_servers.drop_database(server_url, database)
    described = describe_data(data)
    run["server_writes"] = writes
    fig = figures(run, ceiling, rowwise, alone, naive)
    print_run(name, described, run, ceiling, rowwise, fig, alone, naive)
    return {"shape": shape, "server": server, "scale": label(events), "events": events,
            "data": described, "run": run, "staging_alone": alone, "ceiling": ceiling.as_dict(),
            "row_by_row": [{**asdict(t), "rows_per_second": t.rows_per_second,
                            "extrapolated_seconds": t.extrapolated_seconds} for t in rowwise],
            "naive_transform": {k: asdict(v) for k, v in naive.items()},
            "figures": fig, "load_average": {"before": load_before, "after": os.getloadavg()}}


def describe_data(path: Path) -> dict:
    def files(sub: str) -> list[Path]:
        return [p for p in (path / sub).rglob("*.json") if p.is_file()]

    logs, songs = files("log_data"), files("song_data")
    return {"path": str(path), "event_files": len(logs), "event_bytes": sum(p.stat().st_size for p in logs),
            "song_files": len(songs), "song_bytes": sum(p.stat().st_size for p in songs)}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default=",".join(SHAPES),
                        type=lambda text: _names(text, SHAPES, "shapes"),
                        help=f"data shapes, comma-separated (default {','.join(SHAPES)})")
    parser.add_argument("--servers", default=",".join(bench_servers.SERVERS),
                        type=lambda text: _names(text, bench_servers.SERVERS, "servers"),
                        help=f"servers, comma-separated (default {','.join(bench_servers.SERVERS)})")
    parser.add_argument("--scales", help="events per run, comma-separated, for every shape and server "
                        "(e.g. 10k,100k,1M,10M); default: 1M, plus 10M for the generator on the "
                        "embedded server")
    parser.add_argument("--insert-cap", type=int, default=20_000,
                        help="rows per table inserted one by one for the row-by-row anchor")
    parser.add_argument("--ceiling-repeats", type=int, default=3)
    parser.add_argument("--no-fixed-costs", action="store_true",
                        help="skip the command-line runs of the sample (benchmarks/fixed_costs.py)")
    parser.add_argument("--out", type=Path, help="results file (default benchmarks/results/"
                        "<UTC date>-<short sha>.json)")
    parser.add_argument("--summary", nargs="?", const="latest", metavar="RESULTS_JSON",
                        help="print the summary table of a results file (default: the latest) and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.summary is not None:
        path = latest_results() if args.summary == "latest" else Path(args.summary)
        results = json.loads(path.read_text())
        if "runs" not in results:
            raise SystemExit(f"{path}: not a results file of benchmarks/run.py (it has no 'runs')")
        print(f"{path}\n\n{markdown_summary(results)}")
        return 0
    try:
        runs = plan(args.shapes, args.servers, args.scales)
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness
    from sparkify.staging.native import NATIVE

    commit = git_commit()
    RESULTS_DIR.mkdir(exist_ok=True)
    out = args.out or results_path(RESULTS_DIR, commit["sha"])
    results = {"commit": commit, "machine": machine(), "started_at": utc_now(),
               "compiled_staging": NATIVE is not None, "options": {k: str(v) for k, v in vars(args).items()},
               "targets": {**TARGETS, "fixed_costs": FIXED_COST_TARGETS},
               "servers": {}, "runs": [], "skipped": [], "failed": []}
    print("staging rows built by " + ("the compiled parser (sparkify.staging._native)" if NATIVE
                                      else "the reference alone: sparkify.staging._native is not "
                                           "built, or SPARKIFY_NATIVE=off"))
    datasets = prepare_data(runs, results["skipped"])

    def save() -> None:
        out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")

    with prefect_test_harness(server_startup_timeout=120):
        api_url = PREFECT_API_URL.value()
        for server in dict.fromkeys(server for _, server, _ in runs):
            with bench_servers.running(server, OUT_DIR) as server_url:
                results["servers"][server] = bench_servers.describe(server_url)
                for shape, on, events in runs:
                    if on != server or (shape, events) not in datasets:
                        continue
                    try:
                        results["runs"].append(measure(server_url, shape, server, events,
                                                       datasets[shape, events], api_url, args))
                    except RunFailed as exc:
                        print(f"  {exc}", flush=True)
                        results["failed"].append({"shape": shape, "server": server,
                                                  "scale": label(events), "reason": str(exc)})
                    save()
                if server == "embedded" and not args.no_fixed_costs:
                    results["fixed_costs"] = measure_fixed_costs(
                        lambda name: bench_servers.fresh_database(server_url, name), OUT_DIR)
                    print_fixed_costs(results["fixed_costs"])
    results["machine"]["load_average_after"] = os.getloadavg()
    results["finished_at"] = utc_now()
    save()
    print("\n" + markdown_summary(results))
    print(f"\nresults: {out}")
    return 1 if results["failed"] else 0


def prepare_data(runs: list[tuple[str, str, int]], skipped: list) -> dict[tuple[str, int], Path]:
    """Each shape's data at each scale, made (or found cached) before any server starts."""
    datasets, tried = {}, set()
    for shape, _, events in runs:
        if (shape, events) in tried:
            continue
        tried.add((shape, events))
        try:
            datasets[shape, events] = shape_data(shape, events)
        except ShapeUnavailable as exc:
            print(f"skipping the {shape} shape at {label(events)}: {exc}", flush=True)
            skipped += [{"shape": shape, "server": on, "scale": label(events), "reason": str(exc)}
                        for shape_, on, n in runs if (shape_, n) == (shape, events)]
    return datasets


if __name__ == "__main__":
    sys.exit(main())
