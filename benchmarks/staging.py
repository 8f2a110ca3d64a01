"""Staging alone against the COPY ceiling, per data shape: `python benchmarks/staging.py`.

On the embedded PostgreSQL, a fresh database per shape: `staging_alone` (Warehouse.stage of
the events from local files; best of `--repeats`) and then `copy_ceiling` (PostgreSQL's own
COPY of the rows just staged) in the same run, for each data shape of benchmarks/shapes.py
(default: the generator's and the real sample resampled). Prints rows/s and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.anchors import copy_ceiling, staging_alone  # noqa: E402
from benchmarks.run import OUT_DIR, label, parse_scale  # noqa: E402
from benchmarks.servers import fresh_database  # noqa: E402
from benchmarks.shapes import SHAPES, shape_data  # noqa: E402


def measure(server_url: str, shape: str, data: Path, repeats: int, ceiling_repeats: int) -> dict:
    from sparkify.warehouse.postgres import PostgresWarehouse

    url = fresh_database(server_url, f"staging_{shape.replace('-', '_')}")
    PostgresWarehouse(url).create_tables()
    runs = [staging_alone(url, data) for _ in range(repeats)]
    best = max(runs, key=lambda run: run["rows_per_second"])
    ceiling = copy_ceiling(url, OUT_DIR, ceiling_repeats)
    return {"shape": shape, "data": str(data), "staging_alone": best,
            "rows_per_second_each": [run["rows_per_second"] for run in runs],
            "ceiling_rows_per_second": ceiling.best_rows_per_second,
            "ratio": best["rows_per_second"] / ceiling.best_rows_per_second,
            "load_average": os.getloadavg()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=parse_scale, default=1_000_000)
    parser.add_argument("--shapes", default="generator,real", help=f"of {', '.join(SHAPES)}")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ceiling-repeats", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    from sparkify.local.postgres import EmbeddedPostgres
    from sparkify.staging.native import NATIVE

    print("compiled parser:", "yes" if NATIVE is not None else "no")
    results = []
    with EmbeddedPostgres(data_dir=OUT_DIR / "pgdata", database="postgres") as server:
        for shape in args.shapes.split(","):
            data = shape_data(shape, args.events)
            result = measure(server.url, shape, data, args.repeats, args.ceiling_repeats)
            alone = result["staging_alone"]
            print(f"{shape} {label(args.events)}: staging alone {alone['rows_per_second']:,.0f} rows/s "
                  f"(each: {', '.join(f'{r:,.0f}' for r in result['rows_per_second_each'])}; CPU main "
                  f"{alone['cpu_seconds_main']:.1f}s, workers {alone['cpu_seconds_workers']:.1f}s), "
                  f"COPY ceiling {result['ceiling_rows_per_second']:,.0f} rows/s, ratio "
                  f"{result['ratio']:.2f}; load average {result['load_average'][0]:.1f}", flush=True)
            results.append(result)
    if args.out:
        args.out.write_text(json.dumps({"compiled": NATIVE is not None, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
