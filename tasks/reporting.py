"""Reporting: row counts, plays matched, seconds per step; as artifacts and a printed summary."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Iterator

from prefect.logging import get_run_logger

from sparkify.errors import MalformedRecordError
from sparkify.oddities import oddities_of
from sparkify.runtime import Runtime
from sparkify.model import STAR_TABLES
from sparkify.warehouse.base import StageResult
from sparkify.text import markdown_code_block
from tasks.artifacts import publish_markdown, publish_table
from tasks.retries import io_task, local_task

REPORTED_TABLES = ("staging_events", "staging_songs", *STAR_TABLES, "load_errors")


@dataclass
class StepClock:
    """Seconds per pipeline step, measured around the flow's calls."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.record(name, time.perf_counter() - started)

    def record(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds


@dataclass(frozen=True)
class RunSummary:
    rows: dict[str, int]
    matched_plays: int
    seconds: dict[str, float]
    staged: dict[str, int]
    malformed: int
    unmapped_keys: dict[str, str] = field(default_factory=dict)  # key -> where first seen
    oddities: tuple[str, ...] = ()  # the records each quiet rule affected (sparkify/oddities.py)
    report_page: str | None = None  # None on a dry run, which writes no page

    def text(self) -> str:
        width = max(len(name) for name in (*self.rows, *self.seconds))
        lines = ["Sparkify ELT finished."]
        if not self.staged:
            lines.append("nothing new to load: every source object is already in load_ledger")
        lines += ["", "rows per table:"]
        lines += [f"  {table:<{width}}  {count:>10,}" for table, count in self.rows.items()]
        lines.append(f"plays matched to a song: {self.matched_plays:,} of "
                     f"{self.rows.get('songplay', 0):,}")
        if self.malformed:
            lines.append(f"malformed records kept in load_errors: {self.malformed:,}")
        if self.unmapped_keys:
            lines.append("keys no column maps, not loaded: " + "; ".join(
                f"{key!r} (first in {where})" for key, where in self.unmapped_keys.items()))
        lines += self.oddities
        lines += ["", "seconds per step:"]
        lines += [f"  {step:<{width}}  {secs:>10.2f}" for step, secs in self.seconds.items()]
        if self.report_page:
            lines += ["", f"report: {self.report_page}"]
        return "\n".join(lines)


@local_task
def check_error_budget(results: list[StageResult], max_errors: int) -> int:
    """Fail the run when both staging loads together exceed --max-errors."""
    errors = [e for result in results for e in result.errors]
    if len(errors) > max_errors:
        raise MalformedRecordError(
            f"{len(errors)} malformed records (first: {errors[0].describe()}); "
            f"more than --max-errors {max_errors}")
    return len(errors)


@io_task
def count_rows(runtime: Runtime) -> dict[str, int]:
    """Rows per table: staging, the star, load_errors (each table must exist)."""
    warehouse = runtime.warehouse()
    warehouse.require_tables(REPORTED_TABLES)
    return warehouse.row_counts(REPORTED_TABLES)


@io_task
def summarize_run(runtime: Runtime, staged: list[StageResult]) -> RunSummary:
    """Count every table and the plays matched to a song; publish the counts as an artifact."""
    warehouse = runtime.warehouse()
    rows = warehouse.row_counts(REPORTED_TABLES)
    matched = warehouse.count("analytics/matched_share")  # its first column: the matched plays
    summary = RunSummary(rows, matched, {}, {r.table: r.rows for r in staged},
                         sum(len(r.errors) for r in staged),
                         {key: where for r in staged for key, where in r.unmapped_keys.items()},
                         oddities_of(warehouse, staged))
    for said in summary.oddities:
        get_run_logger().warning("%s", said)
    publish_table(
        key="sparkify-row-counts",
        rows=[{"table": t, "rows": n} for t, n in summary.rows.items()],
        description=f"Rows per table; {summary.matched_plays} plays matched to a song",
    )
    get_run_logger().info("row counts: %s", rows)
    return summary


@local_task
def finish_run(summary: RunSummary, clock: StepClock, report_page: str | None) -> RunSummary:
    """The summary with every step's seconds and the report's path; published as artifacts."""
    final = replace(summary, seconds=dict(clock.seconds), report_page=report_page)
    publish_table(
        key="sparkify-step-seconds",
        rows=[{"step": s, "seconds": round(v, 3)} for s, v in final.seconds.items()],
        description="Seconds per pipeline step",
    )
    publish_markdown(key="sparkify-run-summary", markdown=markdown_code_block(final.text()),
                     description="Sparkify ELT run summary")
    return final
