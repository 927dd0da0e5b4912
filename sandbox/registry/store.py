"""Experiment records and their lifecycle events in the registry database.

Nothing is updated in place: an experiment row is written once, and every
lifecycle step is a new event with the next sequence number for that
experiment. The (experiment, seq) unique key makes concurrent writers unable
to lose or duplicate a step: a writer that raced another retries.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from .. import audit
from ..errors import InvalidInput, SandboxError
from ..experiments import Event, Experiment, check_name, check_transition, current_state
from .tables import as_utc, events, experiments

Clock = Callable[[], datetime]
RETRIES = 50


class UnknownExperiment(InvalidInput):
    pass


@dataclass(frozen=True)
class ExperimentView:
    experiment: Experiment
    events: tuple[Event, ...]

    @property
    def state(self) -> str:
        return current_state(list(self.events))

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self.experiment)
        data["datasets"] = list(self.experiment.datasets)
        data["registered_at"] = _iso(self.experiment.registered_at)
        data["state"] = self.state
        data["events"] = [{**asdict(e), "at": _iso(e.at)} for e in self.events]
        return data


def utc_now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return as_utc(moment).isoformat().replace("+00:00", "Z")


def retrying(engine: Engine, work: Callable[[Connection], Any]) -> Any:
    """Run ``work`` in one transaction, again if a concurrent writer won a race."""
    for attempt in range(RETRIES):
        try:
            with engine.begin() as connection:
                return work(connection)
        except (IntegrityError, OperationalError) as exc:
            if attempt == RETRIES - 1 or not _is_race(exc):
                raise
    raise SandboxError("registry: too many concurrent conflicts")


def _is_race(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(
        marker in text
        for marker in ("events_experiment_seq", "unique", "locked", "deadlock", "serializ")
    )


def next_id(connection: Connection) -> str:
    ids = connection.execute(select(experiments.c.id).where(experiments.c.id.like("EXP-%")))
    numbers = [int(m.group(1)) for (i,) in ids if (m := re.fullmatch(r"EXP-(\d+)", i))]
    return f"EXP-{max(numbers, default=0) + 1:04d}"


def insert_experiment(connection: Connection, experiment: Experiment) -> None:
    row = asdict(experiment)
    row["datasets"] = list(experiment.datasets)
    row["registered_at"] = as_utc(experiment.registered_at)
    connection.execute(insert(experiments), [row])
    insert_event(
        connection,
        Event(experiment.id, 0, None, "proposed", row["registered_at"], experiment.registered_by),
    )


def insert_event(connection: Connection, event: Event) -> None:
    connection.execute(insert(events), [{**asdict(event), "at": as_utc(event.at)}])


def register(engine: Engine, experiment: Experiment) -> Experiment:
    """Store a new experiment in state ``proposed``; an empty id gets the next EXP-NNNN."""

    check_name("team", experiment.team)
    check_name("sandbox", experiment.sandbox)

    def work(connection: Connection) -> Experiment:
        record = experiment if experiment.id else replace(experiment, id=next_id(connection))
        if _load(connection, record.id) is not None:
            raise InvalidInput(f"experiment {record.id} already exists")
        insert_experiment(connection, record)
        audit.append(
            connection,
            record.registered_by,
            "register",
            record.id,
            {"title": record.title, "team": record.team, "sandbox": record.sandbox},
        )
        return record

    return retrying(engine, work)


def transition(
    engine: Engine,
    experiment_id: str,
    to_state: str,
    actor: str,
    reason: str = "",
    clock: Clock = utc_now,
    allowed: Callable[[Experiment], None] | None = None,
) -> Event:
    """Append the next lifecycle event, or raise ``TransitionRefused``.

    ``allowed`` may refuse on other grounds (e.g. who may move this experiment)."""

    def work(connection: Connection) -> Event:
        view = _load(connection, experiment_id, lock=True)
        if view is None:
            raise UnknownExperiment(f"unknown experiment {experiment_id!r}")
        if allowed:
            allowed(view.experiment)
        check_transition(view.experiment, view.state, to_state)
        event = Event(
            experiment_id, len(view.events), view.state, to_state, as_utc(clock()), actor, reason
        )
        insert_event(connection, event)
        audit.append(
            connection,
            actor,
            "transition",
            experiment_id,
            {"from": event.from_state, "to": to_state, "reason": reason, "seq": event.seq},
            at=event.at,
        )
        return event

    return retrying(engine, work)


def get(engine: Engine, experiment_id: str) -> ExperimentView:
    with engine.connect() as connection:
        view = _load(connection, experiment_id)
    if view is None:
        raise UnknownExperiment(f"unknown experiment {experiment_id!r}")
    return view


def listing(
    engine: Engine,
    sandbox: str | None = None,
    team: str | None = None,
    state: str | None = None,
) -> list[ExperimentView]:
    query = select(experiments).order_by(experiments.c.id)
    if sandbox:
        query = query.where(experiments.c.sandbox == sandbox)
    if team:
        query = query.where(experiments.c.team == team)
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
        by_experiment: dict[str, list[Event]] = {}
        event_rows = connection.execute(
            select(events).order_by(events.c.experiment, events.c.seq)
        ).mappings()
        for row in event_rows:
            by_experiment.setdefault(row["experiment"], []).append(_event(row))
    views = [
        ExperimentView(_experiment(row), tuple(by_experiment.get(row["id"], []))) for row in rows
    ]
    return [v for v in views if state is None or v.state == state]


def _load(connection: Connection, experiment_id: str, lock: bool = False) -> ExperimentView | None:
    query = select(experiments).where(experiments.c.id == experiment_id)
    if lock and connection.dialect.name == "postgresql":
        query = query.with_for_update()
    row = connection.execute(query).mappings().first()
    if row is None:
        return None
    event_rows = connection.execute(
        select(events).where(events.c.experiment == experiment_id).order_by(events.c.seq)
    ).mappings()
    return ExperimentView(_experiment(row), tuple(_event(r) for r in event_rows))


def _experiment(row: Any) -> Experiment:
    data = dict(row)
    data["datasets"] = tuple(data["datasets"])
    data["registered_at"] = as_utc(data["registered_at"])
    return Experiment(**data)


def _event(row: Any) -> Event:
    data = {k: v for k, v in row.items() if k != "id"}
    data["at"] = as_utc(data["at"])
    return Event(**data)


def count_events(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(events)).scalar_one())


def existing_ids(connection: Connection, ids: Iterable[str], chunk: int = 5000) -> set[str]:
    """Which of these ids the registry holds (in chunks: SQLite caps bound parameters)."""
    wanted, found = sorted(set(ids)), set[str]()
    for start in range(0, len(wanted), chunk):
        part = wanted[start : start + chunk]
        query = select(experiments.c.id).where(experiments.c.id.in_(part))
        found.update(i for (i,) in connection.execute(query))
    return found


def write_batch(
    engine: Engine,
    new: list[Experiment],
    new_events: list[Event],
    source: str = "",
    digest: str = "",
) -> None:
    """Write checked records in one transaction: all of them or none."""
    with engine.begin() as connection:
        audit.append(
            connection,
            "import",
            "import",
            source or "batch",
            {"experiments": len(new), "events": len(new_events), "sha256": digest},
        )
        if new:
            # vars(), not asdict(): asdict deep-copies every field (slow at a million rows)
            connection.execute(
                insert(experiments),
                [
                    {
                        **vars(e),
                        "datasets": list(e.datasets),
                        "registered_at": as_utc(e.registered_at),
                    }
                    for e in new
                ],
            )
            connection.execute(
                insert(events),
                [
                    vars(Event(e.id, 0, None, "proposed", as_utc(e.registered_at), e.registered_by))
                    for e in new
                ],
            )
        if new_events:
            connection.execute(
                insert(events), [{**vars(e), "at": as_utc(e.at)} for e in new_events]
            )


def summaries(engine: Engine) -> list[Any]:
    """One report.Summary per experiment, aggregated in SQL (one pass over events)."""
    from sqlalchemy import DateTime, case, type_coerce

    from ..report import FUNNEL, Summary

    def first(state: str) -> Any:
        earliest = func.min(case((events.c.to_state == state, events.c.at)))
        return type_coerce(earliest, DateTime(timezone=True))

    entered = [
        func.max(case((events.c.to_state == state, 1), else_=0)).label(state) for state in FUNNEL
    ]
    query = (
        select(
            experiments.c.id,
            experiments.c.team,
            experiments.c.sandbox,
            experiments.c.registered_at,
            first("in_production").label("first_production"),
            first("stopped").label("stopped_at"),
            *entered,
        )
        .join(events, events.c.experiment == experiments.c.id)
        .group_by(
            experiments.c.id, experiments.c.team, experiments.c.sandbox, experiments.c.registered_at
        )
    )
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    return [
        Summary(
            id=row["id"],
            team=row["team"],
            sandbox=row["sandbox"],
            registered_at=as_utc(row["registered_at"]),
            first_production=_parse(row["first_production"]),
            stopped_at=_parse(row["stopped_at"]),
            entered=frozenset(state for state in FUNNEL if row[state]),
        )
        for row in rows
    ]


def _parse(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)
