"""The names an experiment may use: the configuration's sandboxes, their
groups (an experiment's team), its datasets and their purposes.

The registry itself accepts any printable name, so a typo (``--sandbox
werkinkomn``) would stay in the append-only log and the manager's report for
good. Where a configuration is at hand (the CLI's ``-c``, the registry
service's settings), what is registered, imported or amended is checked
against it first; history from elsewhere is recorded with ``--force``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput
from .lifecycle import Experiment

if TYPE_CHECKING:
    from ..config.loader import LoadedConfig

# the fields named after something in the configuration
CHECKED = ("sandbox", "team", "purpose", "datasets")


@dataclass(frozen=True)
class KnownNames:
    """What a configuration defines; None where it says nothing (then that
    field is not checked)."""

    groups: dict[str, tuple[str, ...]]  # sandbox -> the names of its groups
    datasets: tuple[str, ...] | None = None
    purposes: tuple[str, ...] | None = None
    hint: str = ""  # said after the unknown names (the CLI's: --force)

    @classmethod
    def of_config(cls, loaded: LoadedConfig) -> KnownNames:
        cards = [c.card for c in loaded.cards.values()]
        return cls(
            {s.name: tuple(g.name for g in s.groups) for s in loaded.config.sandboxes},
            tuple(sorted(c.id for c in cards)),
            tuple(sorted({p for c in cards for p in c.purposes})),
        )

    @classmethod
    def of_service(cls, settings: dict[str, Any]) -> KnownNames:
        """From the registry service's settings (hub.json's "registry"): its
        one sandbox, the groups of its analysts (who register there), and the
        catalog's data cards."""
        groups = sorted({g for teams in settings.get("teams", {}).values() for g in teams})
        cards = settings.get("catalog", {}).get("datasets")
        return cls(
            {settings["sandbox"]: tuple(groups)},
            None if cards is None else tuple(sorted(c["id"] for c in cards)),
            None if cards is None else tuple(sorted({p for c in cards for p in c["purposes"]})),
        )

    def problems(self, experiment: Experiment, fields: Iterable[str] = CHECKED) -> list[str]:
        """One message per name in ``fields`` the configuration does not know."""
        fields = set(fields)
        found = []
        sandbox = experiment.sandbox
        if "sandbox" in fields and sandbox not in self.groups:
            found.append(_unknown("sandbox", sandbox, self.groups))
        if "team" in fields:
            teams = self.groups.get(sandbox)
            if teams is None:  # an unknown sandbox: any sandbox's group
                teams = tuple(sorted({g for names in self.groups.values() for g in names}))
            if experiment.team not in teams:
                where = f" in sandbox {sandbox}" if sandbox in self.groups else ""
                found.append(_unknown("team", experiment.team, teams, where))
        purposes = self.purposes
        if "purpose" in fields and purposes is not None and experiment.purpose not in purposes:
            found.append(_unknown("purpose", experiment.purpose, purposes))
        if "datasets" in fields and self.datasets is not None:
            found.extend(
                _unknown("dataset", d, self.datasets)
                for d in experiment.datasets
                if d not in self.datasets
            )
        return found

    def check(self, experiment: Experiment, fields: Iterable[str] = CHECKED) -> None:
        """Raise ``InvalidInput`` listing every unknown name (and the hint)."""
        found = self.problems(experiment, fields)
        if found:
            raise InvalidInput("\n".join([*found, self.hint] if self.hint else found))


def _unknown(kind: str, value: str, known: Iterable[str], where: str = "") -> str:
    listed = ", ".join(sorted(known)) or "none"
    return f"unknown {kind} {value!r}{where}; known: {listed}"
