"""The report's headline figures: the same lines at the top of the page and in the Prefect
artifact `sparkify-report`."""

from __future__ import annotations

from collections.abc import Sequence

from sparkify.analytics.charts import percent
from sparkify.analytics.figures import Figures
from sparkify.quality.report import QualityReport
from sparkify.text import markdown_text

NOT_CHECKED = "not checked by this command (flows/validate.py runs the checks)"


def headline(figures: Figures, quality: Sequence[QualityReport] | None) -> list[tuple[str, str]]:
    """(what, figure) pairs, in the order they are shown."""
    matched, plays, share = figures.matched_share
    levels = figures.free_vs_paid()
    changes = figures.level_changes_per_day()
    return [
        ("plays", f"{plays:,}"),
        ("time range", time_range_text(figures)),
        ("users", f"{sum(users for _, users, _, _ in levels):,} now ("
                  + ", ".join(f"{users:,} {level}" for level, users, _, _ in levels) + ")"),
        ("plays matched to a song", f"{matched:,} of {plays:,}"
                                    + (f" ({percent(share)})" if share is not None else "")),
        ("busiest hour (UTC)", _busiest([(f"{h:02d}:00-{h:02d}:59", n)
                                         for h, n in figures.plays_by_hour()])),
        ("busiest weekday (UTC)", _busiest(figures.plays_by_weekday())),
        ("top song", _top(f"{title} by {artist or '?'}" for _, title, artist, _ in figures.top_songs())
         + _plays_of(figures.top_songs())),
        ("top location", _top(place or "(no location)" for place, _ in figures.plays_by_location())
         + _plays_of(figures.plays_by_location())),
        ("upgrades / downgrades", f"{sum(up for _, up, _ in changes):,} / "
                                  f"{sum(down for *_, down in changes):,}"),
        ("quality", quality_text(quality)),
    ]


def time_range_text(figures: Figures) -> str:
    span = figures.time_range
    if span is None:
        return "no plays yet"
    return (f"{span.first_play_at:%Y-%m-%d %H:%M} to {span.last_play_at:%Y-%m-%d %H:%M} UTC "
            f"({span.days} days, {span.days_with_plays} with plays)")


def quality_text(quality: Sequence[QualityReport] | None) -> str:
    if quality is None:
        return NOT_CHECKED
    if not quality:
        return "no checks ran (nothing new was loaded)"
    return "; ".join(_checkpoint_text(report) for report in quality)


def markdown(lines: list[tuple[str, str]], page: str) -> str:
    """The headline as a Markdown table, for the Prefect UI; titles and places are the data's,
    so every cell is Markdown text (sparkify.text.markdown_text)."""
    rows = [f"| {markdown_text(what)} | {markdown_text(figure)} |" for what, figure in lines]
    return "\n".join(["## Sparkify report", "", "| figure | value |", "| --- | --- |", *rows,
                      "", f"The page: {markdown_text(page)}"])


def _checkpoint_text(report: QualityReport) -> str:
    passed = sum(outcome.passed for outcome in report.outcomes)
    verdict = "passed" if report.success else f"FAILED ({len(report.failures)} failed)"
    return f"{report.checkpoint} {verdict}, {passed} of {len(report.outcomes)} expectations"


def _busiest(counted: list[tuple[str, int]]) -> str:
    """The first of the largest, or a dash when nothing was counted."""
    if not counted or max(n for _, n in counted) == 0:
        return "-"
    name, plays = max(counted, key=lambda pair: pair[1])
    return f"{name} ({plays:,} plays)"


def _top(names) -> str:
    return next(iter(names), "-")


def _plays_of(ranked: list[tuple]) -> str:
    return f" ({ranked[0][-1]:,} plays)" if ranked else ""

