"""Who may do what in the registry service: pure functions of the user's
roles (from the sandbox's groups and admins) and the experiment."""

from __future__ import annotations

from dataclasses import dataclass

from ..lifecycle import Experiment

READ_ALL_ROLES = frozenset({"manager", "steward", "admin"})


@dataclass(frozen=True)
class Caller:
    name: str
    roles: frozenset[str]  # analyst | manager | steward | admin
    sandbox: str  # the sandbox whose hub the caller logged in to

    @property
    def reads_everything(self) -> bool:
        return bool(self.roles & READ_ALL_ROLES)


def can_read(caller: Caller, experiment: Experiment) -> bool:
    if caller.reads_everything:
        return True
    return "analyst" in caller.roles and experiment.sandbox == caller.sandbox


def can_create(caller: Caller) -> bool:
    return "analyst" in caller.roles


def can_transition(caller: Caller, experiment: Experiment) -> bool:
    if "admin" in caller.roles:
        return True
    return (
        "analyst" in caller.roles
        and experiment.sandbox == caller.sandbox
        and experiment.owner == caller.name
    )
