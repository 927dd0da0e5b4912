"""The registry on SQLite and on a real PostgreSQL: the same tests for both."""

from __future__ import annotations

import itertools
import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from sandbox.errors import InvalidInput
from sandbox.registry import access_log, store
from sandbox.registry.db import open_registry_url
from sandbox.registry.importer import import_file
from sandbox.registry.lifecycle import Experiment, TransitionRefused

WRITERS = 8
TRANSITIONS_EACH = 200
T0 = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)


def experiment(experiment_id: str = "", **extra) -> Experiment:
    fields = {
        "title": "WOZ-model",
        "team": "belastingen",
        "sandbox": "demo",
        "owner": "alice",
        "purpose": "policy-research",
        "registered_at": T0,
        "registered_by": "alice",
        "datasets": ("woz-2024",),
        "personal_data": True,
        **extra,
    }
    return Experiment(id=experiment_id, **fields)


def test_register_transition_and_read_back(registry_url: str):
    engine = open_registry_url(registry_url)
    first = store.register(engine, experiment())
    second = store.register(engine, experiment(team="leefomgeving"))
    assert (first.id, second.id) == ("EXP-0001", "EXP-0002")
    ticks = iter(T0 + timedelta(days=d) for d in range(1, 10))
    for state in ("approved", "exploring", "validated", "exploring", "validated"):
        store.transition(engine, first.id, state, "carol", f"to {state}", clock=lambda: next(ticks))
    view = store.get(engine, first.id)
    assert view.state == "validated"
    assert [e.seq for e in view.events] == list(range(6))
    assert view.events[1].at == T0 + timedelta(days=1)
    assert view.events[1].at.tzinfo is not None
    assert [v.experiment.id for v in store.listing(engine, team="leefomgeving")] == ["EXP-0002"]
    assert [v.experiment.id for v in store.listing(engine, state="validated")] == ["EXP-0001"]
    with pytest.raises(TransitionRefused, match="missing: human_intervention, risks"):
        store.transition(engine, first.id, "in_production", "carol", "ready")
    assert store.get(engine, first.id).state == "validated"  # refused: nothing written
    with pytest.raises(InvalidInput, match="unknown experiment 'EXP-9999'"):
        store.transition(engine, "EXP-9999", "approved", "carol")


def test_database_refuses_updates_and_deletes(registry_url: str):
    engine = open_registry_url(registry_url)
    store.register(engine, experiment())
    access_log.record(
        engine,
        [access_log.AccessEntry("t", T0, "alice", "demo", "woz", "1", "ab", "p", "lb", "granted")],
    )
    for statement in (
        "UPDATE events SET actor = 'mallory'",
        "DELETE FROM events",
        "UPDATE experiments SET title = 'x'",
        "DELETE FROM experiments",
        "UPDATE access_log SET decision = 'refused'",
        "DELETE FROM access_log",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    assert len(store.get(engine, "EXP-0001").events) == 1
    assert access_log.entries(engine)[0].decision == "granted"


def test_import_is_all_or_nothing(registry_url: str, tmp_path: Path):
    engine = open_registry_url(registry_url)
    good = tmp_path / "good.jsonl"
    good.write_text(
        '{"type": "experiment", "id": "EXP-0100", "title": "t", "team": "a", "sandbox": "demo",'
        ' "owner": "alice", "purpose": "p", "registered_at": "2025-01-10T09:00:00Z"}\n'
        '{"type": "transition", "experiment": "EXP-0100", "to": "approved",'
        ' "at": "2025-01-12T10:00:00Z", "actor": "carol"}\n'
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        good.read_text().replace("EXP-0100", "EXP-0200")
        + '{"type": "transition", "experiment": "EXP-0200", "to": "retired",'
        ' "at": "2025-01-13T10:00:00Z", "actor": "carol"}\n'
    )
    with pytest.raises(InvalidInput, match=r"bad\.jsonl:3: .*approved -> retired"):
        import_file(bad, engine)
    assert store.listing(engine) == []
    result = import_file(good, engine)
    assert (result.experiments, result.events) == (1, 1)
    assert store.get(engine, "EXP-0100").state == "approved"


def _writer(url: str, index: int, transitions: int) -> str:
    engine = open_registry_url(url)
    created = store.register(engine, experiment(f"CONC-{index}", owner=f"writer{index}"))
    steps = ["approved", "exploring"]
    while len(steps) < transitions:
        steps.append("validated" if steps[-1] == "exploring" else "exploring")
    for state in steps:
        store.transition(engine, created.id, state, f"writer{index}", f"to {state}")
    engine.dispose()
    return created.id


def test_concurrent_writers_lose_and_duplicate_nothing(registry_url: str):
    open_registry_url(registry_url).dispose()  # schema first, once
    context = multiprocessing.get_context("spawn")
    with context.Pool(WRITERS) as pool:
        ids = pool.starmap(_writer, [(registry_url, i, TRANSITIONS_EACH) for i in range(WRITERS)])
    engine = open_registry_url(registry_url)
    assert store.count_events(engine) == WRITERS * (TRANSITIONS_EACH + 1)
    for experiment_id in ids:
        events = store.get(engine, experiment_id).events
        assert [e.seq for e in events] == list(range(TRANSITIONS_EACH + 1))
        assert all(e.from_state == prev.to_state for prev, e in itertools.pairwise(events))
