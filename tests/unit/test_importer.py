"""``sandbox experiments import``: JSON Lines, all or nothing, against a real SQLite registry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from sandbox.errors import InvalidInput
from sandbox.registry import store
from sandbox.registry.db import open_registry_url
from sandbox.registry.importer import ImportResult, import_file
from sandbox.registry.lifecycle import Event, Experiment
from tests.conftest import copy_registry

T0 = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)


def utc(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2025, 1, day, hour, minute, tzinfo=UTC)


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def exp(experiment_id: str = "EXP-0001", **extra: Any) -> dict[str, Any]:
    """An experiment record with every field PRODUCT.md shows, gate fields filled."""
    record: dict[str, Any] = {
        "type": "experiment",
        "id": experiment_id,
        "title": "WOZ model",
        "team": "belastingen",
        "sandbox": "demo",
        "owner": "alice",
        "purpose": "policy-research",
        "datasets": ["woz-2024"],
        "personal_data": True,
        "registered_at": "2025-01-10T09:00:00Z",
        "human_intervention": "a civil servant reviews every outcome",
        "risks": "bias against older houses",
        "proportionality": "no less intrusive alternative",
        "dpia_reference": "DPIA-2024-07",
    }
    record.update(extra)
    return {k: v for k, v in record.items() if v is not None}


def minimal_exp(experiment_id: str, registered_at: str = "2025-01-10T09:00:00Z") -> dict[str, Any]:
    """Only the required fields: optional ones absent (no gate fields, no personal data)."""
    return {
        "type": "experiment",
        "id": experiment_id,
        "title": "Rivers",
        "team": "leefomgeving",
        "sandbox": "demo",
        "owner": "bob",
        "purpose": "policy-research",
        "registered_at": registered_at,
    }


def tr(experiment: str, to: str, at: datetime | str, actor: str = "carol", **extra: Any):
    record = {
        "type": "transition",
        "experiment": experiment,
        "to": to,
        "at": at if isinstance(at, str) else z(at),
        "actor": actor,
        "reason": f"to {to}",
    }
    record.update(extra)
    return {k: v for k, v in record.items() if v is not None}


def write(path: Path, lines: list[dict[str, Any] | str]) -> Path:
    """One line per item: a dict as JSON, a string verbatim (for blank or broken lines)."""
    text = "\n".join(item if isinstance(item, str) else json.dumps(item) for item in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


@pytest.fixture
def engine(tmp_path: Path, migrated_registry: Path) -> Iterator[Engine]:
    copy_registry(migrated_registry, tmp_path / "r.sqlite")
    engine = open_registry_url(f"sqlite:///{tmp_path}/r.sqlite")
    yield engine
    engine.dispose()


def steps(engine: Engine, experiment_id: str) -> list[tuple[int, str | None, str, datetime, str]]:
    view = store.get(engine, experiment_id)
    return [(e.seq, e.from_state, e.to_state, e.at, e.actor) for e in view.events]


def snapshot(engine: Engine) -> list[dict[str, Any]]:
    return [view.as_dict() for view in store.listing(engine)]


def assert_rejected(path: Path, engine: Engine, line: int, *fragments: str) -> InvalidInput:
    before = snapshot(engine)
    events_before = store.count_events(engine)
    with pytest.raises(InvalidInput) as caught:
        import_file(path, engine)
    error = caught.value
    assert error.exit_code == 2
    message = str(error)
    assert message.startswith(f"{path}:{line}: "), message
    for fragment in fragments:
        assert fragment in message, message
    assert snapshot(engine) == before
    assert store.count_events(engine) == events_before
    return error


# --- a valid file --------------------------------------------------------------------------

VALID = [
    exp("EXP-0001"),
    # registered with a +01:00 offset: 09:00 UTC on the 11th
    minimal_exp("EXP-0002", registered_at="2025-01-11T10:00:00+01:00"),
    "",
    tr("EXP-0001", "approved", utc(12)),
    tr("EXP-0002", "approved", utc(12, 11)),
    tr("EXP-0001", "exploring", utc(13)),
    "   ",
    tr("EXP-0001", "validated", utc(14)),
    tr("EXP-0001", "exploring", utc(15), reason="needs another feature"),
    tr("EXP-0002", "stopped", utc(15, 12), actor="dave"),
    tr("EXP-0001", "validated", utc(16)),
    # +02:00 offset: 10:00 UTC
    tr("EXP-0001", "in_production", "2025-01-17T12:00:00+02:00", actor="erin"),
    "\t",
    tr("EXP-0001", "retired", utc(20)),
]


def test_valid_file_imports_states_and_ordered_events(tmp_path: Path, engine: Engine) -> None:
    result = import_file(write(tmp_path / "in.jsonl", VALID), engine)
    assert result == ImportResult(experiments=2, events=9)

    assert [v.experiment.id for v in store.listing(engine)] == ["EXP-0001", "EXP-0002"]
    first = store.get(engine, "EXP-0001")
    assert first.state == "retired"
    assert steps(engine, "EXP-0001") == [
        (0, None, "proposed", T0, "alice"),
        (1, "proposed", "approved", utc(12), "carol"),
        (2, "approved", "exploring", utc(13), "carol"),
        (3, "exploring", "validated", utc(14), "carol"),
        (4, "validated", "exploring", utc(15), "carol"),
        (5, "exploring", "validated", utc(16), "carol"),
        (6, "validated", "in_production", utc(17), "erin"),
        (7, "in_production", "retired", utc(20), "carol"),
    ]
    assert first.events[4].reason == "needs another feature"
    assert first.events[7].reason == "to retired"
    for event in first.events:
        assert event.at.utcoffset() == timedelta(0)
    record = first.experiment
    assert record.registered_at == T0
    assert record.registered_at.utcoffset() == timedelta(0)
    assert record.registered_by == "alice"
    assert record.datasets == ("woz-2024",)
    assert record.personal_data is True
    assert record.dpia_reference == "DPIA-2024-07"
    assert record.risks == "bias against older houses"

    second = store.get(engine, "EXP-0002")
    assert second.state == "stopped"
    assert steps(engine, "EXP-0002") == [
        (0, None, "proposed", utc(11, 9), "bob"),
        (1, "proposed", "approved", utc(12, 11), "carol"),
        (2, "approved", "stopped", utc(15, 12), "dave"),
    ]
    assert second.experiment.datasets == ()
    assert second.experiment.personal_data is False
    assert second.experiment.human_intervention == ""
    assert second.as_dict()["registered_at"] == "2025-01-11T09:00:00Z"
    assert store.count_events(engine) == 8 + 3


def test_experiment_without_transitions(tmp_path: Path, engine: Engine) -> None:
    result = import_file(write(tmp_path / "in.jsonl", [minimal_exp("EXP-0042")]), engine)
    assert result == ImportResult(1, 0)
    assert store.get(engine, "EXP-0042").state == "proposed"
    assert steps(engine, "EXP-0042") == [(0, None, "proposed", T0, "bob")]


def test_empty_and_blank_only_files_import_nothing(tmp_path: Path, engine: Engine) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    assert import_file(empty, engine) == ImportResult(0, 0)
    blank = write(tmp_path / "blank.jsonl", ["", "  ", "\t"])
    assert import_file(blank, engine) == ImportResult(0, 0)
    assert store.listing(engine) == []


def test_transition_at_registered_at_is_allowed(tmp_path: Path, engine: Engine) -> None:
    lines = [
        exp("EXP-0001"),
        tr("EXP-0001", "approved", T0),
        tr("EXP-0001", "exploring", T0),  # equal to the previous event: allowed too
        tr("EXP-0001", "stopped", "2025-01-10T10:00:00+01:00"),  # the same instant
    ]
    assert import_file(write(tmp_path / "in.jsonl", lines), engine) == ImportResult(1, 3)
    assert steps(engine, "EXP-0001") == [
        (0, None, "proposed", T0, "alice"),
        (1, "proposed", "approved", T0, "carol"),
        (2, "approved", "exploring", T0, "carol"),
        (3, "exploring", "stopped", T0, "carol"),
    ]


def test_promotion_without_personal_data_needs_no_dpia(tmp_path: Path, engine: Engine) -> None:
    lines = [
        exp("EXP-0001", personal_data=False, dpia_reference=None),
        tr("EXP-0001", "approved", utc(11)),
        tr("EXP-0001", "exploring", utc(12)),
        tr("EXP-0001", "validated", utc(13)),
        tr("EXP-0001", "in_production", utc(14)),
    ]
    import_file(write(tmp_path / "in.jsonl", lines), engine)
    assert store.get(engine, "EXP-0001").state == "in_production"


# --- a second file continues the registry --------------------------------------------------


def test_second_file_continues_experiments(tmp_path: Path, engine: Engine) -> None:
    first = [
        exp("EXP-0001"),
        tr("EXP-0001", "approved", utc(12)),
        tr("EXP-0001", "exploring", utc(13)),
        tr("EXP-0001", "validated", utc(14)),
    ]
    import_file(write(tmp_path / "one.jsonl", first), engine)
    second = [
        tr("EXP-0001", "exploring", utc(14)),  # equal to the last registered event: allowed
        tr("EXP-0001", "validated", utc(15)),
        minimal_exp("EXP-0002"),
        tr("EXP-0002", "approved", utc(11)),  # earlier than EXP-0001's events: per experiment
        tr("EXP-0001", "in_production", utc(16)),
    ]
    assert import_file(write(tmp_path / "two.jsonl", second), engine) == ImportResult(1, 4)
    assert steps(engine, "EXP-0001") == [
        (0, None, "proposed", T0, "alice"),
        (1, "proposed", "approved", utc(12), "carol"),
        (2, "approved", "exploring", utc(13), "carol"),
        (3, "exploring", "validated", utc(14), "carol"),
        (4, "validated", "exploring", utc(14), "carol"),
        (5, "exploring", "validated", utc(15), "carol"),
        (6, "validated", "in_production", utc(16), "carol"),
    ]
    assert steps(engine, "EXP-0002") == [
        (0, None, "proposed", T0, "bob"),
        (1, "proposed", "approved", utc(11), "carol"),
    ]


def test_second_file_respects_last_registered_event(tmp_path: Path, engine: Engine) -> None:
    first = [exp("EXP-0001"), tr("EXP-0001", "approved", utc(12)), minimal_exp("EXP-0002")]
    import_file(write(tmp_path / "one.jsonl", first), engine)
    second = [
        minimal_exp("EXP-0003"),
        tr("EXP-0002", "approved", utc(11)),
        tr("EXP-0001", "exploring", utc(12) - timedelta(seconds=1)),
    ]
    assert_rejected(write(tmp_path / "two.jsonl", second), engine, 3, "earlier than")
    assert [v.experiment.id for v in store.listing(engine)] == ["EXP-0001", "EXP-0002"]
    assert store.get(engine, "EXP-0001").state == "approved"
    assert store.get(engine, "EXP-0002").state == "proposed"


def test_file_continues_experiment_registered_through_store(tmp_path: Path, engine: Engine) -> None:
    registered = Experiment(
        id="EXP-0007",
        title="Traffic",
        team="mobiliteit",
        sandbox="demo",
        owner="frank",
        purpose="policy-research",
        registered_at=T0,
        registered_by="frank",
    )
    store.register(engine, registered)
    store.transition(engine, "EXP-0007", "approved", "carol", "go", clock=lambda: utc(12))
    # the stored record has no gate fields: promotion from the file is refused
    refused = [
        tr("EXP-0007", "exploring", utc(13)),
        tr("EXP-0007", "validated", utc(14)),
        tr("EXP-0007", "in_production", utc(15)),
    ]
    assert_rejected(write(tmp_path / "bad.jsonl", refused), engine, 3, "human_intervention")
    lines = [tr("EXP-0007", "exploring", utc(13)), tr("EXP-0007", "stopped", utc(14))]
    assert import_file(write(tmp_path / "ok.jsonl", lines), engine) == ImportResult(0, 2)
    assert [s[:3] for s in steps(engine, "EXP-0007")] == [
        (0, None, "proposed"),
        (1, "proposed", "approved"),
        (2, "approved", "exploring"),
        (3, "exploring", "stopped"),
    ]
    # stopped is final: a later file cannot move it
    later = [tr("EXP-0007", "approved", utc(20))]
    assert_rejected(write(tmp_path / "later.jsonl", later), engine, 1, "stopped -> approved")


def test_duplicate_of_registered_experiment(tmp_path: Path, engine: Engine) -> None:
    import_file(write(tmp_path / "one.jsonl", [exp("EXP-0001")]), engine)
    second: list[dict[str, Any] | str] = [
        minimal_exp("EXP-0002"),
        "",
        exp("EXP-0001", title="again"),
    ]
    assert_rejected(write(tmp_path / "two.jsonl", second), engine, 3, "EXP-0001", "already exists")
    assert [v.experiment.id for v in store.listing(engine)] == ["EXP-0001"]
    assert store.get(engine, "EXP-0001").experiment.title == "WOZ model"


# --- rejections: the whole file, nothing written --------------------------------------------

PREFIX: list[dict[str, Any] | str] = [
    exp("EXP-0001"),
    minimal_exp("EXP-0002"),
    tr("EXP-0001", "approved", utc(12)),
    tr("EXP-0001", "exploring", utc(13)),
    tr("EXP-0001", "validated", utc(14)),
    tr("EXP-0002", "approved", utc(12)),
    tr("EXP-0002", "exploring", utc(13)),
    tr("EXP-0002", "validated", utc(14)),
]


def without(record: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != key}


BAD_LINES: dict[str, tuple[dict[str, Any] | str, tuple[str, ...]]] = {
    "malformed-json": ('{"type": "transition", "experiment": "EXP-0001",', ("malformed JSON",)),
    "not-json-at-all": ("EXP-0001 -> approved", ("malformed JSON",)),
    "json-array": ("[1, 2]", ("must be a JSON object",)),
    "unknown-key-experiment": (exp("EXP-0003", colour="red"), ("colour", "unknown key")),
    "unknown-key-transition": (
        tr("EXP-0001", "exploring", utc(15), by="x"),
        ("by", "unknown key"),
    ),
    "missing-title": (without(exp("EXP-0003"), "title"), ("title",)),
    "missing-registered-at": (without(exp("EXP-0003"), "registered_at"), ("registered_at",)),
    "missing-actor": (without(tr("EXP-0001", "exploring", utc(15)), "actor"), ("actor",)),
    "missing-to": (without(tr("EXP-0001", "exploring", utc(15)), "to"), ("to",)),
    "missing-at": (without(tr("EXP-0001", "exploring", utc(15)), "at"), ("at",)),
    "missing-type": (without(exp("EXP-0003"), "type"), ("type",)),
    "empty-actor": (tr("EXP-0001", "exploring", utc(15), actor=""), ("actor",)),
    "naive-registered-at": (
        exp("EXP-0003", registered_at="2025-01-10T09:00:00"),
        ("registered_at", "timezone"),
    ),
    "naive-at": (tr("EXP-0001", "exploring", "2025-01-15T10:00:00"), ("at", "timezone")),
    "unknown-record-type": (
        {**exp("EXP-0003"), "type": "dataset"},
        ("type", "dataset"),
    ),
    "unknown-experiment": (tr("EXP-0099", "approved", utc(15)), ("unknown experiment", "EXP-0099")),
    "earlier-than-previous": (tr("EXP-0001", "exploring", utc(13)), ("EXP-0001", "earlier than")),
    "earlier-by-offset": (
        # 11:30+02:00 is 09:30 UTC, before the 10:00 UTC event on the 14th
        tr("EXP-0001", "exploring", "2025-01-14T11:30:00+02:00"),
        ("earlier than",),
    ),
    "earlier-than-registered": (
        {**exp("EXP-0003"), "registered_at": z(utc(20))},
        (),
    ),
    "invalid-transition": (tr("EXP-0001", "approved", utc(15)), ("validated -> approved",)),
    "unknown-target-state": (tr("EXP-0001", "production", utc(15)), ("unknown state",)),
    "gate-failure": (
        tr("EXP-0002", "in_production", utc(15)),
        ("in_production", "human_intervention", "risks", "proportionality"),
    ),
    "duplicate-in-file": (minimal_exp("EXP-0001"), ("EXP-0001", "already exists")),
}


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_bad_line_rejects_whole_file(case: str, tmp_path: Path, engine: Engine) -> None:
    bad, fragments = BAD_LINES[case]
    lines = [*PREFIX, bad, tr("EXP-0001", "in_production", utc(20))]
    if case == "earlier-than-registered":
        # a new experiment registered on the 20th, then a transition before that
        lines = [*PREFIX, bad, tr("EXP-0003", "approved", utc(19))]
        line = len(PREFIX) + 2
        fragments = ("EXP-0003", "earlier than")
    else:
        line = len(PREFIX) + 1
    assert_rejected(write(tmp_path / "in.jsonl", lines), engine, line, *fragments)
    assert store.listing(engine) == []
    assert store.count_events(engine) == 0


def test_gate_failure_missing_dpia(tmp_path: Path, engine: Engine) -> None:
    lines = [
        exp("EXP-0001", dpia_reference="  "),
        tr("EXP-0001", "approved", utc(12)),
        tr("EXP-0001", "exploring", utc(13)),
        tr("EXP-0001", "validated", utc(14)),
        tr("EXP-0001", "in_production", utc(15)),
    ]
    error = assert_rejected(write(tmp_path / "in.jsonl", lines), engine, 5, "dpia_reference")
    assert "human_intervention" not in str(error)
    assert store.listing(engine) == []


def test_gate_failure_whitespace_only_field(tmp_path: Path, engine: Engine) -> None:
    lines = [
        exp("EXP-0001", risks=" \t "),
        tr("EXP-0001", "approved", utc(12)),
        tr("EXP-0001", "exploring", utc(13)),
        tr("EXP-0001", "validated", utc(14)),
        tr("EXP-0001", "in_production", utc(15)),
    ]
    assert_rejected(write(tmp_path / "in.jsonl", lines), engine, 5, "missing: risks")


def test_transition_before_its_experiment_line(tmp_path: Path, engine: Engine) -> None:
    lines = [tr("EXP-0001", "approved", utc(12)), exp("EXP-0001")]
    assert_rejected(write(tmp_path / "in.jsonl", lines), engine, 1, "unknown experiment")


def test_line_numbers_count_blank_lines(tmp_path: Path, engine: Engine) -> None:
    lines = ["", exp("EXP-0001"), "   ", "", tr("EXP-0001", "exploring", utc(12))]
    assert_rejected(write(tmp_path / "in.jsonl", lines), engine, 5, "proposed -> exploring")
    assert store.listing(engine) == []


def test_first_error_is_reported(tmp_path: Path, engine: Engine) -> None:
    lines = [
        exp("EXP-0001"),
        tr("EXP-0001", "validated", utc(12)),  # invalid: proposed -> validated
        "{broken",
    ]
    error = assert_rejected(write(tmp_path / "in.jsonl", lines), engine, 3, "malformed JSON")
    # parsing comes first: a syntax error anywhere is reported before lifecycle errors
    assert len(error.problems) == 1


def test_unreadable_file(tmp_path: Path, engine: Engine) -> None:
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(InvalidInput) as caught:
        import_file(missing, engine)
    assert caught.value.exit_code == 2
    assert str(caught.value).startswith(f"{missing}: cannot read")
    assert store.listing(engine) == []


@pytest.mark.parametrize(
    "field, value",
    [("personal_data", '"yes"'), ("registered_at", "1700000000"), ("title", '"   "')],
)
def test_values_are_not_coerced(tmp_path: Path, field: str, value: str):
    record = {
        "type": "experiment",
        "id": "EXP-0001",
        "title": "t",
        "team": "a",
        "sandbox": "demo",
        "owner": "alice",
        "purpose": "p",
        "registered_at": "2025-01-10T09:00:00Z",
    }
    line = json.dumps(record).replace(f'"{field}": {json.dumps(record.get(field))}', "")
    line = line.rstrip("}") + f', "{field}": {value}}}'
    line = line.replace("{, ", "{").replace(", ,", ",")
    path = tmp_path / "in.jsonl"
    path.write_text(line + "\n")
    engine = open_registry_url(f"sqlite:///{tmp_path}/r.sqlite")
    with pytest.raises(InvalidInput, match=rf"in\.jsonl:1: {field}"):
        import_file(path, engine)
    assert store.listing(engine) == []


# --- the fast SQLite insert stores what the SQLAlchemy insert stores -----------------------


def stored(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row as SQLite holds it, with each value's storage class."""
    tables = {
        "experiments": "SELECT rowid, * FROM experiments ORDER BY rowid",
        "events": "SELECT rowid, * FROM events ORDER BY rowid",
        # the entry's own time and hash differ between two runs
        "audit_log": "SELECT seq, actor, kind, subject, details, prev_hash, typeof(at) "
        "FROM audit_log",
    }
    with engine.connect() as connection:
        return {
            name: [
                tuple((value, type(value).__name__) for value in row)
                for row in connection.exec_driver_sql(query)
            ]
            for name, query in tables.items()
        }


def plain_inserts(monkeypatch: pytest.MonkeyPatch) -> None:
    original = store.insert_rows
    monkeypatch.setattr(
        store, "insert_rows", lambda *args, **kwargs: original(*args, **kwargs, fast=False)
    )


def test_fast_insert_stores_the_same_rows_as_sqlalchemy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        *VALID,
        exp("EXP-0003", datasets=["woz-2024", "brp ", "€-data"], title="Ünïcode ✓"),
        minimal_exp("EXP-0004", registered_at="2025-01-10T23:30:00.123456-05:00"),
        tr("EXP-0004", "approved", "2025-01-11T04:30:00.123456Z"),  # the same instant
        tr("EXP-0004", "stopped", "2025-01-12T00:00:00.000001+14:00", reason=""),
        # an amendment's changes (JSON) among the transitions' NULLs
        {
            "type": "amendment",
            "experiment": "EXP-0003",
            "at": z(utc(21)),
            "actor": "carol",
            "reason": "DPIA done",
            "fields": {"risks": "drift", "datasets": ["woz-2024"]},
        },
    ]
    path = write(tmp_path / "in.jsonl", lines)
    fast = open_registry_url(f"sqlite:///{tmp_path}/fast.sqlite")
    plain = open_registry_url(f"sqlite:///{tmp_path}/plain.sqlite")
    import_file(path, fast)
    with monkeypatch.context() as patch:
        plain_inserts(patch)
        import_file(path, plain)
    rows = stored(fast)
    assert rows == stored(plain)
    assert (len(rows["experiments"]), len(rows["events"]), len(rows["audit_log"])) == (4, 16, 1)
    # what the SQLAlchemy DateTime type stores on SQLite: UTC, always with microseconds
    assert rows["events"][-2][6] == ("2025-01-11 10:00:00.000001", "str")
    # changes: NULL on a transition, JSON text on an amendment
    assert rows["events"][-2][-1] == (None, "NoneType")
    assert json.loads(rows["events"][-1][-1][0])["risks"]["to"] == "drift"
    assert store.get(fast, "EXP-0004").as_dict() == store.get(plain, "EXP-0004").as_dict()


def test_fast_insert_converts_any_zone_to_utc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """write_batch takes times in any zone, and naive ones as UTC, on both paths."""
    plus_two = timezone(timedelta(hours=2))
    experiment = Experiment(
        id="EXP-0001",
        title="t",
        team="a",
        sandbox="demo",
        owner="alice",
        purpose="p",
        registered_at=datetime(2025, 1, 10, 11, 0, tzinfo=plus_two),
        registered_by="alice",
        datasets=("x",),
        personal_data=True,
    )
    moments = [
        datetime(2025, 1, 11, 9, 0),  # naive: UTC
        datetime(2025, 1, 11, 11, 0, tzinfo=plus_two),  # the same instant, another zone
        datetime(2025, 1, 12, 9, 0, 0, 5, tzinfo=UTC),
    ]
    states = ["proposed", "approved", "exploring", "validated"]
    events = [
        Event("EXP-0001", seq, states[seq - 1], states[seq], at, "carol", "why")
        for seq, at in enumerate(moments, start=1)
    ]
    fast = open_registry_url(f"sqlite:///{tmp_path}/fast.sqlite")
    plain = open_registry_url(f"sqlite:///{tmp_path}/plain.sqlite")
    store.write_batch(fast, [experiment], events)
    with monkeypatch.context() as patch:
        plain_inserts(patch)
        store.write_batch(plain, [experiment], events)
    rows = stored(fast)
    assert rows == stored(plain)
    assert [row[6][0] for row in rows["events"]] == [
        "2025-01-10 09:00:00.000000",
        "2025-01-11 09:00:00.000000",
        "2025-01-11 09:00:00.000000",
        "2025-01-12 09:00:00.000005",
    ]


def test_a_failing_row_writes_nothing(tmp_path: Path, engine: Engine) -> None:
    """The fast insert runs in the batch's one transaction: a refused row undoes all."""
    import_file(write(tmp_path / "one.jsonl", [exp("EXP-0001")]), engine)
    before = stored(engine)
    second = replace(store.get(engine, "EXP-0001").experiment, id="EXP-0002")
    taken = Event("EXP-0001", 0, None, "proposed", T0, "mallory")  # EXP-0001 has a seq 0
    with pytest.raises(IntegrityError):
        store.write_batch(engine, [second], [taken])
    assert stored(engine) == before


def test_values_are_stripped_and_optional_fields_default(tmp_path: Path, engine: Engine) -> None:
    lines = [
        exp("EXP-0001", title="  WOZ  ", datasets=[" woz-2024 ", "brp"], risks=" bias "),
        {**minimal_exp("EXP-0002"), "team": " leefomgeving "},
        tr("EXP-0001", "approved", utc(12), actor=" carol ", reason=None),
    ]
    import_file(write(tmp_path / "in.jsonl", lines), engine)
    first = store.get(engine, "EXP-0001")
    assert (first.experiment.title, first.experiment.datasets) == ("WOZ", ("woz-2024", "brp"))
    assert first.experiment.risks == "bias"
    assert (first.events[1].actor, first.events[1].reason) == ("carol", "")
    second = store.get(engine, "EXP-0002").experiment
    assert second.team == "leefomgeving"
    assert (second.datasets, second.personal_data, second.description) == ((), False, "")
    assert (second.human_intervention, second.dpia_reference) == ("", "")


def test_batch_columns_are_the_tables_columns() -> None:
    """A column added to a table must be added to what the batch writes."""
    from sandbox.registry.tables import events, experiments

    # every column but the surrogate key, and audit_seq, which the batch adds to each row
    assert [c.name for c in experiments.c if c.name != "audit_seq"] == list(
        store.EXPERIMENT_COLUMNS
    )
    assert [c.name for c in events.c if c.name not in ("id", "audit_seq")] == list(
        store.EVENT_COLUMNS
    )
