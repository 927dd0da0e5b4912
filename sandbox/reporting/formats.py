"""Text renderings of the manager report: CSV and terminal tables."""

from __future__ import annotations

import csv
import io
from typing import Any

from ..texts import text
from .tables import Grid

CSV_COLUMNS = (
    "group",
    "name",
    "since",
    "until",
    "registered",
    "open",
    "promoted",
    "stopped",
    "conversion_rate",
    "median_lead_time_days",
)


def rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per group and period: overall, each team, sandbox and quarter."""
    period = {"since": report["since"] or "", "until": report["until"] or ""}
    out = [{"group": "overall", "name": "all", **period, **report["overall"]}]
    for group, key in (("team", "by_team"), ("sandbox", "by_sandbox"), ("quarter", "by_quarter")):
        for name, values in report[key].items():
            out.append({"group": group, "name": name, **period, **values})
    return out


def to_csv(report: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows(report):
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in CSV_COLUMNS})
    return buffer.getvalue()


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def days(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def tables(report: dict[str, Any]) -> list[Grid]:
    period = f"{report['since'] or 'start'} – {report['until'] or 'now'}"
    columns = ("group", "name", "registered", "open", "promoted", "stopped", "conversion")
    figures = Grid(
        (*columns, "median days"),
        frozenset({"group", "name"}),
        title=f"{text('en', 'report_title')} ({period})",
        heading=2,
    )
    for row in rows(report):
        if row["group"] == "quarter":
            continue
        figures.add_row(
            row["group"],
            row["name"],
            row["registered"],
            row["open"],
            row["promoted"],
            row["stopped"],
            percent(row["conversion_rate"]),
            days(row["median_lead_time_days"]),
        )
    quarters = Grid(
        ("quarter", "promoted", "stopped", "conversion", "median days"),
        frozenset({"quarter"}),
        title="Closed per quarter",
    )
    for name, values in report["by_quarter"].items():
        quarters.add_row(
            name,
            values["promoted"],
            values["stopped"],
            percent(values["conversion_rate"]),
            days(values["median_lead_time_days"]),
        )
    funnel = Grid(("state", "ever entered"), frozenset({"state"}), title="Funnel")
    for state, count in report["funnel"].items():
        funnel.add_row(state, count)
    return [figures, quarters, funnel]


def manager_report(registry_url: str, fmt: str, since=None, until=None, lang: str = "en"):
    """The report in one format: json/csv/html text, or ``Grid``s for "table"."""
    import json

    from ..errors import InvalidInput
    from ..registry import store
    from ..registry.db import open_registry_url
    from . import report

    if since and until and since >= until:
        raise InvalidInput(f"--since {since} must be before --until {until}")
    summaries = store.summaries(open_registry_url(registry_url))
    result = report.compute(summaries, since, until)
    if fmt == "json":
        return json.dumps(result, indent=2) + "\n"
    if fmt == "csv":
        return to_csv(result)
    if fmt == "html":
        from .html import render

        return render(result, report.lead_time_series(summaries, since, until), lang=lang)
    return tables(result)
