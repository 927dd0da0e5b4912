"""The manager report (PRODUCT.md section 7) as one self-contained, offline HTML page.

No scripts, no external resources: the charts are inline SVG built here. Every figure
and table cell carries ``data-metric`` (the dotted path into the report JSON, e.g.
``overall.conversion_rate``, ``by_team.<team>.promoted``, ``funnel.validated``) and
``data-value`` (that value JSON-encoded), so a browser test can compare page and JSON.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from ..registry.lifecycle import FUNNEL

DEFAULT_TITLE = "Experiments to production"
FIGURES = ("registered", "open", "promoted", "stopped", "conversion_rate", "median_lead_time_days")
BINS: tuple[tuple[float, float | None], ...] = (
    (0, 30), (30, 60), (60, 90), (90, 180), (180, 365), (365, None)
)  # fmt: skip
DASH = "–"
INK, MUTED, GRID = "#1a1a1a", "#4a4a4a", "#9a9a9a"
BLUE, GREEN, RED, PURPLE = "#1d4f91", "#1b6e3a", "#a8322d", "#5b3f8c"

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": DEFAULT_TITLE, "generated": "Generated", "period": "Period",
        "all_time": "all time", "both": "{since} up to (not including) {until}",
        "since": "from {since}", "until": "before {until}",
        "registered": "Registered", "open": "Open", "promoted": "Promoted",
        "stopped": "Stopped", "conversion_rate": "Conversion rate",
        "median_lead_time_days": "Median lead time (days)",
        "proposed": "Proposed", "approved": "Approved", "exploring": "Exploring",
        "validated": "Validated", "in_production": "In production", "retired": "Retired",
        "funnel": "Funnel: experiments that ever entered each state",
        "conv_quarter": "Conversion rate per quarter (closed experiments)",
        "lead_dist": "Lead time to production (days), {n} promoted experiments",
        "per_team": "Promoted and stopped per team, with conversion rate",
        "by_team": "By team", "by_sandbox": "By sandbox", "by_quarter": "By quarter",
        "team": "Team", "sandbox": "Sandbox", "quarter": "Quarter", "state": "State",
        "count": "Experiments", "no_data": "No data for this period.",
        "figures": "Headline figures", "charts": "Charts", "tables": "Tables",
    },
    "nl": {
        "title": "Experimenten naar productie", "generated": "Gegenereerd", "period": "Periode",
        "all_time": "alle tijd", "both": "{since} tot (niet t/m) {until}",
        "since": "vanaf {since}", "until": "vóór {until}",
        "registered": "Geregistreerd", "open": "Lopend", "promoted": "In productie genomen",
        "stopped": "Gestopt", "conversion_rate": "Conversiegraad",
        "median_lead_time_days": "Mediane doorlooptijd (dagen)",
        "proposed": "Voorgesteld", "approved": "Goedgekeurd", "exploring": "Verkennend",
        "validated": "Gevalideerd", "in_production": "In productie", "retired": "Buiten gebruik",
        "funnel": "Trechter: experimenten die elke fase ooit bereikten",
        "conv_quarter": "Conversiegraad per kwartaal (afgesloten experimenten)",
        "lead_dist": "Doorlooptijd tot productie (dagen), {n} experimenten in productie",
        "per_team": "In productie en gestopt per team, met conversiegraad",
        "by_team": "Per team", "by_sandbox": "Per sandbox", "by_quarter": "Per kwartaal",
        "team": "Team", "sandbox": "Sandbox", "quarter": "Kwartaal", "state": "Fase",
        "count": "Experimenten", "no_data": "Geen gegevens voor deze periode.",
        "figures": "Kerncijfers", "charts": "Grafieken", "tables": "Tabellen",
    },
}  # fmt: skip

CSS = f"""
body{{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:{INK};
background:#fff;margin:0;line-height:1.4}}
main{{max-width:1160px;margin:0 auto;padding:1.5rem}}
header{{border-bottom:3px solid {BLUE};margin-bottom:1rem}}
h1{{margin:0 0 .25rem;font-size:1.8rem}} h2{{font-size:1.25rem;margin:1.5rem 0 .5rem}}
header p{{margin:.2rem 0 .75rem;color:{MUTED}}}
.figures{{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:.75rem}}
.figure{{border:1px solid #c8c8c8;border-radius:6px;padding:.6rem .8rem}}
.figure .label{{display:block;color:{MUTED};font-size:.85rem}}
.figure .value{{display:block;font-size:1.6rem;font-weight:700}}
.charts{{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(460px,100%),1fr));gap:1rem}}
figure{{margin:0;border:1px solid #c8c8c8;border-radius:6px;padding:.6rem}}
figcaption{{font-weight:600;margin-bottom:.3rem}} svg{{width:100%;height:auto;display:block}}
.table-wrap{{overflow-x:auto}} table{{border-collapse:collapse;width:100%;font-size:.92rem}}
th,td{{border-bottom:1px solid #d4d4d4;padding:.35rem .6rem;text-align:right}}
th:first-child,td:first-child{{text-align:left}} thead th{{background:#eef2f8}}
"""


def _num(value: float, lang: str) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if lang == "nl" else text


def fmt(key: str, value: Any, lang: str = "en") -> str:
    """The displayed text of one report value: percent or days with one decimal, – for null."""
    if value is None:
        return DASH
    if key == "conversion_rate":
        return f"{_num(value * 100, lang)}%"
    if key.endswith("_days") or isinstance(value, float):
        return _num(value, lang)
    return str(value)


def _metric(tag: str, path: str, key: str, value: Any, lang: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return (
        f'<{tag}{attr} data-metric="{escape(path)}" data-value="{escape(json.dumps(value))}">'
        f"{escape(fmt(key, value, lang))}</{tag}>"
    )


def _svg(title: str, height: int, body: list[str], width: int = 480) -> str:
    return (
        f'<svg viewBox="0 0 {width} {height}" role="img" '
        f'font-family="system-ui,sans-serif" font-size="12" fill="{INK}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{escape(text)}</text>'


def _short(text: str, limit: int = 18) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _empty(title: str, message: str) -> str:
    return _svg(title, 120, [_text(240, 64, message, "middle", f' fill="{MUTED}"')])


def _vbars(
    title: str, bars: list[tuple[str, float | None, str]], top: float, color: str, empty: str
) -> str:
    """Vertical bars: (label, value or None, value text); bar heights relative to ``top``."""
    if not bars:
        return _empty(title, empty)
    tilt = len(bars) > 8  # many quarters: labels at an angle, smaller value text
    width, height, base, plot, x0 = 480, 290 if tilt else 250, 210, 175, 40 if tilt else 10
    slot = (width - 10 - x0) / len(bars)
    size = f' font-size="{min(12, slot / 3.3):.1f}" font-weight="600"'
    body = [f'<line x1="{x0}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="{GRID}"/>']
    for i, (label, value, text) in enumerate(bars):
        center = x0 + slot * (i + 0.5)
        bar = plot * (value or 0) / top if top else 0
        if bar > 0:
            body.append(
                f'<rect x="{center - slot * 0.3:.1f}" y="{base - bar:.1f}" width="{slot * 0.6:.1f}"'
                f' height="{bar:.1f}" fill="{color}"/>'
            )
        body.append(_text(center, base - bar - 5, text, "middle", size))
        if tilt:
            turn = f' transform="rotate(-45 {center:.1f} {base + 14})"'
            body.append(_text(center, base + 14, label, "end", turn))
        else:
            body.append(_text(center, base + 18, label, "middle"))
    return _svg(title, height, body, width)


def _hbars(
    title: str,
    rows: list[tuple[str, list[tuple[float, str, str]], str]],
    legend: list[tuple[str, str]],
    empty: str,
    note_label: str = "",
) -> str:
    """Horizontal bars: (label, [(value, colour, value text)], right-hand note) per row."""
    if not rows:
        return _empty(title, empty)
    width, left, right = 480, 130, 420
    top = max((v for _, series, _ in rows for v, _, _ in series), default=0) or 1
    y, body = 8.0, []
    if legend:
        x = 8.0
        for name, colour in legend:
            body.append(f'<rect x="{x:.1f}" y="{y}" width="12" height="12" fill="{colour}"/>')
            body.append(_text(x + 17, y + 10, name))
            x += 17 + 7 * len(name) + 16
        body.append(_text(width - 6, y + 10, note_label, "end", ' font-weight="600"'))
        y += 24
    for label, series, note in rows:
        thick = 26 if len(series) == 1 else 14
        row_height = (thick + 4) * len(series)
        middle = y + row_height / 2 + 4
        body.append(
            f'<text x="{left - 8}" y="{middle:.1f}" text-anchor="end"><title>{escape(label)}'
            f"</title>{escape(_short(label))}</text>"
        )
        for j, (value, colour, text) in enumerate(series):
            bar = (right - left - 40) * value / top
            by = y + j * (thick + 4) + 2
            body.append(
                f'<rect x="{left}" y="{by:.1f}" width="{bar:.1f}" height="{thick}"'
                f' fill="{colour}"/>'
            )
            body.append(_text(left + bar + 4, by + thick / 2 + 4, text))
        if note:
            body.append(_text(width - 6, middle, note, "end", ' font-weight="600"'))
        y += row_height + 10
    return _svg(title, int(y + 4), body, width)


def _histogram(values: list[float]) -> list[tuple[str, int]]:
    counts = [0] * len(BINS)
    for value in values:
        index = next(i for i, (_, hi) in enumerate(BINS) if hi is None or value < hi)
        counts[index] += 1
    labels = [f"{lo:g}–{hi:g}" if hi is not None else f"{lo:g}+" for lo, hi in BINS]
    return list(zip(labels, counts, strict=True))


def _charts(
    report: dict[str, Any], lead_times: dict[str, list[float]], s: dict[str, str], lang: str
) -> list[tuple[str, str]]:
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
    lead_title = s["lead_dist"].format(n=len(overall_times))
    top = max((c for _, c in histogram), default=0)
    legend = [(s["promoted"], GREEN), (s["stopped"], RED)]
    return [
        (s["funnel"], _hbars(s["funnel"], funnel_rows, [], s["no_data"])),
        (s["conv_quarter"], _vbars(s["conv_quarter"], quarter_bars, 1.0, BLUE, s["no_data"])),
        (lead_title, _vbars(lead_title, hist_bars if top else [], top, PURPLE, s["no_data"])),
        (
            s["per_team"],
            _hbars(s["per_team"], team_rows, legend, s["no_data"], s["conversion_rate"]),
        ),
    ]


def _table(
    section: str, groups: dict[str, dict[str, Any]], first: str, s: dict[str, str], lang: str
) -> str:
    known = FIGURES[2:] if section == "by_quarter" else FIGURES
    columns = [k for k in known if not groups or any(k in g for g in groups.values())]
    columns += sorted({k for g in groups.values() for k in g} - set(columns))
    head = "".join(f'<th scope="col">{escape(s.get(c, c))}</th>' for c in [first, *columns])
    rows = []
    for name in sorted(groups):
        cells = "".join(
            _metric("td", f"{section}.{name}.{c}", c, groups[name][c], lang)
            for c in columns
            if c in groups[name]
        )
        rows.append(f'<tr><th scope="row">{escape(name)}</th>{cells}</tr>')
    if not rows:
        rows.append(f'<tr><td colspan="{len(columns) + 1}">{escape(s["no_data"])}</td></tr>')
    return (
        f'<h3>{escape(s[section])}</h3><div class="table-wrap"><table><thead><tr>{head}</tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _period(report: dict[str, Any], s: dict[str, str], lang: str) -> str:
    """The period text; null bounds still carry their (hidden) data-metric element."""
    since, until = report.get("since"), report.get("until")
    shown = {k: _metric("span", k, k, v, lang) for k, v in (("since", since), ("until", until))}
    hidden = "".join(
        f'<span hidden data-metric="{k}" data-value="null">{DASH}</span>'
        for k, v in (("since", since), ("until", until))
        if v is None
    )
    key = "both" if since and until else "since" if since else "until" if until else "all_time"
    return escape(s[key]).format(**shown) + hidden


def render(
    report: dict[str, Any],
    lead_times: dict[str, list[float]],
    *,
    title: str = DEFAULT_TITLE,
    lang: str = "en",
    filters_html: str = "",
) -> str:
    """One offline HTML page for a report; ``filters_html`` is inserted verbatim."""
    lang = lang if lang in STRINGS else "en"
    s = STRINGS[lang]
    title = s["title"] if title == DEFAULT_TITLE else title
    overall = report["overall"]
    figures = "".join(
        f'<div class="figure"><span class="label">{escape(s[k])}</span>'
        f"{_metric('span', f'overall.{k}', k, overall[k], lang, 'value')}</div>"
        for k in FIGURES
        if k in overall
    )
    funnel_rows = "".join(
        f'<tr><th scope="row">{escape(s[k])}</th>'
        f"{_metric('td', f'funnel.{k}', k, report['funnel'][k], lang)}</tr>"
        for k in FUNNEL
        if k in report["funnel"]
    )
    charts = "".join(
        f"<figure><figcaption>{escape(caption)}</figcaption>{svg}</figure>"
        for caption, svg in _charts(report, lead_times, s, lang)
    )
    tables = "".join(
        _table(section, report[section], first, s, lang)
        for section, first in (
            ("by_team", "team"),
            ("by_sandbox", "sandbox"),
            ("by_quarter", "quarter"),
        )
    )
    generated = _metric("span", "generated_at", "generated_at", report.get("generated_at"), lang)
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body><main>"
        f"<header><h1>{escape(title)}</h1><p>{escape(s['generated'])}: {generated} · "
        f"{escape(s['period'])}: {_period(report, s, lang)}</p></header>{filters_html}"
        f'<section aria-labelledby="h-figures"><h2 id="h-figures">{escape(s["figures"])}</h2>'
        f'<div class="figures">{figures}</div></section>'
        f'<section aria-labelledby="h-charts"><h2 id="h-charts">{escape(s["charts"])}</h2>'
        f'<div class="charts">{charts}</div></section>'
        f'<section aria-labelledby="h-tables"><h2 id="h-tables">{escape(s["tables"])}</h2>'
        f'<h3>{escape(s["funnel"])}</h3><div class="table-wrap"><table><thead><tr>'
        f'<th scope="col">{escape(s["state"])}</th><th scope="col">{escape(s["count"])}</th>'
        f"</tr></thead><tbody>{funnel_rows}</tbody></table></div>{tables}</section>"
        "</main></body></html>\n"
    )
