"""The figures of one benchmark run (a shape on a server at a scale), from the ELT's own
measurements and the anchors measured after it on the same rows and server; and the targets
they are held to (issue #24 item 3)."""

from __future__ import annotations

import os
import re

# name: (how it compares, the bound, the scales it is held to)
TARGETS = {
    "transform_vs_naive_with_keys": ("<=", 1.5, ("1M",)),
    "elt_vs_floor": ("<=", 2.0, ("1M",)),
    "elt_speedup_vs_rowwise": (">=", 20.0, ("1M",)),
    "staging_vs_ceiling": (">=", 0.7, ("1M", "10M")),
    "gx_share": ("<=", 0.10, ("10M",)),
    "peak_memory_mb": ("<=", 1024.0, ("10M",)),
}
FIXED_COST_TARGETS = {"nothing new": 5.0, "first load": 10.0}  # seconds, with the kept server

GX_STEP = re.compile(r"check|quality|valid", re.IGNORECASE)
BESIDE = re.compile(r"\(beside ")


def met(name: str, value: float | None) -> bool | None:
    """Whether `value` meets target `name`; None when there is no value."""
    if value is None:
        return None
    comparison, bound, _ = TARGETS[name]
    return value <= bound if comparison == "<=" else value >= bound


def figures(run: dict, ceiling, rowwise, alone: dict, naive: dict) -> dict:
    """Derived rates, ratios and shares of one run."""
    seconds = run["seconds"]
    elt = run["flow_wall_seconds"] - seconds.get("seed emulator", 0.0)
    events = run["stage"].get("staging_events", {})
    events_rate = events["rows"] / events["seconds"] if events.get("seconds") else 0.0
    ceiling_rate = ceiling.best_rows_per_second
    rowwise_seconds = sum(t.extrapolated_seconds for t in rowwise)
    events_rowwise = next(t for t in rowwise if t.table == "staging_events")
    with_keys = naive["with_keys"].seconds
    # The floor: the events loaded at the COPY ceiling, then the naive transform with keys.
    floor = events["rows"] / ceiling_rate + with_keys if ceiling_rate else None
    gx = gx_seconds(run)
    overhead = max(elt - work_seconds(run), 0.0)
    plays = run["rows"].get("songplay", 0)
    return {
        "elt_seconds": elt,
        "floor_seconds": floor,
        "elt_vs_floor": _ratio(elt, floor),
        "staging_events_rows_per_second": events_rate,
        "staging_vs_ceiling": _ratio(events_rate, ceiling_rate),
        "staging_alone_vs_ceiling": _ratio(alone["rows_per_second"], ceiling_rate),
        "staging_vs_rowwise": _ratio(events_rate, events_rowwise.rows_per_second),
        "rowwise_elt_seconds": rowwise_seconds,
        "elt_speedup_vs_rowwise": _ratio(rowwise_seconds, elt),
        "transform_vs_naive": _ratio(run["transform_seconds"], naive["without_keys"].seconds),
        "transform_vs_naive_with_keys": _ratio(run["transform_seconds"], with_keys),
        "gx_seconds": gx,
        "gx_share": _ratio(gx, elt),
        "gx_checkpoint_share": _ratio(checkpoints_waited_for(run), elt),
        "prefect_seconds": max(overhead - gx, 0.0),
        "overhead_seconds": overhead,
        "overhead_share": _ratio(overhead, elt),
        "peak_memory_mb": run["memory_mb"]["pipeline_plus_workers_peak"],
        **_writes(run.get("server_writes", {})),
        "matched_share": _ratio(run["matched_plays"], plays),
    }


def gx_seconds(run: dict) -> float:
    """The GX checks the flow waits for. The staging checkpoint runs beside the transform, so
    only the time the transform then waits for it counts; the warehouse checkpoint's step has
    the report's questions running beside it, on the same cores, and counts whole."""
    seconds = run["seconds"]
    gx = sum(v for k, v in seconds.items() if GX_STEP.search(k) and not BESIDE.search(k))
    return gx + (run.get("gate_wait_seconds") or 0.0)


def checkpoints_waited_for(run: dict) -> float | None:
    """The warehouse checkpoint's own seconds (as it times itself: without the Data Docs it
    builds, and slowed by the report's questions beside it) plus the transform's wait for the
    staging one: a lower bound of what GX costs the ELT, where gx_seconds is an upper one."""
    own = run.get("checkpoint_seconds", {}).get("warehouse")
    return None if own is None else own + (run.get("gate_wait_seconds") or 0.0)


def work_seconds(run: dict) -> float:
    """The pipeline's own work: steps as the flow times them, except staging and transform,
    counted from inside their tasks (the flow stages the two tables one after the other). The
    rest of the ELT is Prefect (flow and task runs, their API calls, the lock and hand-offs
    between steps) plus the GX checks."""
    seconds = run["seconds"]
    inner_stage = sum(result.get("seconds", 0.0) for result in run["stage"].values())
    work = sum(v for k, v in seconds.items()
               if k not in ("seed emulator", "stage", "transform") and not GX_STEP.search(k))
    return work + inner_stage + (run["transform_seconds"] or 0.0)


def _writes(writes: dict) -> dict:
    """WAL written and checkpoints max_wal_size forced, in the ELT and in the naive transform
    with keys: what a server's WAL settings bound."""
    figures = {}
    for step in ("elt", "naive_with_keys"):
        if step in writes:
            figures[f"{step}_wal_gb"] = writes[step]["wal_bytes"] / 2**30
            figures[f"{step}_checkpoints_requested"] = writes[step]["checkpoints_requested"]
    return figures


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return numerator / denominator if numerator is not None and denominator else None


def print_run(title: str, data: dict, run: dict, ceiling, rowwise, fig: dict, alone: dict,
              naive: dict) -> None:
    """The run's steps and anchors, for the terminal (the results file keeps every figure)."""
    seconds, stage = run["seconds"], run["stage"]
    staged_rows = sum(v["rows"] for v in stage.values())
    star_rows = sum(run["rows"].get(t, 0) for t in ("songplay", "users", "song", "artist", "time"))
    step_rows = {"stage": staged_rows, "transform": star_rows}
    print(f"\n== {title}: {run['staged'].get('staging_events', 0):,} events in {data['event_files']} "
          f"files ({data['event_bytes'] / 1e6:,.0f} MB), {data['song_files']:,} song files; "
          f"{run['matched_plays']:,} of {run['rows'].get('songplay', 0):,} plays matched ==")
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
    print(f"  staging_events in the flow: {_x(fig['staging_vs_ceiling'])} x the COPY ceiling; alone "
          f"(local files, no S3, no songs beside it) {alone['rows_per_second']:,.0f} rows/s = "
          f"{_x(fig['staging_alone_vs_ceiling'])} x")
    print(f"  transform {run['transform_seconds']:.2f}s = {_x(fig['transform_vs_naive'])} x the naive "
          f"five INSERT ... SELECT ({naive['without_keys'].seconds:.2f}s), "
          f"{_x(fig['transform_vs_naive_with_keys'])} x them with the description's keys "
          f"({naive['with_keys'].seconds:.2f}s)")
    print(f"  ELT {fig['elt_seconds']:.2f}s = {_x(fig['elt_vs_floor'])} x the floor "
          f"({fig['floor_seconds']:.2f}s: the events at the ceiling + the naive with keys); "
          f"{_x(fig['elt_speedup_vs_rowwise'])} x faster than row by row")
    if "elt_wal_gb" in fig:
        print(f"  WAL: the ELT {fig['elt_wal_gb']:.2f} GB, {fig['elt_checkpoints_requested']} checkpoints "
              f"forced by max_wal_size; the naive with keys {fig['naive_with_keys_wal_gb']:.2f} GB, "
              f"{fig['naive_with_keys_checkpoints_requested']}")
    own = fig["gx_checkpoint_share"]
    print(f"  GX checks {fig['gx_seconds']:.2f}s ({fig['gx_share']:.0%} of the ELT; the checkpoints "
          f"alone {'n/a' if own is None else f'{own:.0%}'}); Prefect "
          f"{fig['prefect_seconds']:.2f}s; load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}s"


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"
