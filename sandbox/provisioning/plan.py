"""Desired state of each sandbox, and the difference with what was provisioned.

``desired`` is pure; ``plan`` compares it with the ``applied.json`` written
after the last successful ``up`` and with whether the hub is running.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypedDict

from ..config.loader import LoadedConfig
from ..config.model import Sandbox
from ..errors import InvalidInput
from ..governance import policy
from ..governance.catalog import StagedDataset, staged_datasets
from ..host.daemon import read_pid
from ..host.layout import MAX_SOCKET_PATH, Layout
from ..hub.settings import HubInputs, HubSettings, hub_settings, network_spec, user_mounts
from .context import Context
from .images import ImageSpec, image_spec
from .ports import check_port
from .revocation import revocations


@dataclass(frozen=True)
class Change:
    action: str  # create | change | remove | start | revoke
    kind: str  # hub | hub-config | image | dataset | network | user | grant
    name: str
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"action": self.action, "kind": self.kind, "name": self.name, "detail": self.detail}


class Desired(TypedDict):
    """What `up` provisions for one sandbox. After a successful `up` it is
    written to ``applied.json``, which the next `plan` compares it with (a file
    from an older version may lack keys: read it with ``.get``)."""

    sandbox: str
    url: str
    tier: int
    expires: str | None
    hub_settings: str  # digest of hub.json's content
    image: str | None
    datasets: dict[str, str]  # id -> version key of the staged copy
    users: list[str]
    grants: dict[str, list[str]]  # user -> ids of the datasets mounted for them
    network: dict[str, Any] | None  # hub.settings.network_spec


@dataclass
class SandboxPlan:
    sandbox: Sandbox
    desired: Desired
    settings: HubSettings  # hub.json
    image: ImageSpec | None
    staged: dict[str, StagedDataset]
    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    applied: Desired | None = None  # what the last `up` applied here
    # who had which datasets: ``applied``, or what a plain `down` kept of it
    had: Desired | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "sandbox": self.sandbox.name,
            "url": self.desired["url"],
            "tier": self.desired["tier"],
            "changes": [c.as_dict() for c in self.changes],
            "warnings": self.warnings,
        }


def digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def build(loaded: LoadedConfig, sandbox: Sandbox, env: Context) -> SandboxPlan:
    """Everything ``up`` needs for one sandbox, without touching the system."""
    staged = staged_datasets(loaded, sandbox, env.layout)
    image = (
        image_spec(env.images, sandbox.image, env.jupyterhub_version)
        if sandbox.spawner != "local"
        else None
    )
    inputs = HubInputs(
        layout=env.layout,
        image=image.tag if image else "",
        python=env.python,
        proxy_command=env.proxy_command,
        registry_url=env.registry_url,
        clock_file=env.clock_file,
        organisation=loaded.config.organisation.name,
        catalog=tuple(catalog_summary(loaded)),
        tier=policy.sandbox_tier(loaded, sandbox),
    )
    settings = hub_settings(sandbox, staged, inputs)
    network = network_spec(sandbox)
    desired: Desired = {
        "sandbox": sandbox.name,
        "url": sandbox.hub.url,
        "tier": inputs.tier,
        "expires": sandbox.expires.isoformat() if sandbox.expires else None,
        "hub_settings": digest(settings),
        "image": image.tag if image else None,
        "datasets": {i: s.version_key for i, s in staged.items()},
        "users": sandbox.users,
        "grants": {u: [m["id"] for m in ms] for u, ms in user_mounts(sandbox, staged).items()},
        "network": network,
    }
    result = SandboxPlan(sandbox, desired, settings, image, staged)
    if sandbox.spawner == "local":
        result.warnings.append("spawner local: no isolation between users (tier <= 1 only)")
    return result


def check_socket_paths(sandbox: Sandbox, env: Context) -> None:
    """A unix socket's path holds at most 107 bytes."""
    paths = [
        env.layout.server_socket(sandbox.name, "any user"),  # all of one length
        env.layout.registry_socket(sandbox.name),
        env.layout.proxy_api_socket(sandbox.name),
    ]
    for path in paths:
        if len(os.fsencode(path)) > MAX_SOCKET_PATH:
            raise InvalidInput(
                f"sandbox {sandbox.name}: the socket path {path} is longer than "
                f"{MAX_SOCKET_PATH} bytes; use a shorter state directory (SANDBOX_STATE_DIR)"
            )


def catalog_summary(loaded: LoadedConfig) -> list[dict[str, Any]]:
    """Every data card for the registry service's catalog page: what it is, who
    answers for it, and its governance metadata (dates as ISO strings)."""
    governance = {
        "version", "access_rights", "classification", "personal_data", "legal_basis",
        "dpia", "retention", "agreement",
    }  # fmt: skip
    return [
        {
            "id": c.card.id,
            "title": c.card.title,
            "tier": policy.dataset_tier(c.card),
            "owner": c.card.owner,
            "steward": c.card.steward,
            "purposes": list(c.card.purposes),
            "pii_columns": sorted(
                str(f["name"])
                for data_file in c.card.files
                for f in (data_file.table_schema or {}).get("fields", [])
                if isinstance(f, dict) and f.get("pii") is True
            ),
            **c.card.model_dump(mode="json", include=governance),
        }
        for c in sorted(loaded.cards.values(), key=lambda c: c.card.id)
    ]


def read_applied(path: Path) -> Desired | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def diff(
    desired: Desired, applied: Desired | None, hub_running: bool, had: Desired | None = None
) -> list[Change]:
    """What `up` changes; ``had``: who had access before a plain `down`
    (when there is no ``applied``), whose losses are revoked too."""
    name = desired["sandbox"]
    if applied is None:
        changes = [Change("create", "hub", name, desired["url"])]
        if desired["image"]:
            changes.append(Change("create", "image", desired["image"]))
        if network := desired["network"]:
            changes.append(Change("create", "network", network["name"], network["design"]))
        changes += [Change("create", "dataset", i, v) for i, v in desired["datasets"].items()]
        changes += [Change("create", "user", u) for u in desired["users"]]
        return changes + _revoke_changes(desired, had)
    changes = []
    if applied.get("hub_settings") != desired["hub_settings"]:
        changes.append(Change("change", "hub-config", name, "hub settings differ; hub restarts"))
    if applied.get("image") != desired["image"]:
        changes.append(
            Change("change", "image", str(desired["image"]), f"was {applied.get('image')}")
        )
    if applied.get("network") != (network := desired["network"]):
        changes.append(Change("change", "network", name, network["design"] if network else "none"))
    old, new = applied.get("datasets", {}), desired["datasets"]
    for dataset_id in sorted(set(old) | set(new)):
        if dataset_id not in old:
            changes.append(Change("create", "dataset", dataset_id, new[dataset_id]))
        elif dataset_id not in new:
            changes.append(Change("remove", "dataset", dataset_id, "no longer granted"))
        elif old[dataset_id] != new[dataset_id]:
            changes.append(
                Change("change", "dataset", dataset_id, f"{old[dataset_id]} -> {new[dataset_id]}")
            )
    old_users, new_users = set(applied.get("users", [])), set(desired["users"])
    changes += [Change("create", "user", u) for u in sorted(new_users - old_users)]
    changes += _revoke_changes(desired, applied)
    if not hub_running:
        changes.append(Change("start", "hub", name, "hub is not running"))
    return changes


def _revoke_changes(desired: Desired, had: Desired | None) -> list[Change]:
    return [
        Change("revoke", "user" if r.login else "grant", r.user, r.describe())
        for r in revocations(desired, had)
    ]


def refuse_destroyed(result: SandboxPlan, layout: Layout) -> None:
    """A version destroyed at the end of its retention period is not staged again."""
    try:
        destroyed = dict(json.loads(layout.retention_destroyed().read_text(encoding="utf-8")))
    except (OSError, ValueError):
        destroyed = {}
    for staged in result.staged.values():
        gone = destroyed.get(f"{staged.id}/{staged.version_key}")
        if gone:
            raise InvalidInput(
                f"sandbox {result.sandbox.name}: dataset {staged.id} version "
                f"{staged.version_key} was destroyed on {gone['destroyed_on']} at the end of "
                "its retention period and is not staged again; grant a newer version of "
                "the data, or remove the grant"
            )


def had_access(layout: Layout, sandbox: str) -> Desired | None:
    """Who had which datasets: the last `up`'s applied.json, else what a plain
    `down` kept of it."""
    return read_applied(layout.applied(sandbox)) or read_applied(layout.access_kept(sandbox))


def plan(
    loaded: LoadedConfig, env: Context, only: str | None = None, today: date | None = None
) -> list[SandboxPlan]:
    sandboxes = [loaded.config.sandbox(only)] if only else loaded.config.sandboxes
    plans = []
    for sandbox in sandboxes:
        check_socket_paths(sandbox, env)
        if env.inventory is None:  # the hub runs here: its port must be free or its own
            check_port(sandbox, env.layout)
        result = build(loaded, sandbox, env)
        refuse_destroyed(result, env.layout)
        applied = read_applied(env.layout.applied(sandbox.name))
        had = had_access(env.layout, sandbox.name)
        running = bool(read_pid(env.layout.pidfile(sandbox.name)))
        result.changes = diff(result.desired, applied, running, had)
        result.applied, result.had = applied, had
        plans.append(result)
    return plans
