"""The report page: one self-contained HTML file, its charts inline SVG, its style inline.

Its Content-Security-Policy forbids every fetch (`default-src 'none'`): the page can load
nothing, from the network or from disk, whatever text the data puts in it. The page is
written to a temporary file and renamed into place, so a reader never sees half a page and a
run that fails before this step leaves the previous page (with its date) as it was.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape as html_escape
from pathlib import Path

from sparkify.analytics.figures import Figures
from sparkify.analytics.headline import NOT_CHECKED, headline, time_range_text
from sparkify.analytics.sections import Section, sections
from sparkify.paths import STATE_DIR
from sparkify.quality.report import QualityReport

REPORT_PAGE = STATE_DIR / "report" / "index.html"
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'"

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #1d2433; background: #f5f6f8; }
header, .top, .summary, main { max-width: 1360px; margin: 0 auto; padding: 0 24px; }
header h1 { margin: 24px 0 4px; font-size: 26px; }
.stamp, .range, .note { color: #4a5568; margin: 2px 0; font-size: 14px; }
.headline { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr));
            gap: 10px; margin: 16px 0; padding: 0; }
.headline div { background: #fff; border-radius: 6px; padding: 10px 12px; }
.headline dt { font-size: 12px; color: #4a5568; text-transform: uppercase; }
.headline dd { margin: 4px 0 0; font-size: 15px; font-weight: 600; }
.summary { display: grid; grid-template-columns: minmax(240px, 1fr) 2fr; gap: 16px; }
.card { background: #fff; border-radius: 6px; padding: 12px 16px; margin-bottom: 16px; }
.card h2 { font-size: 17px; margin: 0 0 4px; }
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 16px; }
figure { margin: 0; }
svg.chart { width: 100%; height: auto; max-width: 640px; display: block; margin-top: 8px; }
svg text { font-size: 11px; fill: #4a5568; }
svg .bar-label { font-size: 12px; fill: #1d2433; }
svg .no-data { font-size: 14px; font-style: italic; }
svg .grid { stroke: #e2e8f0; stroke-width: 1; }
.bar.s0 { fill: #3b6ea8; }
.bar.s1 { fill: #e0892b; }
table { border-collapse: collapse; font-size: 13px; margin-top: 6px; }
th, td { text-align: left; padding: 2px 10px 2px 0; border-bottom: 1px solid #edf0f4; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.failed { color: #b42318; font-weight: 600; }
.passed { color: #1f7a3d; font-weight: 600; }
details { margin-top: 6px; font-size: 13px; }
footer { color: #4a5568; font-size: 12px; text-align: center; margin: 24px; }
"""


@dataclass(frozen=True)
class ReportContext:
    """What the page says about the run it belongs to."""

    rendered_at: datetime  # UTC
    rendered_by: str  # "the ELT flow run 'x'" or "flows/report.py"
    warehouse: str  # where the figures come from, safe to print
    rows: dict[str, int]  # rows per table
    quality: Sequence[QualityReport] | None  # None: this command ran no check


def render(figures: Figures, context: ReportContext) -> str:
    """The whole page."""
    body = [
        _header(figures, context),
        _headline(figures, context),
        '<section class="summary">', _row_counts(context.rows), _quality(context.quality),
        "</section>",
        "<main>", *(_chart_card(section) for section in sections(figures)), "</main>",
        '<footer>Sparkify ELT. Every figure comes from one query in sql/analytics/; the '
        "charts are drawn by sparkify/analytics/charts.py, with nothing fetched.</footer>",
    ]
    return "\n".join([
        "<!doctype html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Sparkify report</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
        *body, "</body>", "</html>", "",
    ])


class PageWriter:
    """Writes the page in one step: a temporary file beside it, renamed over it."""

    def __init__(self, path: Path = REPORT_PAGE) -> None:
        self.path = Path(path)

    def write(self, page: str) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.partial")
        partial.write_text(page, encoding="utf-8")
        os.replace(partial, self.path)
        return self.path


def _header(figures: Figures, context: ReportContext) -> str:
    stamp = context.rendered_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    return (f"<header><h1>Sparkify: what the plays say</h1>"
            f'<p class="stamp">Rendered <time datetime="{context.rendered_at.isoformat()}Z">'
            f"{stamp}</time> by {escape(context.rendered_by)}, from {escape(context.warehouse)}."
            f'</p><p class="range">Plays covered: {escape(time_range_text(figures))}.</p>'
            "</header>")


def _headline(figures: Figures, context: ReportContext) -> str:
    items = "".join(f"<div><dt>{escape(what)}</dt><dd>{escape(figure)}</dd></div>"
                    for what, figure in headline(figures, context.quality))
    return f'<section class="top"><dl class="headline" id="headline">{items}</dl></section>'


def _row_counts(rows: dict[str, int]) -> str:
    table = _table(("table", "rows"), [(table, f"{count:,}") for table, count in rows.items()])
    return f'<div class="card" id="row-counts"><h2>Rows per table</h2>{table}</div>'


def _quality(quality: Sequence[QualityReport] | None) -> str:
    if quality is None or not quality:
        text = NOT_CHECKED if quality is None else "No checks ran: nothing new was loaded."
        return f'<div class="card" id="quality"><h2>Quality</h2><p class="note">{text}</p></div>'
    parts = []
    for report in quality:
        verdict = "passed" if report.success else f"FAILED ({len(report.failures)} failed)"
        passed = sum(outcome.passed for outcome in report.outcomes)
        parts.append(f'<p><span class="{"passed" if report.success else "failed"}">'
                     f"{escape(report.checkpoint)} {verdict}</span>: {passed} of "
                     f"{len(report.outcomes)} expectations passed on {len(report.tables)} "
                     f"tables in {report.seconds:.2f}s</p>")
        problems = [(o.table, o.rule, "failed" if o.blocking else "warning", o.observed)
                    for o in report.outcomes if not o.passed]
        if problems:
            parts.append(_table(("table", "expectation", "result", "observed"), problems))
    return f'<div class="card" id="quality"><h2>Quality</h2>{"".join(parts)}</div>'


def _chart_card(section: Section) -> str:
    table = _table(section.headers, section.rows)
    return (f'<figure class="card chart-card" id="{section.slug}"><h2>{escape(section.title)}'
            f'</h2><p class="note">{escape(section.note)}</p>{section.chart}'
            f"<details><summary>The figures</summary>{table}</details></figure>")


def escape(text: str) -> str:
    """Text of an element: <, > and & escaped (quotes stay as they are)."""
    return html_escape(text, quote=False)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_td(cell) for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _td(cell: str) -> str:
    numeric = cell[:1].isdigit() and cell.replace(",", "").replace(".", "").rstrip("%").isdigit()
    return f'<td class="number">{escape(cell)}</td>' if numeric else f"<td>{escape(cell)}</td>"
