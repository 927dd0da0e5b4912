"""``sandbox experiments import FILE``: JSON Lines, all or nothing.

The whole file is checked against the lifecycle first (in memory, continuing
from what the registry already holds); only a file without any error is
written, in one transaction. The first error is reported with its line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from .errors import InvalidInput, Problem, SandboxError
from .experiments import NAME_PATTERN, Event, Experiment, TransitionRefused, check_transition
from .registry import store


class _Line(BaseModel):
    # strict: "yes" is not a boolean and 1700000000 is not a time
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class ExperimentLine(_Line):
    type: Literal["experiment"]
    id: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1)
    team: str = Field(pattern=NAME_PATTERN)
    sandbox: str = Field(pattern=NAME_PATTERN)
    owner: str = Field(min_length=1, max_length=64)
    purpose: str = Field(min_length=1)
    datasets: list[str] = Field(default_factory=list)
    personal_data: bool = False
    registered_at: AwareDatetime
    description: str = ""
    human_intervention: str = ""
    risks: str = ""
    proportionality: str = ""
    dpia_reference: str = ""


class TransitionLine(_Line):
    type: Literal["transition"]
    experiment: str = Field(min_length=1)
    to: str
    at: AwareDatetime
    actor: str = Field(min_length=1, max_length=64)
    reason: str = ""


LINE = TypeAdapter(Annotated[ExperimentLine | TransitionLine, Field(discriminator="type")])


@dataclass
class ImportResult:
    experiments: int
    events: int


@dataclass
class _Track:
    experiment: Experiment
    state: str
    last_at: datetime
    seq: int


def _fail(path: Path, line: int, message: str) -> InvalidInput:
    return InvalidInput([Problem(str(path), line, "", message)])


def parse(path: Path) -> list[tuple[int, ExperimentLine | TransitionLine]]:
    records = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput([Problem(str(path), None, "", f"cannot read: {exc}")]) from None
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            records.append((number, LINE.validate_json(text)))
        except ValidationError as exc:
            first = exc.errors()[0]
            if first["type"] == "json_invalid":
                raise _fail(path, number, f"malformed JSON: {first['ctx']['error']}") from None
            if first["type"] in ("union_tag_not_found", "union_tag_invalid"):
                got = first.get("ctx", {}).get("tag", "")
                shown = f", not {got!r}" if got else ""
                raise _fail(
                    path, number, f"type: must be experiment or transition{shown}"
                ) from None
            if not first["loc"]:
                raise _fail(path, number, "each line must be a JSON object") from None
            key = ".".join(str(p) for p in first["loc"][1:]) or "type"
            message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
            raise _fail(path, number, f"{key}: {message}") from None
    return records


def plan_import(
    path: Path, records: list[tuple[int, ExperimentLine | TransitionLine]], engine: Engine
) -> tuple[list[Experiment], list[Event]]:
    """Check every record in order; return what to write, or raise at the first error."""
    tracks: dict[str, _Track] = {}
    new_experiments: list[Experiment] = []
    new_events: list[Event] = []
    referenced = {r.id if isinstance(r, ExperimentLine) else r.experiment for _, r in records}
    with engine.connect() as connection:
        in_registry = store.existing_ids(connection, referenced)

    def track(experiment_id: str) -> _Track | None:
        if experiment_id not in tracks:
            if experiment_id not in in_registry:
                return None
            try:
                view = store.get(engine, experiment_id)
            except store.UnknownExperiment:
                return None
            last = view.events[-1]
            tracks[experiment_id] = _Track(view.experiment, view.state, last.at, last.seq)
        return tracks[experiment_id]

    for number, record in records:
        if isinstance(record, ExperimentLine):
            if record.id in tracks or track(record.id) is not None:
                raise _fail(path, number, f"experiment {record.id} already exists")
            at = record.registered_at.astimezone(UTC)
            fields = record.model_dump(exclude={"type", "registered_at", "datasets"})
            experiment = Experiment(
                **fields,
                datasets=tuple(record.datasets),
                registered_at=at,
                registered_by=record.owner,
            )
            tracks[record.id] = _Track(experiment, "proposed", at, 0)
            new_experiments.append(experiment)
            continue
        current = track(record.experiment)
        if current is None:
            raise _fail(path, number, f"unknown experiment {record.experiment!r}")
        at = record.at.astimezone(UTC)
        if at < current.last_at:
            raise _fail(
                path,
                number,
                f"{record.experiment}: transition at {at.isoformat()} is earlier than its "
                f"previous event ({current.last_at.isoformat()})",
            )
        try:
            check_transition(current.experiment, current.state, record.to)
        except TransitionRefused as exc:
            raise _fail(path, number, str(exc)) from None
        current.seq += 1
        new_events.append(
            Event(
                record.experiment,
                current.seq,
                current.state,
                record.to,
                at,
                record.actor,
                record.reason,
            )
        )
        current.state, current.last_at = record.to, at
    return new_experiments, new_events


def import_file(path: Path, engine: Engine) -> ImportResult:
    experiments, events = plan_import(path, parse(path), engine)
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        store.write_batch(engine, experiments, events, source=path.name, digest=digest)
    except IntegrityError:
        raise SandboxError(
            f"{path}: the registry changed while importing; nothing was imported, run it again"
        ) from None
    return ImportResult(len(experiments), len(events))
