"""Experiment records and their lifecycle events in the registry database.

Nothing is updated in place: an experiment row is written once, and every
lifecycle step is a new event with the next sequence number for that
experiment. The (experiment, seq) unique key makes concurrent writers unable
to lose or duplicate a step: a writer that raced another retries.

An amendment is an event too (its ``changes`` say field -> from/to). What is
read here (a view, a listing, the report's summaries) is the experiment as
its amendments left it: the registered row with each amendment's new values
applied in event order (``lifecycle.latest_values``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, Table, func, insert, select

from ..errors import InvalidInput
from . import audit, coverage
from .coverage import SEQ
from .db import retrying
from .lifecycle import (
    CLI,
    FUNNEL,
    Event,
    Experiment,
    Summary,
    amend,
    check_choices,
    check_name,
    check_transition,
    current_state,
    latest_values,
)
from .tables import as_utc, events, experiments

Clock = Callable[[], datetime]


class UnknownExperiment(InvalidInput):
    pass


@dataclass(frozen=True)
class ExperimentView:
    experiment: Experiment  # as its amendments left it
    events: tuple[Event, ...]

    @property
    def state(self) -> str:
        return current_state(list(self.events))

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self.experiment)
        data["datasets"] = list(self.experiment.datasets)
        data["registered_at"] = _iso(self.experiment.registered_at)
        data["state"] = self.state
        data["events"] = [{**e.as_dict(), "at": _iso(e.at)} for e in self.events]
        return data


def utc_now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return as_utc(moment).isoformat().replace("+00:00", "Z")


def next_id(connection: Connection) -> str:
    ids = connection.execute(select(experiments.c.id).where(experiments.c.id.like("EXP-%")))
    numbers = [int(m.group(1)) for (i,) in ids if (m := re.fullmatch(r"EXP-(\d+)", i))]
    return f"EXP-{max(numbers, default=0) + 1:04d}"


def experiment_row(experiment: Experiment) -> dict[str, Any]:
    row = dict(zip(EXPERIMENT_COLUMNS, EXPERIMENT_VALUES(experiment), strict=True))
    row["registered_at"] = as_utc(experiment.registered_at)
    return row


def event_row(event: Event) -> dict[str, Any]:
    return {**asdict(event), "at": as_utc(event.at)}


def register(engine: Engine, experiment: Experiment) -> Experiment:
    """Store a new experiment in state ``proposed``; an empty id gets the next EXP-NNNN."""

    check_name("team", experiment.team)
    check_name("sandbox", experiment.sandbox)
    check_choices(experiment)

    def work(connection: Connection) -> Experiment:
        record = experiment if experiment.id else replace(experiment, id=next_id(connection))
        if _load(connection, record.id) is not None:
            raise InvalidInput(f"experiment {record.id} already exists")
        at = as_utc(record.registered_at)
        proposed = Event(record.id, 0, None, "proposed", at, record.registered_by)
        audit.append(
            connection,
            record.registered_by,
            "register",
            record.id,
            {"title": record.title, "team": record.team, "sandbox": record.sandbox},
            rows={experiments: [experiment_row(record)], events: [event_row(proposed)]},
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
    """Append the next lifecycle event, or raise ``TransitionRefused`` (or
    ``ReasonRequired``: approved, stopped and in_production need a reason).

    ``allowed`` may refuse on other grounds (e.g. who may move this experiment)."""

    def work(connection: Connection) -> Event:
        view = _load(connection, experiment_id, lock=True)
        if view is None:
            raise UnknownExperiment(f"unknown experiment {experiment_id!r}")
        if allowed:
            allowed(view.experiment)
        check_transition(view.experiment, view.state, to_state, reason)
        event = Event(
            experiment_id, len(view.events), view.state, to_state, as_utc(clock()), actor, reason
        )
        audit.append(
            connection,
            actor,
            "transition",
            experiment_id,
            {"from": event.from_state, "to": to_state, "reason": reason, "seq": event.seq},
            at=event.at,
            rows={events: [event_row(event)]},
        )
        return event

    return retrying(engine, work)


def amend_experiment(
    engine: Engine,
    experiment_id: str,
    values: dict[str, Any],
    actor: str,
    reason: str = "",
    given_by: str = CLI,
    clock: Clock = utc_now,
    allowed: Callable[[Experiment, dict[str, Any]], None] | None = None,
) -> Event:
    """Append an amendment: an event in the experiment's current state whose
    ``changes`` record each field's old and new value; or raise
    ``AmendmentRefused`` (``lifecycle.amend``). ``allowed`` may refuse the
    experiment as the amendment would leave it, given its changes (e.g. names
    the configuration does not know)."""

    def work(connection: Connection) -> Event:
        view = _load(connection, experiment_id, lock=True)
        if view is None:
            raise UnknownExperiment(f"unknown experiment {experiment_id!r}")
        amended, changes = amend(view.experiment, view.state, values, given_by)
        if allowed:
            allowed(amended, changes)
        state = view.state
        event = Event(
            experiment_id, len(view.events), state, state, as_utc(clock()), actor, reason, changes
        )
        audit.append(
            connection,
            actor,
            "amend",
            experiment_id,
            {"changes": changes, "reason": reason, "seq": event.seq},
            at=event.at,
            rows={events: [event_row(event)]},
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
    # filtered here, not in SQL: an amendment may have moved an experiment
    # to another team or sandbox
    query = select(experiments).order_by(experiments.c.id)
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
        by_experiment: dict[str, list[Event]] = {}
        event_rows = connection.execute(
            select(events).order_by(events.c.experiment, events.c.seq)
        ).mappings()
        for row in event_rows:
            by_experiment.setdefault(row["experiment"], []).append(_event(row))
    views = [_view(_experiment(row), by_experiment.get(row["id"], [])) for row in rows]
    return [
        v
        for v in views
        if (state is None or v.state == state)
        and (not sandbox or v.experiment.sandbox == sandbox)
        and (not team or v.experiment.team == team)
    ]


def _view(experiment: Experiment, history: list[Event]) -> ExperimentView:
    return ExperimentView(latest_values(experiment, history), tuple(history))


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
    return _view(_experiment(row), [_event(r) for r in event_rows])


def _experiment(row: Any) -> Experiment:
    data = {name: row[name] for name in EXPERIMENT_COLUMNS}
    data["datasets"] = tuple(data["datasets"])
    data["registered_at"] = as_utc(data["registered_at"])
    return Experiment(**data)


def _event(row: Any) -> Event:
    data = {name: row[name] for name in EVENT_COLUMNS}
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
    """Write checked records in one transaction: all of them or none, bound to
    one chain entry that records their digests."""
    with engine.begin() as connection:
        seq, prev = audit.next_entry(connection)
        # experiments in key order, events as written: the order verify reads them
        experiment_rows = sorted(map(EXPERIMENT_VALUES, new), key=itemgetter(0))
        proposed = (
            (e.id, 0, None, "proposed", e.registered_at, e.registered_by, "", None) for e in new
        )
        steps = (
            (e.experiment, e.seq, e.from_state, e.to_state, e.at, e.actor, e.reason, e.changes)
            for e in new_events
        )
        event_rows = [*proposed, *steps]
        covered = {}
        for table, columns, rows in (
            (experiments, EXPERIMENT_COLUMNS, experiment_rows),
            (events, EVENT_COLUMNS, event_rows),
        ):
            stored = insert_rows(connection, table, columns, rows, constants={SEQ: seq})
            covered[table.name] = (
                coverage.cover(seq, table, rows)
                if stored is None
                else coverage.cover_stored(table, stored)  # already in canonical form
            )
        audit.write_entry(
            connection,
            seq,
            prev,
            "import",
            "import",
            source or "batch",
            {
                "experiments": len(new),
                "events": len(new_events),
                "sha256": digest,
                "rows": covered,
            },
        )


# the columns a row says (coverage.content_columns), in table order
EVENT_COLUMNS = tuple(coverage.content_columns(events))
EXPERIMENT_COLUMNS = tuple(coverage.content_columns(experiments))
EXPERIMENT_VALUES = attrgetter(*EXPERIMENT_COLUMNS)  # an Experiment's, in that order


def insert_rows(
    connection: Connection,
    table: Table,
    columns: tuple[str, ...],
    rows: Iterable[tuple[Any, ...]],
    fast: bool = True,
    constants: dict[str, Any] | None = None,
) -> list[tuple[Any, ...]] | None:
    """Insert many rows: values in ``columns`` order, times in any zone (stored in
    UTC), and the same value for every row in the ``constants`` columns (last).

    On SQLite the rows go straight to the driver's ``executemany``, each value
    put through the bind processor of its column type first: the very function
    SQLAlchemy applies, so the stored text is the same, without SQLAlchemy's
    per-row parameter handling (seconds at a million rows); those stored rows
    are returned. Elsewhere, or with ``fast=False``, an ordinary SQLAlchemy
    insert (and None)."""
    dialect = connection.dialect
    times = [isinstance(table.c[name].type, DateTime) for name in columns]
    fixed = constants or {}
    if not (fast and dialect.paramstyle == "qmark"):
        batch = [
            {
                **{
                    name: as_utc(value) if is_time else value
                    for name, is_time, value in zip(columns, times, row, strict=True)
                },
                **fixed,
            }
            for row in rows
        ]
        if batch:
            connection.execute(insert(table), batch)
        return None
    # column by column: one map() over each column that needs converting
    values = list(zip(*rows, strict=True)) or [() for _ in columns]
    values += [(value,) * len(values[0]) for value in fixed.values()]
    columns = (*columns, *fixed)
    times += [False] * len(fixed)
    for i, name in enumerate(columns):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if times[i]:
            values[i] = tuple(map(_utc_text(process), values[i]))
        elif process is not None and process(None) is None:
            # NULL stays NULL: convert only the rest (an import's transitions
            # have no amendment changes: a million calls saved)
            values[i] = tuple(value if value is None else process(value) for value in values[i])
        elif process is not None:
            values[i] = tuple(map(process, values[i]))
    prepared = list(zip(*values, strict=True))
    if prepared:
        quote = dialect.identifier_preparer.quote
        connection.exec_driver_sql(
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})",
            prepared,
        )
    return prepared


def _utc_text(process: Callable[[Any], Any] | None) -> Callable[[datetime], Any]:
    """as_utc, then the column's processor; remembered per instant (imports
    repeat their timestamps, and formatting one costs a microsecond)."""
    done: dict[datetime, Any] = {}

    def convert(moment: datetime) -> Any:
        value = done.get(moment)
        if value is None:
            utc = as_utc(moment)
            value = done[moment] = process(utc) if process else utc
        return value

    return convert


def summaries(engine: Engine) -> list[Any]:
    """One Summary per experiment (in id order), aggregated in SQL.

    One pass over the events grouped by experiment: the first production and
    stop times, and the states entered as one string per experiment (a handful
    of distinct strings, each turned into a set once) rather than a flag column
    per state. Times come back as the driver gives them (text on SQLite, parsed
    here in one C call each; SQLAlchemy's own DateTime handling is what made a
    large report slow) and are UTC datetimes in the result."""
    from sqlalchemy import String, type_coerce

    def first(state: str) -> Any:
        return type_coerce(func.min(events.c.at).filter(events.c.to_state == state), String)

    per_experiment = (
        select(
            events.c.experiment,
            first("in_production").label("first_production"),
            first("stopped").label("stopped_at"),
            func.aggregate_strings(events.c.to_state, ",").label("states"),
        )
        .group_by(events.c.experiment)
        .subquery()
    )
    query = select(
        experiments.c.id,
        experiments.c.team,
        experiments.c.sandbox,
        type_coerce(experiments.c.registered_at, String),
        per_experiment.c.first_production,
        per_experiment.c.stopped_at,
        per_experiment.c.states,
    ).join(per_experiment, per_experiment.c.experiment == experiments.c.id)
    funnel = frozenset(FUNNEL)
    entered: dict[str, frozenset[str]] = {}
    with engine.connect() as connection:
        # by id: sorting here what comes nearly sorted is cheaper than ORDER BY
        rows = sorted(connection.execute(query).all(), key=itemgetter(0))
        moved = _amended_groups(connection)
    result = []
    for id_, team, sandbox, registered_at, first_production, stopped_at, states in rows:
        if states not in entered:
            entered[states] = funnel.intersection(states.split(","))
        if id_ in moved:
            team = moved[id_].get("team", team)
            sandbox = moved[id_].get("sandbox", sandbox)
        result.append(
            Summary(
                id=id_,
                team=team,
                sandbox=sandbox,
                registered_at=_utc(registered_at),
                first_production=None if first_production is None else _utc(first_production),
                stopped_at=None if stopped_at is None else _utc(stopped_at),
                entered=entered[states],
            )
        )
    return result


def _amended_groups(connection: Connection) -> dict[str, dict[str, str]]:
    """Experiment id -> the team and sandbox its amendments moved it to (the
    report groups by them)."""
    query = (
        select(events.c.experiment, events.c.changes)
        .where(events.c.changes.is_not(None))
        .order_by(events.c.experiment, events.c.seq)
    )
    moved: dict[str, dict[str, str]] = {}
    for experiment, changes in connection.execute(query):
        latest = {k: changes[k]["to"] for k in ("team", "sandbox") if k in changes}
        if latest:
            moved.setdefault(experiment, {}).update(latest)
    return moved


def _utc(value: datetime | str) -> datetime:
    """A time from the driver as an aware UTC datetime: SQLite gives the text
    SQLAlchemy's DateTime wrote (UTC, no zone), PostgreSQL a datetime."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:  # not zone-less text: read it as SQLAlchemy does
            value = datetime.fromisoformat(value)
    return as_utc(value)
