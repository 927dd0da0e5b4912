"""The experiment lifecycle (PRODUCT.md section 6): states, allowed transitions
and the promotion gate, in one place for the CLI, the service and the importer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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
ALGORITMEREGISTER_STATUS = {
    "exploring": "In ontwikkeling",
    "validated": "In ontwikkeling",
    "in_production": "In gebruik",
    "retired": "Buiten gebruik",
}
GATE_FIELDS = ("human_intervention", "risks", "proportionality")
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


@dataclass(frozen=True)
class Experiment:
    id: str
    title: str
    team: str
    sandbox: str
    owner: str
    purpose: str
    registered_at: datetime
    registered_by: str
    datasets: tuple[str, ...] = ()
    personal_data: bool = False
    description: str = ""
    human_intervention: str = ""
    risks: str = ""
    proportionality: str = ""
    dpia_reference: str = ""
    dataset_versions: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Event:
    experiment: str
    seq: int
    from_state: str | None
    to_state: str
    at: datetime
    actor: str
    reason: str = ""


def gate_problems(experiment: Experiment) -> list[str]:
    """What is missing before an experiment may go to production."""
    missing = [name for name in GATE_FIELDS if not getattr(experiment, name).strip()]
    if experiment.personal_data and not experiment.dpia_reference.strip():
        missing.append("dpia_reference")
    return missing


def check_transition(experiment: Experiment, current: str, target: str) -> None:
    """Raise ``TransitionRefused`` unless ``current -> target`` is allowed now."""
    if target not in STATES:
        raise TransitionRefused(f"unknown state {target!r} (states: {', '.join(STATES)})")
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none: it is final"
        raise TransitionRefused(
            f"{experiment.id}: {current} -> {target} is not allowed (from {current}: {allowed})"
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
