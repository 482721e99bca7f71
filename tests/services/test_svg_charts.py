"""The dashboard's server-drawn charts (services.svg_charts): well-formed SVG that screen readers can name, that
escapes whatever text it is given, scales by its viewBox, takes its colours from the page, and draws "No data"
rather than failing on an empty window."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from services.svg_charts import FunnelStep, LoadBar, bar_chart, funnel_chart, load_chart, series_chart

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> "& \'Z'


def _days(n: int) -> list[str]:
    return [f"2026-{1 + i // 28:02d}-{1 + i % 28:02d}" for i in range(n)]


CHARTS: dict[str, Callable[[], str]] = {
    "bars": lambda: bar_chart("Bookings per day", _days(14), [0, 1, 2, 5, 0, 0, 3, 1, 0, 0, 0, 2, 2, 9]),
    "series": lambda: series_chart("Revenue per day", _days(7), {"GBP": [0, 48900, 0, 97800, 0, 0, 100],
                                                                  "EUR": [10000, 0, 0, 0, 0, 0, 0]},
                                   totals={"GBP": "£1,468.00", "EUR": "€100.00"}),
    "funnel": lambda: funnel_chart("Funnel", [FunnelStep("Searches", 40), FunnelStep("Seats held", 12),
                                              FunnelStep("Bookings", 5), FunnelStep("Paid", 4)]),
    "load": lambda: load_chart("Load factor", [LoadBar("FO280 LHR→JFK 03 Dec", 0.25, "25% (70/280)"),
                                               LoadBar("FO100 LHR→CDG 04 Dec", 0.9, "90%")]),
}


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML
    assert root.tag == SVG + "svg"
    return root


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_a_chart_is_an_accessible_scalable_image_without_scripts_or_styles(name: str) -> None:
    svg = CHARTS[name]()
    root = _parse(svg)
    assert root.get("role") == "img" and root.get("aria-label")
    title = root.find(SVG + "title")
    assert title is not None and title.text
    assert root.get("viewBox") and root.get("width") is None and root.get("height") is None  # scales to the page
    everything = list(root.iter())
    assert not [e for e in everything if e.tag in (SVG + "script", SVG + "foreignObject", SVG + "style")]
    assert not [e for e in everything if e.get("style") is not None]  # CSP: style-src 'self' forbids them
    assert not [e for e in everything for attr in e.attrib if attr.startswith("on") or "href" in attr]
    # Colours come from the page (theme): currentColor or CSS classes, never a fixed colour.
    assert not re.search(r'(fill|stroke)="#', svg) and "rgb(" not in svg
    assert any((e.get("class") or "").strip() for e in everything)


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_empty_data_draws_no_data(name: str) -> None:
    empty = {"bars": lambda: bar_chart("Bookings per day", [], []),
             "series": lambda: series_chart("Revenue per day", _days(3), {}),
             "funnel": lambda: funnel_chart("Funnel", [FunnelStep("Searches", 0), FunnelStep("Paid", 0)]),
             "load": lambda: load_chart("Load factor", [])}[name]
    root = _parse(empty())
    texts = " ".join(t.text or "" for t in root.iter(SVG + "text"))
    assert "No data" in texts and "No data" in (root.get("aria-label") or "")


def test_hostile_labels_are_escaped_everywhere() -> None:
    charts = [
        bar_chart(HOSTILE, [HOSTILE, "b"], [1, 2]),
        series_chart(HOSTILE, ["a", HOSTILE], {HOSTILE: [1, 2]}, totals={HOSTILE: HOSTILE}),
        funnel_chart(HOSTILE, [FunnelStep(HOSTILE, 3), FunnelStep("x", 1)]),
        load_chart(HOSTILE, [LoadBar(HOSTILE, 0.5, HOSTILE)]),
    ]
    for svg in charts:
        root = _parse(svg)
        assert "<script" not in svg
        assert not list(root.iter(SVG + "script"))
        assert HOSTILE in (root.findtext(SVG + "title") or "")  # the text itself survives, as text
        assert HOSTILE in (root.get("aria-label") or "")


def _numbers(svg: str, attribute: str) -> list[float]:
    return [float(v) for v in re.findall(rf'\b{attribute}="(-?[0-9.]+)"', svg)]


@pytest.mark.parametrize("days", [1, 14, 90])
def test_many_days_still_fit_the_view_box(days: int) -> None:
    svg = bar_chart("Bookings per day", _days(days), [i % 7 for i in range(days)])
    root = _parse(svg)
    _x, _y, width, height = (float(v) for v in (root.get("viewBox") or "").split())
    bars = [r for r in root.iter(SVG + "rect") if "bar" in (r.get("class") or "").split()]
    assert len(bars) == days
    for bar in bars:
        x, w = float(bar.get("x") or 0), float(bar.get("width") or 0)
        y, h = float(bar.get("y") or 0), float(bar.get("height") or 0)
        assert x >= 0 and x + w <= width and y >= 0 and y + h <= height and w > 0
    labels = [t for t in root.iter(SVG + "text") if "x-label" in (t.get("class") or "")]
    assert 1 <= len(labels) <= 8  # day labels thinned so they never overlap
    assert all(0 <= v <= width for v in _numbers(svg, "x"))
    series = series_chart("Revenue", _days(days), {"GBP": [i * 100 for i in range(days)]}, totals={"GBP": "£1"})
    root = _parse(series)
    assert all(0 <= v <= width for v in _numbers(series, "x"))


def test_the_bars_say_their_numbers_to_screen_readers() -> None:
    root = _parse(bar_chart("Bookings per day", ["2026-12-01", "2026-12-02"], [2, 5]))
    label = root.get("aria-label") or ""
    assert "7 in total" in label and "highest 5 on 2026-12-02" in label
    titles = [t.text for t in root.iter(SVG + "title")][1:]
    assert titles == ["2026-12-01: 2", "2026-12-02: 5"]  # a tooltip per bar


def test_the_series_chart_has_a_legend_per_currency() -> None:
    svg = series_chart("Revenue per day", _days(3), {"GBP": [100, 0, 50], "EUR": [0, 0, 10]},
                       totals={"GBP": "£1.50", "EUR": "€0.10"})
    root = _parse(svg)
    legend = [t.text for t in root.iter(SVG + "text") if "legend" in (t.get("class") or "")]
    assert legend == ["EUR €0.10", "GBP £1.50"]  # in a stable order
    lines = [p for p in root.iter(SVG + "polyline")]
    assert len(lines) == 2 and {p.get("class") for p in lines} == {"series series-0", "series series-1"}


def test_the_funnel_shows_each_step_and_its_share_of_the_previous() -> None:
    root = _parse(funnel_chart("Funnel", [FunnelStep("Searches", 40), FunnelStep("Seats held", 10),
                                         FunnelStep("Bookings", 5), FunnelStep("Paid", 0)]))
    texts = [t.text or "" for t in root.iter(SVG + "text")]
    assert "Searches" in texts and "40" in texts and "10 · 25%" in texts and "5 · 50%" in texts
    assert "0 · 0%" in texts


def test_load_bars_are_clamped_and_proportional() -> None:
    root = _parse(load_chart("Load", [LoadBar("a", 0.5, "50%"), LoadBar("b", 1.7, "170%"), LoadBar("c", -1, "?")]))
    fills = [float(r.get("width") or 0) for r in root.iter(SVG + "rect") if "bar" in (r.get("class") or "").split()]
    tracks = [float(r.get("width") or 0) for r in root.iter(SVG + "rect") if "track" in (r.get("class") or "")]
    assert fills[0] == pytest.approx(tracks[0] / 2) and fills[1] == pytest.approx(tracks[1]) and fills[2] == 0
