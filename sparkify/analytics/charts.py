"""Charts as inline SVG, drawn here: no library, no script, nothing to fetch when the page opens.

Two kinds cover every question: columns over an ordered axis (hours, weekdays, days, buckets;
one or more series side by side) and horizontal bars for ranked lists with long labels. Every
bar carries a <title> with its exact figure (a tooltip); colours and fonts come from the page's
stylesheet, so a chart is only geometry and text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from math import ceil, floor, log10

WIDTH = 640
COLUMN_HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 24, 40  # margins of a column chart
BAR_ROW = 24  # height of one row of a bar chart
LABEL_WIDTH = 250  # room for a bar chart's labels
LABEL_CHARS = 38  # labels longer than this are cut (the tooltip keeps them whole)
MIN_LABEL_GAP = 44  # pixels between two labels of the column axis
NO_DATA = "no data yet"

Format = Callable[[float], str]


def count(value: float) -> str:
    return f"{value:,.0f}"


def percent(value: float) -> str:
    return f"{value:.1%}"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


def column_chart(labels: Sequence[str], series: Sequence[Series], *, title: str,
                 fmt: Format = count, empty: str = NO_DATA) -> str:
    """Columns, one group per label and one column per series; a legend for several series."""
    if not labels or not any(any(s.values) for s in series):
        return no_data(title, empty)
    ticks = nice_ticks(max(max(s.values) for s in series), whole=fmt is count)
    top = ticks[-1]
    plot_width, plot_height = WIDTH - LEFT - RIGHT, COLUMN_HEIGHT - TOP - BOTTOM
    group = plot_width / len(labels)
    column = group * 0.8 / len(series)

    def y(value: float) -> float:
        return TOP + plot_height * (1 - value / top)

    parts = [_grid(ticks, y, fmt)]
    for n, label in enumerate(labels):
        for s_number, one in enumerate(series):
            value = one.values[n]
            x = LEFT + n * group + group * 0.1 + s_number * column
            name = f"{one.name}, " if len(series) > 1 else ""
            parts.append(_rect(f"bar s{s_number}", x, y(value), column, y(0) - y(value),
                               f"{label}: {name}{fmt(value)}"))
    every = max(1, ceil(MIN_LABEL_GAP / group))
    parts += [_text("axis-label", LEFT + n * group + group / 2, COLUMN_HEIGHT - BOTTOM + 16,
                    label, anchor="middle")
              for n, label in enumerate(labels) if n % every == 0]
    if len(series) > 1:
        parts.append(_legend(series))
    return _svg(title, WIDTH, COLUMN_HEIGHT, parts)


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str,
              fmt: Format = count, empty: str = NO_DATA) -> str:
    """Horizontal bars, one per label, in the order given, each with its figure at its end."""
    if not labels or not any(values):
        return no_data(title, empty)
    top = max(values)
    room = WIDTH - LABEL_WIDTH - RIGHT - 64  # leaves space for the figure after the longest bar
    height = TOP + BAR_ROW * len(labels) + 8
    parts = []
    for n, (label, value) in enumerate(zip(labels, values)):
        row_top = TOP + n * BAR_ROW
        width = room * value / top
        parts.append(_text("bar-label", LABEL_WIDTH - 8, row_top + 16, _cut(label), anchor="end"))
        parts.append(_rect("bar s0", LABEL_WIDTH, row_top + 4, width, BAR_ROW - 8,
                           f"{label}: {fmt(value)}"))
        parts.append(_text("bar-value", LABEL_WIDTH + width + 6, row_top + 16, fmt(value)))
    return _svg(title, WIDTH, height, parts)


def no_data(title: str, message: str = NO_DATA) -> str:
    """A chart with nothing to draw says so, in place of its bars."""
    return _svg(title, WIDTH, 60, [_text("no-data", WIDTH / 2, 34, message, anchor="middle")])


def nice_ticks(largest: float, wanted: int = 4, *, whole: bool = False) -> list[float]:
    """0, then steps of 1, 2 or 5 times a power of ten (at least 1 for `whole` numbers), up to
    the first tick at or above `largest`."""
    if largest <= 0:
        return [0, 1]
    magnitude = 10 ** floor(log10(largest / wanted))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= largest / wanted)
    step = max(step, 1) if whole else step
    return [n * step for n in range(ceil(largest / step - 1e-9) + 1)]


def _grid(ticks: list[float], y: Callable[[float], float], fmt: Format) -> str:
    lines = []
    for tick in ticks:
        lines.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
                     f'y1="{y(tick):.1f}" y2="{y(tick):.1f}"></line>')
        lines.append(_text("axis-label", LEFT - 6, y(tick) + 4, fmt(tick), anchor="end"))
    return "".join(lines)


def _legend(series: Sequence[Series]) -> str:
    parts, x = [], LEFT
    for number, one in enumerate(series):
        parts.append(f'<rect class="bar s{number}" x="{x}" y="6" width="10" height="10"></rect>')
        parts.append(_text("legend", x + 14, 15, one.name))
        x += 24 + 8 * len(one.name)
    return "".join(parts)


def _rect(css: str, x: float, y: float, width: float, height: float, tooltip: str) -> str:
    return (f'<rect class="{css}" x="{x:.1f}" y="{y:.1f}" width="{max(width, 0):.1f}" '
            f'height="{max(height, 0):.1f}"><title>{escape(tooltip, quote=False)}</title></rect>')


def _text(css: str, x: float, y: float, text: str, anchor: str = "start") -> str:
    return (f'<text class="{css}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">'
            f'{escape(text, quote=False)}</text>')


def _svg(title: str, width: float, height: float, parts: list[str]) -> str:
    # No xmlns: inline SVG in HTML needs none, and the page then holds no http URL at all.
    return (f'<svg class="chart" role="img" aria-label="{escape(title)}" '
            f'viewBox="0 0 {width} {height:.0f}" width="{width}" height="{height:.0f}">'
            f'<title>{escape(title, quote=False)}</title>{"".join(parts)}</svg>')


def _cut(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1] + "…"
