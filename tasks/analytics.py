"""The analytics report: every question asked of the warehouse, the page, its headline."""

from __future__ import annotations

from datetime import datetime, timezone

from prefect.artifacts import create_markdown_artifact
from prefect.logging import get_run_logger
from prefect.runtime import flow_run

from sparkify.analytics.figures import Figures
from sparkify.analytics.headline import headline, markdown
from sparkify.analytics.page import ReportContext, render
from sparkify.quality.report import QualityReport
from sparkify.runtime import Runtime
from tasks.retries import io_task


@io_task
def render_report(runtime: Runtime, rows: dict[str, int],
                  quality: list[QualityReport] | None) -> str | None:
    """Render .sparkify/report/index.html from the warehouse as it is and publish its headline
    (the artifact `sparkify-report`); returns the page's path, None on a dry run.

    `quality`: the checkpoints this run ran ([] when it ran none); None for a command that
    runs no check.
    """
    figures = Figures.collect(runtime.warehouse())
    context = ReportContext(datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0),
                            f"{flow_run.flow_name} run '{flow_run.name}'",
                            runtime.target.describe(), rows, quality)
    path = runtime.report_page().write(render(figures, context))
    if path is None:
        return None
    lines = headline(figures, quality)
    create_markdown_artifact(key="sparkify-report", markdown=markdown(lines, str(path)),
                             description="Sparkify analytics report: the headline figures")
    get_run_logger().info("report: %s", path)
    return str(path)
