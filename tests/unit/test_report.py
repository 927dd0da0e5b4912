"""The report's numbers against hand-computed fixtures (PRODUCT.md section 7)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from sandbox.report import Summary, compute, quarter

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def summary(
    name: str,
    registered: str,
    production: str | None = None,
    stopped: str | None = None,
    team: str = "a",
    sandbox: str = "demo",
    entered: tuple[str, ...] = (),
) -> Summary:
    states = {"proposed", *entered}
    if production:
        states |= {"approved", "exploring", "validated", "in_production"}
    return Summary(
        name,
        team,
        sandbox,
        at(registered),
        at(production) if production else None,
        at(stopped) if stopped else None,
        frozenset(states),
    )


def report(items, **kwargs):
    return compute(items, clock=lambda: NOW, **kwargs)


def test_empty_registry_gives_zeros_and_nulls():
    result = report([])
    assert result["overall"] == {
        "registered": 0,
        "open": 0,
        "promoted": 0,
        "stopped": 0,
        "conversion_rate": None,
        "median_lead_time_days": None,
    }
    assert result["by_team"] == {} and result["by_quarter"] == {}
    assert result["funnel"] == dict.fromkeys(
        ("proposed", "approved", "exploring", "validated", "in_production"), 0
    )
    assert result["generated_at"] == "2026-01-01T00:00:00Z"
    assert (result["since"], result["until"]) == (None, None)


def test_retired_still_counts_as_promoted_and_open_is_excluded_from_the_rate():
    items = [
        # promoted (then retired: still promoted); lead time 10 days
        summary("p1", "2025-01-01", production="2025-01-11"),
        summary("s1", "2025-01-01", stopped="2025-02-01", entered=("approved",)),
        summary("o1", "2025-01-01", entered=("approved", "exploring")),  # open
        summary("o2", "2025-01-02"),  # open
    ]
    overall = report(items)["overall"]
    assert overall == {
        "registered": 4,
        "open": 2,
        "promoted": 1,
        "stopped": 1,
        "conversion_rate": 0.5,
        "median_lead_time_days": 10.0,
    }


def test_a_validated_exploring_validated_loop_counts_once_in_the_funnel():
    loop = summary("l1", "2025-03-01", entered=("approved", "exploring", "validated"))
    funnel = report([loop])["funnel"]
    assert funnel == {
        "proposed": 1,
        "approved": 1,
        "exploring": 1,
        "validated": 1,
        "in_production": 0,
    }


def test_even_count_median_is_the_mean_of_the_middle_two():
    items = [
        summary("a", "2025-01-01", production="2025-01-03"),  # 2 days
        summary("b", "2025-01-01", production="2025-01-05"),  # 4
        summary("c", "2025-01-01", production="2025-01-11"),  # 10
        summary("d", "2025-01-01", production="2025-01-31"),  # 30
    ]
    assert report(items)["overall"]["median_lead_time_days"] == 7.0


def test_lead_time_is_fractional_days():
    item = Summary(
        "x",
        "a",
        "demo",
        at("2025-01-01", 0),
        at("2025-01-02", 18),
        None,
        frozenset({"proposed", "in_production"}),
    )
    assert report([item])["overall"]["median_lead_time_days"] == pytest.approx(1.75)


def test_quarters_use_the_utc_closing_event():
    # 2025-03-31 23:30 at UTC+2 is 21:30 UTC: still Q1; 2025-03-31 23:30 UTC-2 is Q2 in UTC
    plus2 = datetime(2025, 3, 31, 23, 30, tzinfo=timezone(timedelta(hours=2)))
    minus2 = datetime(2025, 3, 31, 23, 30, tzinfo=timezone(timedelta(hours=-2)))
    assert quarter(plus2) == "2025-Q1" and quarter(minus2) == "2025-Q2"
    items = [
        Summary("a", "a", "demo", at("2025-01-01"), plus2, None, frozenset({"in_production"})),
        Summary("b", "a", "demo", at("2025-01-01"), None, minus2, frozenset({"stopped"})),
        summary("c", "2025-01-01"),  # open: in no quarter
    ]
    by_quarter = report(items)["by_quarter"]
    assert list(by_quarter) == ["2025-Q1", "2025-Q2"]
    assert by_quarter["2025-Q1"]["promoted"] == 1 and by_quarter["2025-Q1"]["conversion_rate"] == 1
    assert by_quarter["2025-Q2"] == {
        "promoted": 0,
        "stopped": 1,
        "conversion_rate": 0.0,
        "median_lead_time_days": None,
    }


def test_since_until_are_half_open_on_registered_at():
    items = [
        summary("before", "2024-12-31"),
        summary("first", "2025-01-01"),
        summary("last", "2025-03-31"),
        summary("after", "2025-04-01"),
    ]
    result = report(items, since=date(2025, 1, 1), until=date(2025, 4, 1))
    assert result["overall"]["registered"] == 2
    assert (result["since"], result["until"]) == ("2025-01-01", "2025-04-01")


def test_groups_by_team_and_sandbox():
    items = [
        summary("a", "2025-01-01", production="2025-01-11", team="x", sandbox="s1"),
        summary("b", "2025-01-01", stopped="2025-01-02", team="x", sandbox="s2"),
        summary("c", "2025-01-01", team="y", sandbox="s2"),
    ]
    result = report(items)
    assert result["by_team"]["x"]["conversion_rate"] == 0.5
    assert result["by_team"]["y"]["open"] == 1
    assert result["by_sandbox"]["s2"]["registered"] == 2
    assert list(result["by_team"]) == ["x", "y"]
