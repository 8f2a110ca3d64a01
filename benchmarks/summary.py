"""The summary of a results file (benchmarks/results/*.json): `benchmarks/run.py --summary [FILE]`.

One row per run (shape, server, scale) with the ratios the targets are about, each marked
✓ or ✗ at the scales its target is held to (benchmarks/figures.py TARGETS), and the runs'
machine, commit and load average above them.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.figures import FIXED_COST_TARGETS, TARGETS, met

RESULTS_DIR = Path(__file__).resolve().parent / "results"
COLUMNS = (  # (heading, figure, format)
    ("transform / naive with keys", "transform_vs_naive_with_keys", "{:.2f}x"),
    ("ELT / floor", "elt_vs_floor", "{:.2f}x"),
    ("ELT vs row by row", "elt_speedup_vs_rowwise", "{:.1f}x"),
    ("staging / COPY ceiling", "staging_vs_ceiling", "{:.2f}x"),
    ("GX share", "gx_share", "{:.0%}"),
    ("peak MB", "peak_memory_mb", "{:.0f}"),
)


def latest_results(directory: Path = RESULTS_DIR) -> Path:
    """The results file of benchmarks/run.py whose run started last (gets-* are benchmarks/gets.py's)."""
    files = sorted(directory.glob("[0-9]*.json"))
    if not files:
        raise SystemExit(f"no results file in {directory}: run benchmarks/run.py first")
    return max(files, key=lambda path: json.loads(path.read_text()).get("started_at", ""))


def markdown_summary(results: dict) -> str:
    lines = [_heading(results), "", *_table(results)]
    for what in ("skipped", "failed"):
        lines += [f"\n{what}: {run['shape']} on {run['server']} at {run['scale']}: {run['reason']}"
                  for run in results.get(what, [])]
    if results.get("fixed_costs"):
        lines += ["", _fixed_costs(results["fixed_costs"])]
    lines += ["", _verdict(results)]
    return "\n".join(lines)


def _heading(results: dict) -> str:
    machine, commit = results["machine"], results["commit"]
    servers = ", ".join(f"{name} PostgreSQL {about['version']}"
                        for name, about in results.get("servers", {}).items())
    load = (f"{_load(machine.get('load_average_before'))} before, "
            f"{_load(machine.get('load_average_after'))} after")
    return (f"Run of {results['started_at']} on commit {commit['sha']}"
            f"{' (uncommitted changes)' if commit['dirty'] else ''}: {machine['nproc']} cores, "
            f"{machine['memory_gb']:.0f} GB; load average {load}; {servers}")


def _table(results: dict) -> list[str]:
    head = ["shape", "server", "events", "plays matched", "ELT s",
            *(heading for heading, _, _ in COLUMNS), "ELT WAL GB (forced checkpoints)", "load"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for run in results["runs"]:
        fig = run["figures"]
        cells = [run["shape"], run["server"], f"{run['run']['staged'].get('staging_events', 0):,}",
                 _percent(fig.get("matched_share")), f"{fig['elt_seconds']:.1f}"]
        cells += [_cell(name, fmt, fig, run["scale"]) for _, name, fmt in COLUMNS]
        cells.append(_wal(fig))
        cells.append(_load(run.get("load_average", {}).get("after")))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _cell(name: str, fmt: str, fig: dict, scale: str) -> str:
    value = fig.get(name)
    if value is None:
        return "n/a"
    text = fmt.format(value)
    if scale in TARGETS[name][2]:
        text += f" {'✓' if met(name, value) else '✗'}"
    if name == "gx_share" and fig.get("gx_checkpoint_share") is not None:
        text += f" (checkpoints alone {fig['gx_checkpoint_share']:.0%})"  # its lower bound
    return text


def _fixed_costs(fixed: dict) -> str:
    kept = fixed.get("kept", {})
    marks = [f"{step} {kept[step]:.1f} s {'✓' if kept[step] <= bound else '✗'} (≤ {bound:.0f} s)"
             for step, bound in FIXED_COST_TARGETS.items() if step in kept]
    return "fixed costs, flows/main.py with the kept Prefect server: " + "; ".join(marks)


def _verdict(results: dict) -> str:
    held = [(run, name) for run in results["runs"] for name, (_, _, scales) in TARGETS.items()
            if run["scale"] in scales]
    missed = [f"{run['shape']}/{run['server']}/{run['scale']}: {name}" for run, name in held
              if met(name, run["figures"].get(name)) is False]
    missed += [f"{run['shape']}/{run['server']}/{run['scale']}: the run failed"
               for run in results.get("failed", [])]
    targets = "; ".join(f"{name} {comparison} {bound:g} at {', '.join(scales)}"
                        for name, (comparison, bound, scales) in TARGETS.items())
    if missed:
        return f"missed {len(missed)} of {len(held) + len(results.get('failed', []))}: " \
            + "; ".join(missed) + f" (targets: {targets})"
    if not held:
        return f"no run at a target's scale (targets: {targets})"
    return f"every target held to met ({len(held)}); targets: {targets}"


def _wal(fig: dict) -> str:
    if "elt_wal_gb" not in fig:
        return "n/a"
    return f"{fig['elt_wal_gb']:.1f} ({fig['elt_checkpoints_requested']})"


def _percent(value: float | None) -> str:
    if value is None:
        return "n/a"
    return "< 1%" if 0 < value < 0.01 else f"{value:.0%}"


def _load(values) -> str:
    return "n/a" if not values else "/".join(f"{x:.1f}" for x in values)
