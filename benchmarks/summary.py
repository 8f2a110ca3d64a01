"""The benchmark's summary table, for the README: one line per scale of a results JSON."""

from __future__ import annotations


def markdown_summary(results: dict) -> str:
    """One line per scale, for the README: the figures the targets are about."""
    head = ("| events | ELT s | stage s | staging_events rows/s | x COPY ceiling (alone) | transform s "
            "| x naive (with keys) | GX checks s | Prefect s (share) | row by row s (extrap.) "
            "| ELT speed-up | overhead | peak MB (+ workers) | emulator: seed s / serve CPU s |")
    lines = [head, "|" + "|".join("---" for _ in range(head.count("|") - 1)) + "|"]
    for scale in results["scales"].values():
        run, fig = scale["run"], scale["figures"]
        seconds, memory, emulator = run["seconds"], run["memory_mb"], run["emulator_cpu_seconds"]
        gx = fig["gx_seconds"]
        transform = run.get("transform_seconds") or seconds.get("transform", 0)
        lines.append(
            f"| {scale['events']:,} | {fig['elt_seconds']:.1f} | {seconds.get('stage', 0):.1f} "
            f"| {fig['staging_events_rows_per_second']:,.0f} | {fig['staging_vs_ceiling']:.2f} "
            f"({fig['staging_alone_vs_ceiling']:.2f}) | {transform:.1f} "
            f"| {_x(fig.get('transform_vs_naive'))} ({_x(fig.get('transform_vs_naive_with_keys'))}) "
            f"| {gx:.1f} "
            f"| {fig['prefect_seconds']:.1f} ({fig['prefect_seconds'] / fig['elt_seconds']:.0%}) "
            f"| {fig['rowwise_elt_seconds']:,.0f} | {fig['elt_speedup_vs_rowwise']:.1f}x "
            f"| {fig['overhead_share']:.0%} | {memory['pipeline_peak']:.0f} "
            f"({memory['pipeline_plus_workers_peak']:.0f}) | {seconds.get('seed emulator', 0):.0f} / "
            f"{_s(emulator['serving'])} |")
    return "\n".join(lines)


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}s"


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"
