"""The manager report (PRODUCT.md section 7) as one pure function.

Input is one summary per experiment (from ``store.summaries``: what the event
log says about it); output is the contract's JSON. Every output format and
the dashboard render this result.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

FUNNEL = ("proposed", "approved", "exploring", "validated", "in_production")
DAY = 86_400.0


@dataclass(frozen=True)
class Summary:
    id: str
    team: str
    sandbox: str
    registered_at: datetime
    first_production: datetime | None = None
    stopped_at: datetime | None = None
    entered: frozenset[str] = field(default_factory=lambda: frozenset({"proposed"}))

    @property
    def promoted(self) -> bool:
        return self.first_production is not None

    @property
    def stopped(self) -> bool:
        return self.stopped_at is not None and not self.promoted

    @property
    def lead_time_days(self) -> float | None:
        if self.first_production is None:
            return None
        return (self.first_production - self.registered_at).total_seconds() / DAY

    @property
    def closed_at(self) -> datetime | None:
        return self.first_production if self.promoted else self.stopped_at


def quarter(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return f"{utc.year}-Q{(utc.month - 1) // 3 + 1}"


def _rate(promoted: int, stopped: int) -> float | None:
    return promoted / (promoted + stopped) if promoted + stopped else None


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def figures(items: list[Summary]) -> dict[str, object]:
    promoted = sum(1 for s in items if s.promoted)
    stopped = sum(1 for s in items if s.stopped)
    return {
        "registered": len(items),
        "open": len(items) - promoted - stopped,
        "promoted": promoted,
        "stopped": stopped,
        "conversion_rate": _rate(promoted, stopped),
        "median_lead_time_days": _median(lead_times(items)),
    }


def lead_times(items: Iterable[Summary]) -> list[float]:
    return [t for s in items if (t := s.lead_time_days) is not None]


def _grouped(items: list[Summary], key: Callable[[Summary], str]) -> dict[str, dict]:
    groups: dict[str, list[Summary]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return {name: figures(groups[name]) for name in sorted(groups)}


def in_period(item: Summary, since: date | None, until: date | None) -> bool:
    day = item.registered_at.astimezone(UTC).date()
    return (since is None or day >= since) and (until is None or day < until)


def compute(
    summaries: Iterable[Summary],
    since: date | None = None,
    until: date | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, object]:
    items = [s for s in summaries if in_period(s, since, until)]
    quarters: dict[str, list[Summary]] = {}
    for item in items:
        if item.closed_at is not None and (item.promoted or item.stopped):
            quarters.setdefault(quarter(item.closed_at), []).append(item)
    by_quarter = {}
    for name in sorted(quarters):
        closed = quarters[name]
        promoted = sum(1 for s in closed if s.promoted)
        stopped = len(closed) - promoted
        by_quarter[name] = {
            "promoted": promoted,
            "stopped": stopped,
            "conversion_rate": _rate(promoted, stopped),
            "median_lead_time_days": _median(lead_times(closed)),
        }
    return {
        "generated_at": clock().astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "overall": figures(items),
        "by_team": _grouped(items, lambda s: s.team),
        "by_sandbox": _grouped(items, lambda s: s.sandbox),
        "by_quarter": by_quarter,
        "funnel": {state: sum(1 for s in items if state in s.entered) for state in FUNNEL},
    }


def lead_time_series(summaries: Iterable[Summary], since: date | None, until: date | None):
    """Lead times in days, overall and per team, for the distribution charts."""
    items = [s for s in summaries if in_period(s, since, until)]
    series: dict[str, list[float]] = {"overall": lead_times(items)}
    for item in items:
        if (t := item.lead_time_days) is not None:
            series.setdefault(item.team, []).append(t)
    return series
