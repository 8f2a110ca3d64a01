"""The analytics report: every question asked of the warehouse, the page, its headline."""

from __future__ import annotations

from datetime import datetime, timezone

from prefect.futures import PrefectFuture
from prefect.logging import get_run_logger
from prefect.runtime import flow_run

from sparkify.analytics.figures import Figures
from sparkify.analytics.headline import headline, markdown
from sparkify.analytics.page import ReportContext, render
from sparkify.quality.report import QualityReport
from sparkify.runtime import Runtime
from tasks.artifacts import publish_markdown
from tasks.retries import io_task


@io_task
def collect_figures(runtime: Runtime) -> Figures:
    """Every question of the report, asked of the warehouse as it is (one snapshot)."""
    return Figures.collect(runtime.warehouse())


def figures_of(runtime: Runtime, asked: PrefectFuture) -> Figures:
    """The answers of a collect_figures submitted beside other work; a dry run prints its
    statements now, after that work's, in the order a real run's log has them."""
    figures = asked.result()
    if runtime.recorder is not None:
        runtime.recorder.flush()
    return figures


@io_task
def render_report(runtime: Runtime, rows: dict[str, int],
                  quality: list[QualityReport] | None,
                  figures: Figures | None = None) -> str | None:
    """Render .sparkify/report/index.html and publish its headline (the artifact
    `sparkify-report`); returns the page's path, None on a dry run.

    `quality`: the checkpoints this run ran ([] when it ran none); None for a command that
    runs no check. `figures`: the answers collect_figures gave (asked now when None).
    """
    figures = figures or Figures.collect(runtime.warehouse())
    context = ReportContext(datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0),
                            f"{flow_run.flow_name} run '{flow_run.name}'",
                            runtime.target.describe(), rows, quality)
    path = runtime.report_page().write(render(figures, context))
    if path is None:
        return None
    lines = headline(figures, quality)
    publish_markdown(key="sparkify-report", markdown=markdown(lines, str(path)),
                     description="Sparkify analytics report: the headline figures")
    get_run_logger().info("report: %s", path)
    return str(path)
