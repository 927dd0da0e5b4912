"""The experiment lifecycle (PRODUCT.md section 6): states, allowed transitions
and the promotion gate, in one place for the CLI, the service and the importer."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import Field, asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from functools import cache
from typing import Any, get_type_hints

from ..errors import InvalidInput

STATES = ("proposed", "approved", "exploring", "validated", "in_production", "stopped", "retired")
TRANSITIONS: dict[str, frozenset[str]] = {
    "proposed": frozenset({"approved", "stopped"}),
    "approved": frozenset({"exploring", "stopped"}),
    "exploring": frozenset({"validated", "stopped"}),
    "validated": frozenset({"in_production", "exploring", "stopped"}),
    "in_production": frozenset({"retired"}),
    "stopped": frozenset(),
    "retired": frozenset(),
}
FINAL = frozenset(s for s, targets in TRANSITIONS.items() if not targets)
# The Algoritmeregister's publicatiecategorie (standard 1.0): high-risk AI system (AI
# Act), impactful algorithm (category B), or other.
PUBLICATION_CATEGORIES = ("Hoog-risico AI-systeem", "Impactvolle algoritmes", "Overige algoritmes")
ALGORITMEREGISTER_STATUS = {
    "exploring": "In ontwikkeling",
    "validated": "In ontwikkeling",
    "in_production": "In gebruik",
    "retired": "Buiten gebruik",
}
GATE_FIELDS = ("human_intervention", "risks", "proportionality")
# A step that decides about an experiment says why: the approval, a stop, the
# promotion to production.
REASON_REQUIRED = ("approved", "stopped", "in_production")
# States reached through the promotion gate: an amendment may not undo it.
PAST_THE_GATE = frozenset({"in_production", "retired"})
# The way to production: a funnel counts the experiments that entered each state.
FUNNEL = ("proposed", "approved", "exploring", "validated", "in_production")
DAY = 86_400.0
# Teams and sandboxes label reports and dashboards: printable names only.
NAME_PATTERN = r"^[\w][\w .-]{0,63}$"


def check_name(kind: str, value: str) -> None:
    if not re.match(NAME_PATTERN, value):
        raise InvalidInput(
            f"{kind} {value!r}: use letters, digits, spaces, '.', '_' or '-' (at most 64)"
        )


class TransitionRefused(InvalidInput):
    """A transition the lifecycle or the promotion gate does not allow."""


class ReasonRequired(InvalidInput):
    """A transition to approved, stopped or in_production without a reason."""


class AmendmentRefused(InvalidInput):
    """An amendment that names an unknown field, changes nothing, or gives a
    value the field does not allow."""


# Who gives a field's value: the CLI's `experiments register`, an import
# file's experiment line, the registry service's API (and so the notebook
# client). A field given by none of them is set by the registry itself.
CLI, IMPORT, SERVICE = "cli", "import", "service"


@dataclass(frozen=True)
class FieldSpec:
    """What one experiment field is, stated once: the CLI's options, the
    import file's line type, the service's OpenAPI schema and its checks are
    made from these (and a test checks the table's columns against them)."""

    help: str
    given_by: frozenset[str] = frozenset()
    required: bool = False  # a non-empty value must be given
    pattern: str | None = None
    max_length: int | None = None
    choices: tuple[str, ...] = ()  # the only values allowed besides "" (then also the pattern)


def _spec(help: str, *given_by: str, required: bool = False, **limits: Any) -> dict[str, Any]:
    choices = limits.get("choices", ())
    if choices:
        # escaped for ECMA-262 too (the OpenAPI schema): re.escape would escape ' ' and '-'
        escaped = (re.sub(r"([.^$*+?()\[\]{}|\\/])", r"\\\1", c) for c in choices)
        limits["pattern"] = "^(" + "|".join(escaped) + ")?$"
    return {"spec": FieldSpec(help, frozenset(given_by), required, **limits)}


def check_choices(experiment: Experiment) -> None:
    """Raise ``InvalidInput`` for a field set to a value outside its choices."""
    for item, spec in experiment_fields():
        value = getattr(experiment, item.name)
        if spec.choices and value and value not in spec.choices:
            raise InvalidInput(
                f"{item.name} {value!r}: not one of {', '.join(spec.choices)} (or empty)"
            )


@dataclass(frozen=True)
class Experiment:
    id: str = field(metadata=_spec("identifier, e.g. EXP-0001", CLI, IMPORT, max_length=64))
    title: str = field(
        metadata=_spec("what the experiment is", CLI, IMPORT, SERVICE, required=True)
    )
    team: str = field(
        metadata=_spec("the team that runs it", CLI, IMPORT, SERVICE, required=True,
                       pattern=NAME_PATTERN)
    )  # fmt: skip
    sandbox: str = field(
        metadata=_spec("the sandbox it runs in", CLI, IMPORT, required=True, pattern=NAME_PATTERN)
    )
    owner: str = field(
        metadata=_spec("who answers for it", CLI, IMPORT, required=True, max_length=64)
    )
    purpose: str = field(
        metadata=_spec("the purpose (doelbinding) its data are used for", CLI, IMPORT, SERVICE,
                       required=True)
    )  # fmt: skip
    registered_at: datetime = field(metadata=_spec("when it was registered (UTC)", IMPORT))
    registered_by: str = field(metadata=_spec("who registered it"))
    datasets: tuple[str, ...] = field(
        default=(), metadata=_spec("the datasets it uses", CLI, IMPORT, SERVICE)
    )
    personal_data: bool = field(
        default=False, metadata=_spec("whether it processes personal data", CLI, IMPORT, SERVICE)
    )
    description: str = field(default="", metadata=_spec("longer description", CLI, IMPORT, SERVICE))
    human_intervention: str = field(
        default="",
        metadata=_spec("how people oversee its outcomes (gate)", CLI, IMPORT, SERVICE),
    )
    risks: str = field(
        default="", metadata=_spec("its risks and how they are met (gate)", CLI, IMPORT, SERVICE)
    )
    proportionality: str = field(
        default="",
        metadata=_spec("why its means fit its goal (gate)", CLI, IMPORT, SERVICE),
    )
    dpia_reference: str = field(
        default="",
        metadata=_spec("the DPIA that covers it (gate, with personal data)", CLI, IMPORT, SERVICE),
    )
    dataset_versions: dict[str, Any] = field(
        default_factory=dict,
        compare=False,
        metadata=_spec("versions and checksums of the mounted datasets", SERVICE),
    )
    goal: str = field(
        default="",
        metadata=_spec("what it is for, in words (the Algoritmeregister's goal)", CLI, IMPORT,
                       SERVICE),
    )  # fmt: skip
    publication_category: str = field(
        default="",
        metadata=_spec("the Algoritmeregister's publication category", CLI, IMPORT, SERVICE,
                       choices=PUBLICATION_CATEGORIES),
    )  # fmt: skip


@cache
def experiment_fields(given_by: str | None = None) -> tuple[tuple[Field[Any], FieldSpec], ...]:
    """The experiment's fields with their specs, in order; only those that
    ``given_by`` gives when it is set."""
    found = [(f, f.metadata["spec"]) for f in fields(Experiment)]
    return tuple((f, s) for f, s in found if given_by is None or given_by in s.given_by)


@cache
def field_types() -> dict[str, Any]:
    """Field name -> its Python type (str, bool, datetime, tuple[str, ...], dict)."""
    return get_type_hints(Experiment)


def loosely_typed(values: dict[str, Any]) -> dict[str, Any]:
    """Values as a JSON client sends them, made into the fields' types
    (TypeError or ValueError when one cannot be)."""
    types = field_types()
    made: dict[str, Any] = {}
    for name, value in values.items():
        kind = types[name]
        if kind is str:
            made[name] = str(value)
        elif kind is bool:
            made[name] = bool(value)
        elif kind == tuple[str, ...]:
            made[name] = tuple(str(item) for item in value)
        elif kind == dict[str, Any]:
            made[name] = dict(value or {})
        else:
            made[name] = value
    return made


def new_experiment(values: dict[str, Any], given_by: str, **set_by_registry: Any) -> Experiment:
    """An Experiment from the values one channel gave (already checked for
    type) and what the registry sets: absent optional fields take their
    defaults, lists become tuples, times UTC."""
    data = dict(set_by_registry)
    for item, _ in experiment_fields(given_by):
        if item.name in values and item.name not in data:
            value = values[item.name]
            if item.name == "datasets":
                value = tuple(value)
            elif item.name == "registered_at":
                value = value.astimezone(UTC)
            data[item.name] = value
    return Experiment(**data)


@dataclass(frozen=True)
class Event:
    """One step in an experiment's history: a transition, or (``changes`` set)
    an amendment, which stays in the state it was in (``from_state`` and
    ``to_state`` both name it)."""

    experiment: str
    seq: int
    from_state: str | None
    to_state: str
    at: datetime
    actor: str
    reason: str = ""
    changes: dict[str, Any] | None = None  # field -> {"from": old, "to": new}

    def as_dict(self) -> dict[str, Any]:
        """As JSON shows it: ``changes`` only on an amendment."""
        data = asdict(self)
        if self.changes is None:
            del data["changes"]
        return data


@cache
def amendable_fields(given_by: str = CLI) -> tuple[str, ...]:
    """What an amendment may change: the fields ``given_by`` gives that describe
    the experiment (not its id, nor when and by whom it was registered)."""
    described = {item.name for item, _ in experiment_fields(CLI)} - {"id"}
    return tuple(item.name for item, _ in experiment_fields(given_by) if item.name in described)


def amend(
    experiment: Experiment, state: str, values: dict[str, Any], given_by: str = CLI
) -> tuple[Experiment, dict[str, dict[str, Any]]]:
    """The experiment with ``values`` (already of the fields' types) applied,
    and what changed: field -> {"from": old, "to": new}, in JSON form.

    Raises ``AmendmentRefused`` for a field ``given_by`` may not amend, a
    required field left empty, a name or choice the field does not allow, or
    an amendment that changes nothing; and when an experiment that passed the
    promotion gate would no longer pass it."""
    allowed = amendable_fields(given_by)
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise AmendmentRefused(
            f"{experiment.id}: cannot amend {', '.join(unknown)} "
            f"(fields that can be amended: {', '.join(allowed)})"
        )
    if not values:
        raise AmendmentRefused(
            f"{experiment.id}: nothing to amend: give at least one of {', '.join(allowed)}"
        )
    specs = dict((item.name, spec) for item, spec in experiment_fields())
    changes: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        if isinstance(value, list):
            value = tuple(value)
        if isinstance(value, str) and specs[name].required and not value.strip():
            raise AmendmentRefused(f"{experiment.id}: {name} may not be empty")
        old = getattr(experiment, name)
        if value != old:
            changes[name] = {"from": _json_ready(old), "to": _json_ready(value)}
    if not changes:
        same = "; ".join(f"{name} is already {_json_ready(v)!r}" for name, v in values.items())
        raise AmendmentRefused(f"{experiment.id}: nothing to amend: {same}")
    amended = with_changes(experiment, changes)
    for name in ("team", "sandbox"):
        if name in changes:
            check_name(name, getattr(amended, name))
    check_choices(amended)
    if state in PAST_THE_GATE:
        missing = gate_problems(amended)
        if missing:
            raise AmendmentRefused(
                f"{experiment.id} is {state}: the amendment would leave the promotion gate's "
                f"{', '.join(missing)} empty"
            )
    return amended, changes


def _json_ready(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def with_changes(experiment: Experiment, changes: dict[str, dict[str, Any]]) -> Experiment:
    """The experiment with one amendment's new values."""
    latest: dict[str, Any] = {
        name: tuple(change["to"]) if isinstance(change["to"], list) else change["to"]
        for name, change in changes.items()
    }
    return replace(experiment, **latest)


def latest_values(experiment: Experiment, events: Iterable[Event]) -> Experiment:
    """The experiment as its amendments left it: the registered values with
    every amendment's ``to`` values applied in order (the rows themselves are
    never updated)."""
    for event in events:
        if event.changes:
            experiment = with_changes(experiment, event.changes)
    return experiment


def gate_problems(experiment: Experiment) -> list[str]:
    """What is missing before an experiment may go to production."""
    missing = [name for name in GATE_FIELDS if not getattr(experiment, name).strip()]
    if experiment.personal_data and not experiment.dpia_reference.strip():
        missing.append("dpia_reference")
    return missing


def check_transition(
    experiment: Experiment, current: str, target: str, reason: str | None = None
) -> None:
    """Raise ``TransitionRefused`` unless ``current -> target`` is allowed now,
    and ``ReasonRequired`` when ``reason`` is given as empty for a step that
    needs one (None: not checked, as for an import's history from elsewhere)."""
    if target not in STATES:
        raise TransitionRefused(f"unknown state {target!r} (states: {', '.join(STATES)})")
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none: it is final"
        raise TransitionRefused(
            f"{experiment.id}: {current} -> {target} is not allowed (from {current}: {allowed})"
        )
    if reason is not None and target in REASON_REQUIRED and not reason.strip():
        raise ReasonRequired(
            f"{experiment.id}: {current} -> {target} needs a reason (every step to "
            f"{', '.join(REASON_REQUIRED[:-1])} or {REASON_REQUIRED[-1]} says why)"
        )
    if target == "in_production":
        missing = gate_problems(experiment)
        if missing:
            raise TransitionRefused(
                f"{experiment.id}: promotion to in_production refused; missing: "
                + ", ".join(missing)
            )


def current_state(events: list[Event]) -> str:
    return events[-1].to_state if events else "proposed"


@dataclass(frozen=True)
class Summary:
    """What the event log says about one experiment, for the manager report."""

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
