"""The manager report (PRODUCT.md section 7) as one self-contained, offline HTML page.

No scripts, no external resources: the charts are inline SVG. Every figure and table
cell carries ``data-metric`` (the dotted path into the report JSON, e.g.
``overall.conversion_rate``, ``by_team.<team>.promoted``, ``funnel.validated``) and
``data-value`` (that value JSON-encoded), so a browser test can compare page and JSON.

The markup is in ``templates/`` (``report.html``, its style ``report.css``); the
functions here are pure and compute what the template shows: ``context`` the whole
page, the chart functions each chart's geometry as data (``Chart``). ``environment``
is the Jinja setup of this package and of the registry service's pages.
"""

from __future__ import annotations

import html
import json
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_eval_context,
    select_autoescape,
)
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from jinja2.nodes import EvalContext
from markupsafe import Markup

from ..registry.lifecycle import FUNNEL
from ..texts import TEXTS, capital, text

DEFAULT_TITLE = text("en", "report_title")
FIGURES = ("registered", "open", "promoted", "stopped", "conversion_rate", "median_lead_time_days")
BINS: tuple[tuple[float, float | None], ...] = (
    (0, 30), (30, 60), (60, 90), (90, 180), (180, 365), (365, None)
)  # fmt: skip
DASH = "–"
COLOURS = {
    "ink": "#1a1a1a", "muted": "#4a4a4a", "grid": "#9a9a9a",
    "blue": "#1d4f91", "green": "#1b6e3a", "red": "#a8322d", "purple": "#5b3f8c",
}  # fmt: skip
INK, MUTED, GRID = COLOURS["ink"], COLOURS["muted"], COLOURS["grid"]
BLUE, GREEN, RED, PURPLE = COLOURS["blue"], COLOURS["green"], COLOURS["red"], COLOURS["purple"]


# ------------------------------------------------------------------ templates


@pass_eval_context
def _escaped(context: EvalContext, value: Any) -> Any:
    """What ``{{ value }}`` prints in an autoescaped template: the value escaped as
    ``html.escape`` does it (``&#x27;`` and ``&quot;``, the entities these pages have
    always had, where MarkupSafe writes ``&#39;`` and ``&#34;``); Markup (a macro's
    output, ``|safe``) as it is. Jinja's autoescape then passes the Markup through."""
    if not context.autoescape or hasattr(value, "__html__"):
        return value
    return Markup(html.escape(str(value)))


class Compact(Extension):
    """HTML templates are written one element per line, indented, for reading; the
    pages come out on one line. In an HTML template's text (not inside ``{{ }}`` or
    ``{% %}``), a line break with the spaces around it prints nothing before a tag
    (``<``) or a Jinja tag, and one space elsewhere (an attribute or a sentence
    continued). So keep text that needs a space before a tag on one line. Line
    numbers in errors stay those of the file. Other templates (the CSS) are as written."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        html_template = (stream.name or "").endswith(".html")
        for token in stream:
            if html_template and token.type == "data":
                value = re.sub(r"\s*\n\s*(?=<|\Z)", "", token.value)
                token = Token(token.lineno, "data", re.sub(r"\s*\n\s*", " ", value))
            yield token


def environment(folder: Path) -> Environment:
    """The Jinja environment of one package's templates folder: autoescape for HTML
    (``_escaped``), HTML compacted (``Compact``), other templates (CSS) as written to
    their last line break, an undefined name an error, and the ``capital`` filter
    (``sandbox/texts.py``)."""
    env = Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(["html"]),
        finalize=_escaped,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        extensions=[Compact],
    )
    env.filters["capital"] = capital
    return env


TEMPLATES = environment(Path(__file__).parent / "templates")


# ------------------------------------------------------------------ values


def _num(value: float, lang: str) -> str:
    shown = f"{value:.1f}"
    return shown.replace(".", ",") if lang == "nl" else shown


def fmt(key: str, value: Any, lang: str = "en") -> str:
    """The displayed text of one report value: percent or days with one decimal, – for null."""
    if value is None:
        return DASH
    if key == "conversion_rate":
        return f"{_num(value * 100, lang)}%"
    if key.endswith("_days") or isinstance(value, float):
        return _num(value, lang)
    return str(value)


@dataclass(frozen=True)
class Metric:
    """One report value on the page: ``data-metric`` (its path), ``data-value`` (JSON)
    and the text shown."""

    path: str
    value: str
    shown: str


def metric(path: str, key: str, value: Any, lang: str) -> Metric:
    return Metric(path, json.dumps(value), fmt(key, value, lang))


# ------------------------------------------------------------------ charts


def _n(value: float) -> str:
    """A coordinate in the SVG: one decimal."""
    return f"{value:.1f}"


@dataclass(frozen=True)
class Line:
    kind: ClassVar[str] = "line"
    x1: str
    y1: str
    x2: str
    y2: str
    stroke: str


@dataclass(frozen=True)
class Rect:
    kind: ClassVar[str] = "rect"
    x: str
    y: str
    width: str
    height: str
    fill: str


@dataclass(frozen=True)
class Label:
    """An SVG text; ``tooltip`` is its ``<title>`` (the whole of a shortened label)."""

    kind: ClassVar[str] = "text"
    x: str
    y: str
    words: str
    anchor: str = "start"
    size: str = ""
    weight: str = ""
    fill: str = ""
    transform: str = ""
    tooltip: str = ""


@dataclass(frozen=True)
class Chart:
    """One SVG chart: its title (also the figure's caption), size and marks in drawing order."""

    title: str
    height: int
    marks: list[Line | Rect | Label] = field(default_factory=list)
    width: int = 480


def _short(words: str, limit: int = 18) -> str:
    return words if len(words) <= limit else words[: limit - 1] + "…"


def _empty(title: str, message: str) -> Chart:
    return Chart(title, 120, [Label(_n(240), _n(64), message, "middle", fill=MUTED)])


def _vbars(
    title: str, bars: list[tuple[str, float | None, str]], top: float, color: str, empty: str
) -> Chart:
    """Vertical bars: (label, value or None, value text); bar heights relative to ``top``."""
    if not bars:
        return _empty(title, empty)
    tilt = len(bars) > 8  # many quarters: labels at an angle, smaller value text
    width, height, base, plot, x0 = 480, 290 if tilt else 250, 210, 175, 40 if tilt else 10
    slot = (width - 10 - x0) / len(bars)
    size = _n(min(12, slot / 3.3))
    marks: list[Line | Rect | Label] = [Line(str(x0), str(base), str(width - 10), str(base), GRID)]
    for i, (label, value, shown) in enumerate(bars):
        center = x0 + slot * (i + 0.5)
        bar = plot * (value or 0) / top if top else 0
        if bar > 0:
            marks.append(
                Rect(_n(center - slot * 0.3), _n(base - bar), _n(slot * 0.6), _n(bar), color)
            )
        marks.append(Label(_n(center), _n(base - bar - 5), shown, "middle", size, "600"))
        if tilt:
            turn = f"rotate(-45 {center:.1f} {base + 14})"
            marks.append(Label(_n(center), _n(base + 14), label, "end", transform=turn))
        else:
            marks.append(Label(_n(center), _n(base + 18), label, "middle"))
    return Chart(title, height, marks, width)


def _hbars(
    title: str,
    rows: list[tuple[str, list[tuple[float, str, str]], str]],
    legend: list[tuple[str, str]],
    empty: str,
    note_label: str = "",
) -> Chart:
    """Horizontal bars: (label, [(value, colour, value text)], right-hand note) per row."""
    if not rows:
        return _empty(title, empty)
    width, left, right = 480, 130, 420
    top = max((v for _, series, _ in rows for v, _, _ in series), default=0) or 1
    y = 8.0
    marks: list[Line | Rect | Label] = []
    if legend:
        x = 8.0
        for name, colour in legend:
            marks.append(Rect(_n(x), str(y), "12", "12", colour))
            marks.append(Label(_n(x + 17), _n(y + 10), name))
            x += 17 + 7 * len(name) + 16
        marks.append(Label(_n(width - 6), _n(y + 10), note_label, "end", weight="600"))
        y += 24
    for label, series, note in rows:
        thick = 26 if len(series) == 1 else 14
        row_height = (thick + 4) * len(series)
        middle = y + row_height / 2 + 4
        marks.append(Label(str(left - 8), _n(middle), _short(label), "end", tooltip=label))
        for j, (value, colour, shown) in enumerate(series):
            bar = (right - left - 40) * value / top
            by = y + j * (thick + 4) + 2
            marks.append(Rect(str(left), _n(by), _n(bar), str(thick), colour))
            marks.append(Label(_n(left + bar + 4), _n(by + thick / 2 + 4), shown))
        if note:
            marks.append(Label(_n(width - 6), _n(middle), note, "end", weight="600"))
        y += row_height + 10
    return Chart(title, int(y + 4), marks, width)


def _histogram(values: list[float]) -> list[tuple[str, int]]:
    counts = [0] * len(BINS)
    for value in values:
        index = next(i for i, (_, hi) in enumerate(BINS) if hi is None or value < hi)
        counts[index] += 1
    labels = [f"{lo:g}–{hi:g}" if hi is not None else f"{lo:g}+" for lo, hi in BINS]
    return list(zip(labels, counts, strict=True))


def charts(report: dict[str, Any], lead_times: dict[str, list[float]], lang: str) -> list[Chart]:
    """The four charts: funnel, conversion per quarter, lead times, per team."""
    s = TEXTS[lang]
    funnel = report["funnel"]
    funnel_rows = [(s[k], [(float(funnel[k]), BLUE, str(funnel[k]))], "") for k in FUNNEL]
    quarters = report["by_quarter"]
    rates = {q: quarters[q]["conversion_rate"] for q in sorted(quarters)}
    quarter_bars = [(q, r, fmt("conversion_rate", r, lang)) for q, r in rates.items()]
    overall_times = lead_times.get("overall", [])
    histogram = _histogram(overall_times)
    hist_bars: list[tuple[str, float | None, str]] = [(lb, c, str(c)) for lb, c in histogram]
    teams = report["by_team"]
    team_rows = [
        (name, [(float(f[k]), c, str(f[k])) for k, c in (("promoted", GREEN), ("stopped", RED))],
         fmt("conversion_rate", f["conversion_rate"], lang))
        for name, f in sorted(teams.items())
    ]  # fmt: skip
    lead_title = text(lang, "lead_dist", n=len(overall_times))
    top = max((c for _, c in histogram), default=0)
    legend = [(s["promoted"], GREEN), (s["stopped"], RED)]
    return [
        _hbars(s["funnel"], funnel_rows, [], s["no_data"]),
        _vbars(s["conv_quarter"], quarter_bars, 1.0, BLUE, s["no_data"]),
        _vbars(lead_title, hist_bars if top else [], top, PURPLE, s["no_data"]),
        _hbars(s["per_team"], team_rows, legend, s["no_data"], s["conversion_rate"]),
    ]


# ------------------------------------------------------------------ the page


@dataclass(frozen=True)
class Table:
    """One table: its heading, column heads and rows of (name, cells)."""

    heading: str
    heads: list[str]
    rows: list[tuple[str, list[Metric]]]


def _table(section: str, groups: dict[str, dict[str, Any]], first: str, lang: str) -> Table:
    known = FIGURES[2:] if section == "by_quarter" else FIGURES
    columns = [k for k in known if not groups or any(k in g for g in groups.values())]
    columns += sorted({k for g in groups.values() for k in g} - set(columns))
    heads = [capital(text(lang, first)), *(text(lang, c, default=c) for c in columns)]
    rows = [
        (name, [metric(f"{section}.{name}.{c}", c, groups[name][c], lang)
                for c in columns if c in groups[name]])
        for name in sorted(groups)
    ]  # fmt: skip
    return Table(text(lang, section), heads, rows)


def _period(report: dict[str, Any], lang: str) -> tuple[list[str | Metric], list[Metric]]:
    """The period in words, as text and the bounds' metrics in the order shown; and the
    null bounds, which still carry a (hidden) data-metric element."""
    since, until = report.get("since"), report.get("until")
    bounds = {k: metric(k, k, v, lang) for k, v in (("since", since), ("until", until))}
    key = "both" if since and until else "since" if since else "until" if until else "all"
    parts: list[str | Metric] = []
    for literal, name, _, _ in string.Formatter().parse(text(lang, f"period_{key}")):
        parts += [literal] if literal else []
        parts += [bounds[name]] if name else []
    return parts, [bounds[k] for k, v in (("since", since), ("until", until)) if v is None]


def context(
    report: dict[str, Any],
    lead_times: dict[str, list[float]],
    *,
    title: str = DEFAULT_TITLE,
    lang: str = "en",
) -> dict[str, Any]:
    """Everything ``report.html`` shows, for one report in one language (English when
    ``lang`` is not one we have)."""
    lang = lang if lang in TEXTS else "en"
    overall, funnel = report["overall"], report["funnel"]
    period, hidden = _period(report, lang)
    funnel_table = Table(
        text(lang, "funnel"),
        [capital(text(lang, "state")), text(lang, "experiments")],
        [(text(lang, k), [metric(f"funnel.{k}", k, funnel[k], lang)]) for k in FUNNEL
         if k in funnel],
    )  # fmt: skip
    return {
        "lang": lang,
        "t": TEXTS[lang],
        "colours": COLOURS,
        "title": text(lang, "report_title") if title == DEFAULT_TITLE else title,
        "generated": metric("generated_at", "generated_at", report.get("generated_at"), lang),
        "period": period,
        "hidden": hidden,
        "figures": [
            (text(lang, k), metric(f"overall.{k}", k, overall[k], lang))
            for k in FIGURES
            if k in overall
        ],
        "charts": charts(report, lead_times, lang),
        "tables": [
            funnel_table,
            *(
                _table(section, report[section], first, lang)
                for section, first in (
                    ("by_team", "team"),
                    ("by_sandbox", "sandbox"),
                    ("by_quarter", "quarter"),
                )
            ),
        ],
    }


def render(
    report: dict[str, Any],
    lead_times: dict[str, list[float]],
    *,
    title: str = DEFAULT_TITLE,
    lang: str = "en",
    filters_html: str = "",
) -> str:
    """One offline HTML page for a report; ``filters_html`` (the dashboard's form, HTML
    the registry service rendered) is inserted as it is."""
    page = context(report, lead_times, title=title, lang=lang)
    html_page = TEMPLATES.get_template("report.html").render(page, filters=Markup(filters_html))
    return html_page + "\n"  # a file that ends its last line
