"""``sandbox experiments import FILE``: JSON Lines, all or nothing.

The whole file is checked against the lifecycle first (in memory, continuing
from what the registry already holds); only a file without any error is
written, in one transaction. The first error is reported with its line.
Three line types: an experiment, a transition, and an amendment (new values
for some of an experiment's fields, in time order with its transitions).
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import MISSING, dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, NotRequired

from pydantic import AwareDatetime, ConfigDict, Field, TypeAdapter, ValidationError, with_config
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from typing_extensions import TypedDict

from ..errors import InvalidInput, Problem, SandboxError
from . import store
from .known_names import KnownNames
from .lifecycle import (
    IMPORT,
    TRANSITIONS,
    AmendmentRefused,
    Event,
    Experiment,
    FieldSpec,
    TransitionRefused,
    amend,
    amendable_fields,
    check_transition,
    experiment_fields,
    field_types,
    new_experiment,
)

# strict: "yes" is not a boolean and 1700000000 is not a time. Typed dicts, not
# models: pydantic validates a line into a dict in a quarter of the time it
# takes to build a model instance (a million lines make that seconds).
LINE_CONFIG = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


def _field_annotation(kind: Any, spec: FieldSpec, required: bool) -> Any:
    """How an import line types one experiment field (strict: no coercion)."""
    if kind is datetime:
        annotation: Any = AwareDatetime
    elif kind is bool:
        annotation = bool
    elif kind == tuple[str, ...]:
        annotation = list[str]
    else:
        limits: dict[str, Any] = {"min_length": 1} if required else {}
        if spec.pattern:
            limits["pattern"] = spec.pattern
        if spec.max_length:
            limits["max_length"] = spec.max_length
        annotation = Annotated[str, Field(**limits)] if limits else str
    return annotation if required else NotRequired[annotation]


def _experiment_line() -> Any:
    """The experiment line: the fields an import gives (lifecycle.Experiment),
    those without a default required."""
    types = field_types()
    keys: dict[str, Any] = {"type": Literal["experiment"]}
    for item, spec in experiment_fields(IMPORT):
        required = item.default is MISSING and item.default_factory is MISSING
        keys[item.name] = _field_annotation(types[item.name], spec, required)
    return with_config(LINE_CONFIG)(TypedDict("ExperimentLine", keys))  # type: ignore[operator]


ExperimentLine = _experiment_line()


def _amendment_line() -> Any:
    """The amendment line: which experiment, when, by whom, why, and the new
    values (``fields``: any of the fields an import may amend, none required,
    typed as on the experiment line)."""
    types = field_types()
    specs = {item.name: spec for item, spec in experiment_fields(IMPORT)}
    values: dict[str, Any] = {}
    for name in amendable_fields(IMPORT):
        annotation = _field_annotation(types[name], specs[name], specs[name].required)
        values[name] = NotRequired[annotation] if specs[name].required else annotation
    fields = with_config(LINE_CONFIG)(TypedDict("AmendedFields", values))  # type: ignore[operator]
    keys: dict[str, Any] = {
        "type": Literal["amendment"],
        "experiment": Annotated[str, Field(min_length=1)],
        "at": AwareDatetime,
        "actor": Annotated[str, Field(min_length=1, max_length=64)],
        "reason": NotRequired[str],
        "fields": fields,
    }
    return with_config(LINE_CONFIG)(TypedDict("AmendmentLine", keys))  # type: ignore[operator]


AmendmentLine = _amendment_line()


@with_config(LINE_CONFIG)
class TransitionLine(TypedDict):
    type: Literal["transition"]
    experiment: Annotated[str, Field(min_length=1)]
    to: str
    at: AwareDatetime
    actor: Annotated[str, Field(min_length=1, max_length=64)]
    reason: NotRequired[str]


LINE_TYPE: Any = Annotated[
    ExperimentLine | TransitionLine | AmendmentLine, Field(discriminator="type")
]
LINE: TypeAdapter[Any] = TypeAdapter(LINE_TYPE)


@dataclass
class ImportResult:
    experiments: int
    events: int  # transitions
    amendments: int = 0


@dataclass
class _Track:
    experiment: Experiment
    state: str
    last_at: datetime
    seq: int


def _fail(path: Path, line: int, message: str) -> InvalidInput:
    return InvalidInput([Problem(str(path), line, "", message)])


def parse(path: Path) -> list[tuple[int, dict[str, Any]]]:
    records = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput([Problem(str(path), None, "", f"cannot read: {exc}")]) from None
    validate = LINE.validator.validate_json  # without TypeAdapter's per-call wrapper
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            records.append((number, validate(text)))
        except ValidationError as exc:
            first = exc.errors()[0]
            if first["type"] == "json_invalid":
                raise _fail(path, number, f"malformed JSON: {first['ctx']['error']}") from None
            if first["type"] in ("union_tag_not_found", "union_tag_invalid"):
                got = first.get("ctx", {}).get("tag", "")
                shown = f", not {got!r}" if got else ""
                raise _fail(
                    path, number, f"type: must be experiment, transition or amendment{shown}"
                ) from None
            if not first["loc"]:
                raise _fail(path, number, "each line must be a JSON object") from None
            key = ".".join(str(p) for p in first["loc"][1:]) or "type"
            message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
            raise _fail(path, number, f"{key}: {message}") from None
    return records


def plan_import(
    path: Path,
    records: list[tuple[int, dict[str, Any]]],
    engine: Engine,
    known: KnownNames | None = None,
) -> tuple[list[Experiment], list[Event]]:
    """Check every record in order; return what to write, or raise at the first
    error. With ``known``, an experiment line (or an amendment of its sandbox,
    team, purpose or datasets) must use names the configuration knows."""
    tracks: dict[str, _Track] = {}
    new_experiments: list[Experiment] = []
    new_events: list[Event] = []
    referenced = {r["id"] if r["type"] == "experiment" else r["experiment"] for _, r in records}
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
        if record["type"] == "experiment":
            new = _experiment(record)
            if new.id in tracks or track(new.id) is not None:
                raise _fail(path, number, f"experiment {new.id} already exists")
            if known is not None:
                _check_names(path, number, known, new)
            tracks[new.id] = _Track(new, "proposed", new.registered_at, 0)
            new_experiments.append(new)
            continue
        experiment_id = record["experiment"]
        current = tracks.get(experiment_id) or track(experiment_id)
        if current is None:
            raise _fail(path, number, f"unknown experiment {experiment_id!r}")
        at = record["at"]  # aware (the schema says so): stored in UTC by insert_rows
        if at < current.last_at:
            raise _fail(
                path,
                number,
                f"{experiment_id}: {record['type']} at {at.isoformat()} is earlier than its "
                f"previous event ({current.last_at.isoformat()})",
            )
        if record["type"] == "amendment":
            try:
                amended, changes = amend(
                    current.experiment, current.state, record["fields"], IMPORT
                )
            except AmendmentRefused as exc:
                raise _fail(path, number, str(exc)) from None
            if known is not None:
                _check_names(path, number, known, amended, changes)
            current.seq += 1
            state = current.state
            new_events.append(
                Event(
                    experiment_id,
                    current.seq,
                    state,
                    state,
                    at,
                    record["actor"],
                    record.get("reason", ""),
                    changes,
                )
            )
            current.experiment, current.last_at = amended, at
            continue
        target = record["to"]
        # the common case inline; check_transition decides everything else (and the gate)
        if target == "in_production" or target not in TRANSITIONS[current.state]:
            try:
                check_transition(current.experiment, current.state, target)
            except TransitionRefused as exc:
                raise _fail(path, number, str(exc)) from None
        current.seq += 1
        new_events.append(
            Event(
                experiment_id,
                current.seq,
                current.state,
                target,
                at,
                record["actor"],
                record.get("reason", ""),
            )
        )
        current.state, current.last_at = target, at
    return new_experiments, new_events


def _check_names(
    path: Path,
    number: int,
    known: KnownNames,
    experiment: Experiment,
    fields: Any = None,
) -> None:
    found = known.problems(experiment) if fields is None else known.problems(experiment, fields)
    if found:
        problems = [Problem(str(path), number, "", message) for message in found]
        if known.hint:
            problems.append(Problem("", None, "", known.hint))
        raise InvalidInput(problems)


def _experiment(record: dict[str, Any]) -> Experiment:
    """The record as stored: optional fields take their defaults, times in UTC."""
    return new_experiment(record, IMPORT, registered_by=record["owner"])


def import_file(path: Path, engine: Engine, known: KnownNames | None = None) -> ImportResult:
    with _collector_paused():
        experiments, events = plan_import(path, parse(path), engine, known)
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            store.write_batch(engine, experiments, events, source=path.name, digest=digest)
        except IntegrityError:
            raise SandboxError(
                f"{path}: the registry changed while importing; nothing was imported, run it again"
            ) from None
    amendments = sum(1 for e in events if e.changes is not None)
    return ImportResult(len(experiments), len(events) - amendments, amendments)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Millions of records are millions of live objects that Python's cycle
    collector would walk again and again as they pile up (seconds of a large
    import) without freeing any: they hold no cycles. Reference counting still
    frees everything; the collector runs again afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
