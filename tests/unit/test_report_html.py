"""The offline HTML rendering of the manager report (PRODUCT.md section 7)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import Any

import pytest

from sandbox.reporting.html import TEMPLATES, context, render

SAMPLE: dict[str, Any] = {
    "generated_at": "2025-10-01T08:00:00Z",
    "since": "2025-01-01",
    "until": "2025-10-01",
    "overall": {
        "registered": 14,
        "open": 5,
        "promoted": 6,
        "stopped": 3,
        "conversion_rate": 6 / 9,
        "median_lead_time_days": 84.27083333333333,
    },
    "by_team": {
        "belastingen": {
            "registered": 8,
            "open": 2,
            "promoted": 4,
            "stopped": 2,
            "conversion_rate": 4 / 6,
            "median_lead_time_days": 70.5,
        },
        "toeslagen & <zorg>": {
            "registered": 5,
            "open": 2,
            "promoted": 2,
            "stopped": 1,
            "conversion_rate": 2 / 3,
            "median_lead_time_days": 190.125,
        },
        "douane": {
            "registered": 1,
            "open": 1,
            "promoted": 0,
            "stopped": 0,
            "conversion_rate": None,
            "median_lead_time_days": None,
        },
    },
    "by_sandbox": {
        "demo": {
            "registered": 10,
            "open": 3,
            "promoted": 5,
            "stopped": 2,
            "conversion_rate": 5 / 7,
            "median_lead_time_days": 80.0,
        },
        "research": {
            "registered": 4,
            "open": 2,
            "promoted": 1,
            "stopped": 1,
            "conversion_rate": 0.5,
            "median_lead_time_days": 400.75,
        },
    },
    "by_quarter": {
        "2025-Q3": {
            "promoted": 3,
            "stopped": 0,
            "conversion_rate": 1.0,
            "median_lead_time_days": 95.0,
        },
        "2025-Q1": {
            "promoted": 1,
            "stopped": 2,
            "conversion_rate": 1 / 3,
            "median_lead_time_days": 20.0,
        },
        "2025-Q2": {
            "promoted": 2,
            "stopped": 1,
            "conversion_rate": 2 / 3,
            "median_lead_time_days": 64.5,
        },
    },
    "funnel": {"proposed": 14, "approved": 12, "exploring": 10, "validated": 7, "in_production": 6},
}
LEAD_TIMES = {
    "overall": [12.5, 20.0, 45.0, 84.27, 95.0, 400.75],
    "belastingen": [12.5, 20.0, 84.27, 95.0],
    "toeslagen & <zorg>": [45.0, 400.75],
}
ZERO = {k: 0 for k in ("registered", "open", "promoted", "stopped")}
EMPTY: dict[str, Any] = {
    "generated_at": "2025-10-01T08:00:00Z",
    "since": None,
    "until": None,
    "overall": {**ZERO, "conversion_rate": None, "median_lead_time_days": None},
    "by_team": {},
    "by_sandbox": {},
    "by_quarter": {},
    "funnel": {k: 0 for k in ("proposed", "approved", "exploring", "validated", "in_production")},
}
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr", "source", "area", "base"}


class Page(HTMLParser):
    """Collects data-metric elements with their text, and checks that tags balance."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.metrics: dict[str, tuple[str, list[str]]] = {}
        self.open_metrics: list[tuple[int, str]] = []
        self.resources: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append(tag)
        for name in ("src", "href"):
            if values.get(name):
                self.resources.append(f"{tag} {name}={values[name]}")
        if tag in VOID:
            return
        self.stack.append(tag)
        if "data-metric" in values:
            metric = values["data-metric"] or ""
            assert metric not in self.metrics, f"duplicate data-metric {metric}"
            self.metrics[metric] = (values["data-value"] or "", [])
            self.open_metrics.append((len(self.stack), metric))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        if self.open_metrics and self.open_metrics[-1][0] == len(self.stack):
            self.open_metrics.pop()
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        for _, metric in self.open_metrics:
            self.metrics[metric][1].append(data)

    def text(self, metric: str) -> str:
        return "".join(self.metrics[metric][1])


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    assert page.stack == [], f"unclosed tags {page.stack}"
    return page


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(flatten(inner, f"{prefix}.{key}" if prefix else key))
        return out
    return {prefix: value}


@pytest.mark.parametrize("report", [SAMPLE, EMPTY], ids=["sample", "empty"])
def test_every_value_of_the_report_is_on_the_page_exactly(report: dict[str, Any]) -> None:
    page = parse(render(report, LEAD_TIMES if report is SAMPLE else {"overall": []}))
    expected = flatten(report)
    assert set(page.metrics) == set(expected)
    for metric, value in expected.items():
        assert json.loads(page.metrics[metric][0]) == value, metric


@pytest.mark.parametrize("report", [SAMPLE, EMPTY], ids=["sample", "empty"])
def test_page_is_self_contained_with_four_accessible_svgs(report: dict[str, Any]) -> None:
    html = render(report, LEAD_TIMES if report is SAMPLE else {"overall": []})
    page = parse(html)
    assert page.resources == []
    assert "http://" not in html and "https://" not in html
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
    assert "@import" not in html and "url(" not in html
    svgs = re.findall(r"<svg\b.*?</svg>", html, flags=re.S)
    assert len(svgs) == html.count("<svg") == 4
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.get("role") == "img"
        assert root[0].tag == "title" and (root[0].text or "").strip()


def test_formatting_of_figures() -> None:
    page = parse(render(SAMPLE, LEAD_TIMES))
    assert page.text("overall.conversion_rate") == "66.7%"
    assert page.text("overall.median_lead_time_days") == "84.3"
    assert page.text("overall.registered") == "14"
    assert page.text("by_quarter.2025-Q1.conversion_rate") == "33.3%"
    assert page.text("by_team.douane.conversion_rate") == "–"
    assert page.text("funnel.validated") == "7"
    assert page.text("since") == "2025-01-01"


def test_nulls_render_as_dash_and_empty_charts_say_so() -> None:
    html = render(EMPTY, {"overall": []})
    page = parse(html)
    assert page.text("overall.conversion_rate") == "–"
    assert page.text("overall.median_lead_time_days") == "–"
    assert page.metrics["overall.conversion_rate"][0] == "null"
    assert "all time" in html
    assert html.count("No data for this period.") >= 3 + 3  # three charts, three tables


def test_quarters_are_sorted_and_text_is_escaped() -> None:
    html = render(SAMPLE, LEAD_TIMES, title="<b>Rapport</b>", filters_html="<form id=f></form>")
    charts = html[html.index('id="h-charts"') : html.index('id="h-tables"')]
    assert charts.index("2025-Q1") < charts.index("2025-Q2") < charts.index("2025-Q3")
    assert "<b>Rapport</b>" not in html and "&lt;b&gt;Rapport&lt;/b&gt;" in html
    assert "toeslagen &amp; &lt;zorg&gt;" in html and "<zorg>" not in html
    assert html.index("</header><form id=f></form>") > 0


def test_dutch_labels() -> None:
    html = render(SAMPLE, LEAD_TIMES, lang="nl")
    page = parse(html)
    assert '<html lang="nl">' in html
    for label in ("Experimenten naar productie", "Conversiegraad", "Gestopt", "Per team"):
        assert label in html
    assert "Conversion rate" not in html
    assert page.text("overall.conversion_rate") == "66,7%"
    assert json.loads(page.metrics["overall.conversion_rate"][0]) == 6 / 9
    assert "alle tijd" in render(EMPTY, {"overall": []}, lang="nl")


def test_lead_time_histogram_bins() -> None:
    html = render(SAMPLE, LEAD_TIMES)
    svg = re.findall(r"<svg\b.*?</svg>", html, flags=re.S)[2]
    texts = [t.text for t in ET.fromstring(svg).iter("text")]
    # Bin labels followed by counts: 0–30: 2, 30–60: 1, 60–90: 1, 90–180: 1, 180–365: 0, 365+: 1
    counts = dict(zip(texts[1::2], texts[0::2], strict=True))
    assert counts == {"0–30": "2", "30–60": "1", "60–90": "1", "90–180": "1", "180–365": "0",
                      "365+": "1"}  # fmt: skip


def test_sample_renders_to_a_file(tmp_path: Any) -> None:
    out = tmp_path / "report.html"
    out.write_text(render(SAMPLE, LEAD_TIMES), encoding="utf-8")
    assert out.stat().st_size > 5000


def test_autoescape_a_team_sandbox_and_title_with_script_and_quotes() -> None:
    """The template escapes what it shows: a team, sandbox or title holding <script>
    and a double quote is text in the page, its tables and its charts, and intact in
    the data-metric attributes; every chart stays well-formed SVG."""
    hostile = '<script>alert("x")</script>'
    report = json.loads(json.dumps(SAMPLE))
    report["by_team"][hostile] = report["by_team"].pop("belastingen")
    report["by_sandbox"][hostile] = report["by_sandbox"].pop("demo")
    for lang in ("en", "nl"):
        html = render(report, LEAD_TIMES, title=hostile, lang=lang)
        page = parse(html)
        assert "<script" not in html and '"x"' not in html
        assert "script" not in page.tags
        # the <title>, the h1, both tables' row heads and the team chart's tooltip
        assert html.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;<") == 5
        assert json.loads(page.metrics[f"by_team.{hostile}.promoted"][0]) == 4
        assert json.loads(page.metrics[f"by_sandbox.{hostile}.registered"][0]) == 10
        for svg in re.findall(r"<svg\b.*?</svg>", html, flags=re.S):
            ET.fromstring(svg)


def test_the_page_data_is_computed_without_rendering() -> None:
    """``context`` is what the template shows: texts, metrics and chart geometry."""
    page = context(SAMPLE, LEAD_TIMES, lang="nl")
    assert page["title"] == "Experimenten naar productie"
    figures = dict(page["figures"])
    assert figures["Conversiegraad"].shown == "66,7%"
    assert [m.path for m in page["period"] if not isinstance(m, str)] == ["since", "until"]
    assert page["hidden"] == []
    funnel, per_team = page["charts"][0], page["charts"][3]
    assert funnel.title.startswith("Trechter")
    widths = [float(m.width) for m in funnel.marks if m.kind == "rect"]
    assert len(widths) == 5 and widths == sorted(widths, reverse=True)  # 14, 12, 10, 7, 6
    assert sum(m.kind == "rect" for m in per_team.marks) == 2 + 3 * 2  # legend, 3 teams
    assert [t.heading for t in page["tables"]] == [
        "Trechter: experimenten die elke fase ooit bereikten",
        "Per team",
        "Per sandbox",
        "Per kwartaal",
    ]
    assert page["tables"][1].heads[0] == "Team" and page["tables"][3].heads[0] == "Kwartaal"
    empty = context(EMPTY, {"overall": []})
    assert [m.path for m in empty["hidden"]] == ["since", "until"]
    assert empty["period"] == ["all time"]


def test_the_templates_autoescape_and_ship_beside_the_module() -> None:
    names = TEMPLATES.list_templates()
    assert {"report.html", "report.css", "svg.html"} <= set(names)
    for name in names:
        TEMPLATES.get_template(name)  # compiles
        assert TEMPLATES.autoescape(name) is name.endswith(".html")
