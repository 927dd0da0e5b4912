"""Retention of derived data: the files in a team folder past the retention
of the data they were derived from.

A team folder holds what its group derived from the datasets granted to it,
so its files are kept no longer than the shortest ``destroy`` period among
those datasets' cards, counted from each file's last change (a ``transfer``
period is for the archivist's copy of the source, not for working files).
`sandbox datasets retention` lists such files; ``--apply`` removes them and
records, per folder, an audit entry (kind ``retention``, subject
``<sandbox>/shared/<group>``) with each file's path, size, last change and
sha256. This reads the volumes of this machine's engine, with the image the
sandbox's last `up` ran; a sandbox never brought up here has none to read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from ..config.loader import LoadedConfig
from ..config.model import Sandbox, add_period
from ..host import volumes
from .context import Context
from .plan import read_applied

EPOCH = date(2000, 1, 1)  # periods are compared by where they lead from one day


@dataclass(frozen=True)
class TeamFiles:
    sandbox: str
    group: str
    volume: str
    image: str
    period: str
    basis: str
    source: str  # the dataset whose period applies
    files: list[volumes.FolderFile]

    def as_dict(self, today: date) -> dict[str, Any]:
        return {
            "kind": "team-folder",
            "sandbox": self.sandbox,
            "group": self.group,
            "folder": f"/shared/{self.group}",
            "period": self.period,
            "action": "destroy",
            "basis": self.basis,
            "from": f"derived from {self.source}",
            "files": [
                {
                    "path": f.path,
                    "size": f.size,
                    "modified": changed(f).isoformat(),
                    "until": add_period(changed(f), self.period).isoformat(),
                }
                for f in self.files
            ],
            "today": today.isoformat(),
        }


def changed(file: volumes.FolderFile) -> date:
    return datetime.fromtimestamp(file.modified, UTC).date()


def strictest_destroy(loaded: LoadedConfig, sandbox: Sandbox, group: str) -> tuple[str, str, str]:
    """(period, basis, dataset) of the shortest destroy period among the
    group's datasets; empty strings when none has one."""
    periods = []
    for grant in next(g for g in sandbox.groups if g.name == group).grants:
        card = loaded.cards[grant.dataset].card if grant.dataset in loaded.cards else None
        if card is not None and card.retention.action == "destroy":
            retention = card.retention
            periods.append((add_period(EPOCH, retention.period), retention.period,
                            retention.basis, grant.dataset))  # fmt: skip
    if not periods:
        return "", "", ""
    _, period, basis, dataset = min(periods)
    return period, basis, dataset


def team_files_past(loaded: LoadedConfig, env: Context, today: date) -> list[TeamFiles]:
    """Per team folder of this machine's sandboxes, its files past retention."""
    if env.inventory is not None:
        return []
    found = []
    for sandbox in loaded.config.sandboxes:
        if sandbox.spawner == "local":
            continue
        applied = read_applied(env.layout.applied(sandbox.name))
        image = applied.get("image") if applied else None
        if not image:
            continue
        configured = {g.name for g in sandbox.groups if g.shared_folder}
        for group, volume in sorted(volumes.team_volumes(sandbox.name).items()):
            if group not in configured:
                continue  # a gone group's folder is offboarded as a whole
            period, basis, source = strictest_destroy(loaded, sandbox, group)
            if not period:
                continue
            past = [
                f
                for f in volumes.folder_files(volume, image)
                if add_period(changed(f), period) <= today
            ]
            if past:
                found.append(TeamFiles(sandbox.name, group, volume, image, period, basis,
                                       source, past))  # fmt: skip
    return found


def apply_team_retention(
    loaded: LoadedConfig, env: Context, today: date, actor: str
) -> list[dict[str, Any]]:
    """Remove the files past retention; one audit entry per folder."""
    from ..registry import audit
    from ..registry.db import open_registry_url

    done = []
    for folder in team_files_past(loaded, env, today):
        digests = volumes.remove_files(folder.volume, folder.image, [f.path for f in folder.files])
        details = folder.as_dict(today)
        for entry in details["files"]:
            entry["sha256"] = digests.get(entry["path"], "")
        details["done"] = "destroyed"
        audit.record(
            open_registry_url(env.registry_url),
            actor or "unknown",
            "retention",
            f"{folder.sandbox}/shared/{folder.group}",
            details,
        )
        done.append(details)
    return done
