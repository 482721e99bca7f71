"""Charts for the admin dashboard, drawn on the server as SVG text (pure functions: numbers in, markup out).

Why on the server: the Mini App's CSP allows no chart library from a CDN, and a chart that is plain markup is
testable here (tests/services/test_svg_charts.py) and readable without JavaScript. Rules every chart keeps:
- every piece of text is escaped (route codes and labels come from data);
- `role="img"`, a `<title>` and an `aria-label` that says the numbers in one sentence (the page's tables hold
  the rest, for screen readers);
- sized by its `viewBox` only, so it scales to the page's width (390 px on a phone);
- no colours of its own: `currentColor` and CSS classes (`bar`, `track`, `series-N`, …) that the page's
  stylesheet colours for the light or dark theme; no `style` attributes (CSP: style-src 'self'), no scripts,
  no links, no external references.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

WIDTH = 360  # viewBox units; the page scales the whole drawing to its width
FONT = 11
SERIES_CLASSES = 6  # series-0 … series-5 in the stylesheet; more series reuse them
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class FunnelStep:
    label: str
    count: int


@dataclass(frozen=True)
class LoadBar:
    label: str
    fraction: float  # 0..1 (clamped when drawn)
    text: str  # what the bar says, e.g. "25% (70/280)"


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _num(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _svg(kind: str, title: str, summary: str, height: float, body: list[str]) -> str:
    label = f"{title}. {summary}"
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {_num(height)}" role="img" '
            f'aria-label="{_esc(label)}" class="chart chart-{kind}" font-size="{FONT}" '
            f'font-family="system-ui, sans-serif"><title>{_esc(title)}</title>{"".join(body)}</svg>')


def _text(x: float, y: float, text: object, cls: str, anchor: str = "start") -> str:
    return (f'<text x="{_num(x)}" y="{_num(y)}" class="{cls}" fill="currentColor" text-anchor="{anchor}">'
            f'{_esc(text)}</text>')


def no_data(kind: str, title: str, height: float = 80) -> str:
    """The chart's frame with "No data" in the middle: an empty period is not an error."""
    return _svg(kind, title, "No data for this period.", height,
                [_text(WIDTH / 2, height / 2 + FONT / 3, "No data", "empty", "middle")])


def _nice_max(value: float) -> float:
    """The axis top: `value` rounded up to 1, 2 or 5 × a power of ten (at least 1)."""
    if value <= 1:
        return 1
    power = 10.0 ** math.floor(math.log10(value))
    return next(float(step * power) for step in (1, 2, 5, 10) if step * power >= value)


def _compact(value: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return _num(value / size) + suffix
    return _num(value)


def _short_day(label: str) -> str:
    """"2026-12-03" → "3 Dec" on the axis (the bars' tooltips keep the full label)."""
    if _ISO_DAY.match(label):
        day = date.fromisoformat(label)
        return f"{day.day} {day:%b}"
    return label


@dataclass(frozen=True)
class _Plot:
    """The plotting area inside the viewBox: left/top corner, size, and how many slots (days) across it."""

    left: float
    top: float
    width: float
    height: float
    slots: int

    def x(self, index: int) -> float:  # the middle of slot `index`
        return self.left + self.width * (index + 0.5) / self.slots

    def y(self, value: float, top_value: float) -> float:
        return self.top + self.height * (1 - value / top_value)


def _axes(plot: _Plot, top_value: float, labels: Sequence[str]) -> list[str]:
    """Grid lines at 0, half and top with their values; at most 7 day labels, spread evenly, inside the box."""
    parts = []
    for fraction in (0, 0.5, 1):
        y = plot.y(top_value * fraction, top_value)
        parts.append(f'<line x1="{_num(plot.left)}" x2="{_num(plot.left + plot.width)}" y1="{_num(y)}" '
                     f'y2="{_num(y)}" class="grid" stroke="currentColor" stroke-opacity="0.2" />')
        parts.append(_text(plot.left - 4, y + FONT / 3, _compact(top_value * fraction), "y-label", "end"))
    step = max(1, math.ceil(len(labels) / 7))
    for index in range(0, len(labels), step):
        x = min(max(plot.x(index), plot.left + 16), WIDTH - 18)
        parts.append(_text(x, plot.top + plot.height + FONT + 4, _short_day(labels[index]), "x-label", "middle"))
    return parts


def bar_chart(title: str, labels: Sequence[str], values: Sequence[int]) -> str:
    """One bar per label (a day), e.g. bookings per day."""
    if not labels or len(labels) != len(values):
        return no_data("bars", title)
    top_value = _nice_max(max(values))
    plot = _Plot(left=30, top=8, width=WIDTH - 36, height=130, slots=len(values))
    slot = plot.width / plot.slots
    parts = _axes(plot, top_value, labels)
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = plot.y(value, top_value)
        width = max(slot * 0.7, 0.5)
        parts.append(f'<rect x="{_num(plot.x(index) - width / 2)}" y="{_num(y)}" width="{_num(width)}" '
                     f'height="{_num(plot.top + plot.height - y)}" class="bar" fill="currentColor">'
                     f'<title>{_esc(label)}: {value}</title></rect>')
    peak = max(range(len(values)), key=lambda i: values[i])
    summary = f"{len(values)} days, {sum(values)} in total"
    summary += f", highest {values[peak]} on {labels[peak]}." if values[peak] else "."
    return _svg("bars", title, summary, plot.top + plot.height + FONT + 10, parts)


def _legend(names: Sequence[str], totals: dict[str, str]) -> tuple[list[str], float]:
    """Swatch and "NAME total" per series, left to right, wrapping; returns the parts and the height used."""
    parts, x, y = [], 4.0, FONT + 2.0
    for index, name in enumerate(names):
        text = f"{name} {totals.get(name, '')}".strip()
        width = 18 + len(text) * FONT * 0.62
        if x > 4 and x + width > WIDTH:
            x, y = 4.0, y + FONT + 6
        series = f"series-{index % SERIES_CLASSES}"
        parts.append(f'<rect x="{_num(x)}" y="{_num(y - FONT + 2)}" width="10" height="10" rx="2" '
                     f'class="swatch {series}" fill="currentColor" />')
        parts.append(_text(x + 14, y, text, f"legend {series}"))
        x += width + 10
    return parts, y + 8


def series_chart(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float]], *,
                 totals: dict[str, str] | None = None) -> str:
    """One line per series over the labels (days), with a legend — e.g. revenue per day per currency, each in
    its own major units (one axis: amounts of different currencies are each read against their own legend)."""
    names = sorted(name for name, values in series.items() if len(values) == len(labels))
    if not labels or not names:
        return no_data("series", title)
    legend, legend_height = _legend(names, totals or {})
    top_value = _nice_max(max(max(series[name]) for name in names))
    plot = _Plot(left=34, top=legend_height + 6, width=WIDTH - 40, height=120, slots=len(labels))
    parts = [*legend, *_axes(plot, top_value, labels)]
    for index, name in enumerate(names):
        values = series[name]
        cls = f"series-{index % SERIES_CLASSES}"
        points = " ".join(f"{_num(plot.x(i))},{_num(plot.y(v, top_value))}" for i, v in enumerate(values))
        parts.append(f'<polyline points="{points}" class="series {cls}" fill="none" stroke="currentColor" '
                     f'stroke-width="2" stroke-linejoin="round" />')
        if len(labels) <= 31:  # dots (with a tooltip each) while they don't crowd the line
            parts += [f'<circle cx="{_num(plot.x(i))}" cy="{_num(plot.y(v, top_value))}" r="2.5" '
                      f'class="dot {cls}" fill="currentColor"><title>{_esc(labels[i])} {_esc(name)}: '
                      f'{_esc(_num(v))}</title></circle>' for i, v in enumerate(values)]
    summary = "; ".join(f"{name} {totals.get(name, _num(sum(series[name])))}" for name in names) \
        if totals else ", ".join(names)
    summary = f"{len(labels)} days. Totals: {summary}."
    return _svg("series", title, summary, plot.top + plot.height + FONT + 10, parts)


def _rows(kind: str, title: str, rows: list[tuple[str, str, float, str]], summary: str) -> str:
    """Labelled horizontal bars: per row its label (left), value text (right) and a bar of `fraction` (0..1) of
    the full width over a faint track."""
    parts, y = [], 2.0
    for label, value_text, fraction, tooltip in rows:
        shown = label if len(label) <= 34 else label[:33] + "…"
        parts.append(_text(4, y + FONT, shown, "label"))
        parts.append(_text(WIDTH - 4, y + FONT, value_text, "value", "end"))
        bar_y, full = y + FONT + 4, WIDTH - 8
        parts.append(f'<rect x="4" y="{_num(bar_y)}" width="{_num(full)}" height="10" rx="3" class="track" '
                     f'fill="currentColor" fill-opacity="0.15" />')
        width = full * min(max(fraction, 0.0), 1.0)
        parts.append(f'<rect x="4" y="{_num(bar_y)}" width="{_num(width)}" height="10" rx="3" class="bar" '
                     f'fill="currentColor"><title>{_esc(tooltip)}</title></rect>')
        y = bar_y + 18
    return _svg(kind, title, summary, y, parts)


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "–"


def funnel_chart(title: str, steps: Sequence[FunnelStep]) -> str:
    """Each step's count as a bar against the largest, with its share of the step before."""
    if not steps or not any(step.count for step in steps):
        return no_data("funnel", title)
    widest = max(step.count for step in steps)
    rows = []
    for index, step in enumerate(steps):
        value = str(step.count) if index == 0 else f"{step.count} · {_share(step.count, steps[index - 1].count)}"
        rows.append((step.label, value, step.count / widest, f"{step.label}: {value}"))
    summary = ", then ".join(f"{step.label} {step.count}" for step in steps) + "."
    return _rows("funnel", title, rows, summary)


def load_chart(title: str, bars: Sequence[LoadBar]) -> str:
    """One bar per flight or route: the share of its seats sold."""
    if not bars:
        return no_data("load", title)
    rows = [(bar.label, bar.text, bar.fraction, f"{bar.label}: {bar.text}") for bar in bars]
    summary = "; ".join(f"{bar.label} {bar.text}" for bar in bars[:5]) + ("; …" if len(bars) > 5 else ".")
    return _rows("load", title, rows, summary)
