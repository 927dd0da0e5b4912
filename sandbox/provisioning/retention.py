"""Staged dataset versions past their retention period, and versions no
sandbox uses: `sandbox datasets retention [--apply]` and `datasets prune`.

A version's retention (``period`` and ``action``) is the one its own card
gave when it was staged (``datapackage.json`` in the copy), else the
configured card's. The period runs from the card's ``issued`` date when the
configured card is that same version and has one; else from when the copy
was staged (``staged_at`` in its manifest): a copy may then outlive the
data's own period by the time between publication and staging, never less.

``--apply`` destroys a version whose action is ``destroy`` (and notes it in
``retention-destroyed.json``: `plan` and `up` refuse to stage it again, so
the next `up` cannot bring it back with a new ``staged_at``) and marks one
whose action is ``transfer`` (a ``<version>.transfer`` file beside it, for
the archivist to hand it over; it stays mounted until then). Each is an
audit entry (kind ``retention``; kind ``prune`` for unused versions) with
the version's manifest digest, so the record shows what was removed when.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..config.loader import LoadedConfig
from ..config.model import add_period
from ..errors import ProvisionError
from ..governance.catalog import staged_datasets
from ..host.layout import Layout
from ..host.names import STAGED_MARKER
from ..host.staging import remove
from .context import Context
from .plan import read_applied
from .purge import provisioned, staged_copies


@dataclass
class StagedVersion:
    dataset: str
    version_key: str
    path: Path
    period: str | None
    action: str | None  # destroy | transfer
    basis: str
    start: date
    start_from: str  # issued | staged
    users: list[str] = field(default_factory=list)  # sandboxes that use it
    marked: bool = False  # marked for transfer already

    @property
    def until(self) -> date | None:
        return add_period(self.start, self.period) if self.period else None

    def as_dict(self) -> dict[str, Any]:
        until = self.until
        return {
            "kind": "staged-version",
            "dataset": self.dataset,
            "version": self.version_key,
            "path": str(self.path),
            "period": self.period,
            "action": self.action,
            "basis": self.basis,
            "from": f"{self.start_from} {self.start.isoformat()}",
            "until": until.isoformat() if until else None,
            "used_by": self.users,
            "marked_for_transfer": self.marked,
        }


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def manifest_digest(copy: Path) -> str:
    try:
        return hashlib.sha256((copy / STAGED_MARKER).read_bytes()).hexdigest()
    except OSError:
        return ""


def users_of_copies(loaded: LoadedConfig, env: Context) -> dict[Path, list[str]]:
    """staged copy -> the sandboxes that use it (provisioned here, or configured)."""
    used: dict[Path, set[str]] = {}
    for name in provisioned(env.layout):
        applied = read_applied(env.layout.applied(name))
        for dataset, key in (applied.get("datasets", {}) if applied else {}).items():
            used.setdefault(env.layout.dataset_version_dir(dataset, key), set()).add(name)
    for sandbox in loaded.config.sandboxes:
        for staged in staged_datasets(loaded, sandbox, env.layout).values():
            used.setdefault(staged.path, set()).add(sandbox.name)
    return {path: sorted(names) for path, names in used.items()}


def transfer_mark(copy: Path) -> Path:
    return copy.with_name(copy.name + ".transfer")


def staged_versions(loaded: LoadedConfig, env: Context) -> list[StagedVersion]:
    users = users_of_copies(loaded, env)
    found = []
    for copy in staged_copies(env.layout):
        dataset, key = copy.parent.name, copy.name
        if not copy.is_dir() or key.startswith("."):
            continue
        own = _read_json(copy / "datapackage.json").get("sandbox:governance", {})
        card = loaded.cards[dataset].card if dataset in loaded.cards else None
        retention = own.get("retention") or (
            card.retention.model_dump() if card is not None else {}
        )
        same_version = card is not None and key.startswith(f"{card.version}-")
        if same_version and card is not None and card.issued:
            start, start_from = card.issued, "issued"
        else:
            staged_at = _read_json(copy / STAGED_MARKER).get("staged_at")
            start = datetime.fromisoformat(staged_at).date() if staged_at else date.min
            start_from = "staged"
        found.append(
            StagedVersion(
                dataset=dataset,
                version_key=key,
                path=copy,
                period=retention.get("period"),
                action=retention.get("action"),
                basis=retention.get("basis", ""),
                start=start,
                start_from=start_from,
                users=users.get(copy, []),
                marked=transfer_mark(copy).is_file(),
            )
        )
    return found


def past_retention(loaded: LoadedConfig, env: Context, today: date) -> list[StagedVersion]:
    return [v for v in staged_versions(loaded, env) if v.until is not None and v.until <= today]


def note_destroyed(layout: Layout, version: StagedVersion, today: date) -> None:
    path = layout.retention_destroyed()
    noted = _read_json(path)
    until = version.until
    noted[f"{version.dataset}/{version.version_key}"] = {
        "destroyed_on": today.isoformat(),
        "until": until.isoformat() if until else None,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(noted, indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def apply_retention(
    loaded: LoadedConfig, env: Context, today: date, actor: str
) -> list[tuple[StagedVersion, str]]:
    """Destroy or mark each version past its period; return (version, what was done)."""
    from ..registry import audit
    from ..registry.db import open_registry_url

    done = []
    for version in past_retention(loaded, env, today):
        if version.action == "transfer":
            if version.marked:
                continue
            mark = transfer_mark(version.path)
            mark.write_text(json.dumps({**version.as_dict(), "marked_on": today.isoformat()}))
            what = "marked for transfer"
        else:
            what = "destroyed"
        details = {
            **version.as_dict(),
            "done": what,
            "manifest_sha256": manifest_digest(version.path),
        }
        if what == "destroyed":
            remove([version.path])
            if version.path.exists():  # removal ignores errors: check what is left
                raise ProvisionError(
                    f"{version.path}: not removed completely (see its permissions); "
                    "not recorded as destroyed"
                )
            note_destroyed(env.layout, version, today)
        audit.record(
            open_registry_url(env.registry_url),
            actor or "unknown",
            "retention",
            f"{version.dataset}/{version.version_key}",
            details,
        )
        done.append((version, what))
    return done


def unused_versions(loaded: LoadedConfig, env: Context) -> list[StagedVersion]:
    return [v for v in staged_versions(loaded, env) if not v.users]


def prune(loaded: LoadedConfig, env: Context, actor: str) -> list[StagedVersion]:
    """Remove the staged versions no sandbox uses; one audit entry each."""
    from ..registry import audit
    from ..registry.db import open_registry_url

    pruned = unused_versions(loaded, env)
    for version in pruned:
        details = {**version.as_dict(), "manifest_sha256": manifest_digest(version.path)}
        remove([version.path])
        audit.record(
            open_registry_url(env.registry_url),
            actor or "unknown",
            "prune",
            f"{version.dataset}/{version.version_key}",
            details,
        )
    return pruned
