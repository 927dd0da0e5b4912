"""The manager report (PRODUCT.md section 7) as one pure function.

Input is one summary per experiment (from ``store.summaries``: what the event
log says about it); output is the contract's JSON. Every output format and
the dashboard render this result.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime

from ..registry.lifecycle import FUNNEL, Summary


def quarter(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return f"{utc.year}-Q{(utc.month - 1) // 3 + 1}"


def _rate(promoted: int, stopped: int) -> float | None:
    return promoted / (promoted + stopped) if promoted + stopped else None


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


class _Tally:
    """One group's counts."""

    __slots__ = ("leads", "promoted", "registered", "stopped")

    def __init__(self) -> None:
        self.registered = self.promoted = self.stopped = 0
        self.leads: list[float] = []  # lead times of the promoted ones

    def add(self, leads: list[float | None], closed: bool) -> None:
        """Experiments alike but for their lead time (None: not promoted);
        ``closed``: those not promoted were stopped (else they are open)."""
        promoted = [lead for lead in leads if lead is not None]
        self.registered += len(leads)
        self.promoted += len(promoted)
        self.leads += promoted
        if closed:
            self.stopped += len(leads) - len(promoted)

    def figures(self) -> dict[str, object]:
        return {
            "registered": self.registered,
            "open": self.registered - self.promoted - self.stopped,
            "promoted": self.promoted,
            "stopped": self.stopped,
            "conversion_rate": _rate(self.promoted, self.stopped),
            "median_lead_time_days": _median(self.leads),
        }

    def closed(self) -> dict[str, object]:
        return {
            "promoted": self.promoted,
            "stopped": self.stopped,
            "conversion_rate": _rate(self.promoted, self.stopped),
            "median_lead_time_days": _median(self.leads),
        }


# What the report tells apart: team, sandbox, closing month (UTC year and month;
# None: open) and the states entered.
_Kind = tuple[str, str, tuple[int, int] | None, frozenset[str]]


def _by_kind(items: Iterable[Summary]) -> dict[_Kind, list[float | None]]:
    """The one pass over the experiments: their lead times (None where not
    promoted) per kind. A large registry has few kinds, so every group's
    figures then come from a few hundred lists rather than from the items."""
    kinds: dict[_Kind, list[float | None]] = {}
    for item in items:
        lead = item.lead_time_days
        closed = item.first_production if lead is not None else item.stopped_at
        month = None
        if closed is not None:
            utc = closed.astimezone(UTC)
            month = (utc.year, utc.month)
        kind = (item.team, item.sandbox, month, item.entered)
        leads = kinds.get(kind)
        if leads is None:
            leads = kinds[kind] = []
        leads.append(lead)
    return kinds


def _tally(groups: dict[str, _Tally], name: str) -> _Tally:
    if name not in groups:
        groups[name] = _Tally()
    return groups[name]


def figures(items: list[Summary]) -> dict[str, object]:
    tally = _Tally()
    for (_, _, closed, _), leads in _by_kind(items).items():
        tally.add(leads, closed is not None)
    return tally.figures()


def lead_times(items: Iterable[Summary]) -> list[float]:
    return [t for s in items if (t := s.lead_time_days) is not None]


def in_period(item: Summary, since: date | None, until: date | None) -> bool:
    day = item.registered_at.astimezone(UTC).date()
    return (since is None or day >= since) and (until is None or day < until)


def compute(
    summaries: Iterable[Summary],
    since: date | None = None,
    until: date | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, object]:
    if since is None and until is None:
        items: Iterable[Summary] = summaries
    else:
        items = (s for s in summaries if in_period(s, since, until))
    overall = _Tally()
    teams: dict[str, _Tally] = {}
    sandboxes: dict[str, _Tally] = {}
    quarters: dict[str, _Tally] = {}
    funnel = dict.fromkeys(FUNNEL, 0)
    for (team, sandbox, closed, entered), leads in _by_kind(items).items():
        for tally in (overall, _tally(teams, team), _tally(sandboxes, sandbox)):
            tally.add(leads, closed is not None)
        if closed is not None:  # promoted or stopped, in the quarter it happened
            _tally(quarters, quarter(datetime(*closed, 1, tzinfo=UTC))).add(leads, True)
        for state in entered & funnel.keys():
            funnel[state] += len(leads)
    return {
        "generated_at": clock().astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "overall": overall.figures(),
        "by_team": {name: teams[name].figures() for name in sorted(teams)},
        "by_sandbox": {name: sandboxes[name].figures() for name in sorted(sandboxes)},
        "by_quarter": {name: quarters[name].closed() for name in sorted(quarters)},
        "funnel": funnel,
    }


def lead_time_series(summaries: Iterable[Summary], since: date | None, until: date | None):
    """Lead times in days, overall and per team, for the distribution charts."""
    items = [s for s in summaries if in_period(s, since, until)]
    series: dict[str, list[float]] = {"overall": lead_times(items)}
    for item in items:
        if (t := item.lead_time_days) is not None:
            series.setdefault(item.team, []).append(t)
    return series
