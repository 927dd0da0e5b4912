"""The report's numbers against hand-computed fixtures (PRODUCT.md section 7)."""

from __future__ import annotations

import json
import random
import statistics
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from sandbox.registry import store
from sandbox.registry.db import open_registry_url
from sandbox.registry.importer import import_file
from sandbox.reporting.report import FUNNEL, Summary, compute, quarter

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


# --- the one-pass computation equals the definitions, item by item --------------------------


def reference(items: list[Summary], since=None, until=None) -> dict:
    """PRODUCT.md section 7 written out plainly, one group at a time."""
    items = [
        s
        for s in items
        if (since is None or s.registered_at.astimezone(UTC).date() >= since)
        and (until is None or s.registered_at.astimezone(UTC).date() < until)
    ]

    def block(group: list[Summary], keys=None) -> dict:
        promoted = [s for s in group if s.first_production is not None]
        stopped = [s for s in group if s.stopped_at is not None and s.first_production is None]
        leads = [(s.first_production - s.registered_at).total_seconds() / 86_400 for s in promoted]
        figures = {
            "registered": len(group),
            "open": len(group) - len(promoted) - len(stopped),
            "promoted": len(promoted),
            "stopped": len(stopped),
            "conversion_rate": len(promoted) / (len(promoted) + len(stopped))
            if promoted or stopped
            else None,
            "median_lead_time_days": statistics.median(leads) if leads else None,
        }
        return {k: figures[k] for k in keys or figures}

    def by(key) -> dict:
        return {
            k: block([s for s in items if key(s) == k]) for k in sorted({key(s) for s in items})
        }

    closed = [s for s in items if s.first_production or s.stopped_at]
    return {
        "generated_at": "2026-01-01T00:00:00Z",
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "overall": block(items),
        "by_team": by(lambda s: s.team),
        "by_sandbox": by(lambda s: s.sandbox),
        "by_quarter": {
            name: block(
                [s for s in closed if quarter(s.first_production or s.stopped_at) == name],
                ("promoted", "stopped", "conversion_rate", "median_lead_time_days"),
            )
            for name in sorted({quarter(s.first_production or s.stopped_at) for s in closed})
        },
        "funnel": {
            state: sum(state in s.entered for s in items)
            for state in ("proposed", "approved", "exploring", "validated", "in_production")
        },
    }


def random_summaries(rng: random.Random, count: int) -> list[Summary]:
    zones = [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]
    states = ["proposed", "approved", "exploring", "validated", "in_production", "stopped"]

    def moment(after: datetime) -> datetime:
        step = timedelta(seconds=rng.randrange(0, 120 * 86_400), microseconds=rng.randrange(10))
        return (after + step).astimezone(rng.choice(zones))

    items = []
    for number in range(count):
        registered = moment(datetime(2024, 1, 1, tzinfo=UTC))
        draw = rng.random()
        production = moment(registered) if draw < 0.4 else None
        stopped = moment(registered) if 0.3 < draw < 0.7 else None
        if draw > 0.95:
            production = registered  # a lead time of zero
        entered = frozenset(rng.sample(states, rng.randrange(0, len(states))))
        team, sandbox = rng.choice("abc"), rng.choice(["s1", "s2"])
        items.append(Summary(f"E{number}", team, sandbox, registered, production, stopped, entered))
    return items


@pytest.mark.parametrize("seed", range(40))
def test_one_pass_equals_the_definitions(seed: int):
    rng = random.Random(seed)
    items = random_summaries(rng, rng.choice([0, 1, 5, 50, 400]))
    periods = [(None, None), (date(2024, 3, 1), None), (None, date(2024, 6, 1))]
    for since, until in [*periods, (date(2024, 2, 1), date(2024, 5, 1))]:
        # byte for byte, as the JSON output: same keys, order, counts and floats
        assert json.dumps(report(iter(items), since=since, until=until)) == json.dumps(
            reference(items, since, until)
        )


# --- store.summaries: what the event log says, read back fast -------------------------------


def from_event_log(engine) -> list[Summary]:
    """The summaries derived one experiment at a time from the full event log."""
    summaries = []
    for view in store.listing(engine):
        if not view.events:
            continue
        times = {state: [e.at for e in view.events if e.to_state == state] for state in FUNNEL}
        stops = [e.at for e in view.events if e.to_state == "stopped"]
        record = view.experiment
        summaries.append(
            Summary(
                record.id,
                record.team,
                record.sandbox,
                record.registered_at,
                min(times["in_production"], default=None),
                min(stops, default=None),
                frozenset(state for state in FUNNEL if times[state]),
            )
        )
    return summaries


def assert_same_summaries(actual: list[Summary], wanted: list[Summary]) -> None:
    assert actual == wanted  # in id order
    for got, want in zip(actual, wanted, strict=True):
        for name in ("registered_at", "first_production", "stopped_at"):
            moment = getattr(got, name)
            assert moment is None or moment.tzinfo is UTC, (got, name)
            assert repr(moment) == repr(getattr(want, name))


def test_summaries_equal_the_event_log(tmp_path: Path):
    rng = random.Random(3)
    paths = [
        ["approved", "exploring", "validated", "in_production", "retired"],
        ["approved", "exploring", "validated", "exploring", "validated", "in_production"],
        ["approved", "stopped"],
        ["stopped"],
        ["approved", "exploring"],
        [],
    ]
    zones = [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]
    lines = []
    for number in range(300):
        experiment_id = f"GEN-{rng.randrange(10**6):06d}-{number}"  # ids not in file order
        registered = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(10**6))
        lines.append(
            {
                "type": "experiment",
                "id": experiment_id,
                "title": "t",
                "team": rng.choice(["a", "b"]),
                "sandbox": rng.choice(["s1", "s2"]),
                "owner": "alice",
                "purpose": "p",
                "registered_at": registered.astimezone(rng.choice(zones)).isoformat(),
                "human_intervention": "h",
                "risks": "r",
                "proportionality": "p",
            }
        )
        moment = registered
        for state in rng.choice(paths):
            moment += timedelta(seconds=rng.randrange(0, 10**6), microseconds=rng.randrange(2))
            lines.append(
                {
                    "type": "transition",
                    "experiment": experiment_id,
                    "to": state,
                    "at": moment.astimezone(rng.choice(zones)).isoformat(),
                    "actor": "carol",
                }
            )
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    engine = open_registry_url(f"sqlite:///{tmp_path / 'r.sqlite'}")
    import_file(path, engine)
    summaries = store.summaries(engine)
    assert len(summaries) == 300
    assert_same_summaries(summaries, from_event_log(engine))


def test_summaries_read_times_stored_in_other_shapes(tmp_path: Path):
    """Text SQLAlchemy did not write (another zone, no fraction, a T) reads as before."""
    engine = open_registry_url(f"sqlite:///{tmp_path / 'r.sqlite'}")
    shapes = [
        ("2025-01-10 11:00:00+02:00", "proposed"),
        ("2025-01-11T09:00:00", "approved"),
        ("2025-01-12 09:00:00", "exploring"),
        ("2025-01-13 09:00:00.5", "validated"),
        ("2025-01-14 10:00:00.000001+01:00", "in_production"),
    ]
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO experiments (id, title, team, sandbox, owner, purpose, datasets, "
            "personal_data, registered_at, registered_by, dataset_versions) "
            "VALUES ('X', 't', 'a', 's', 'o', 'p', '[]', 0, '2025-01-10T08:00:00Z', 'o', '{}')"
        )
        for seq, (at, state) in enumerate(shapes):
            connection.exec_driver_sql(
                "INSERT INTO events (experiment, seq, to_state, at, actor) VALUES (?, ?, ?, ?, ?)",
                ("X", seq, state, at, "c"),
            )
    (summary,) = store.summaries(engine)
    assert_same_summaries([summary], from_event_log(engine))
    assert summary.first_production == datetime(2025, 1, 14, 9, 0, 0, 1, tzinfo=UTC)
    assert summary.registered_at == datetime(2025, 1, 10, 8, tzinfo=UTC)
