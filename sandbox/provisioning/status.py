"""What is running: hub health and active servers, per sandbox."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import requests

from ..config.model import Sandbox
from ..governance.catalog import granted_ids
from ..governance.policy import partner_listing
from ..host import names
from ..host.daemon import read_pid
from ..host.layout import Layout
from ..hub.settings import hub_api
from .plan import read_applied


@dataclass
class SandboxStatus:
    name: str
    url: str
    provisioned: bool
    hub_running: bool
    hub_version: str | None
    servers: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    expires: str | None = None
    expired: bool = False  # past expires: no server starts, running ones are stopped
    tier: int | None = None  # as provisioned (highest tier of the granted datasets)
    partners: list[dict[str, Any]] = field(default_factory=list)  # members from elsewhere
    # swarm: every node (hostname, state, availability, role, whether it holds
    # the sandbox's datasets) and the node each user's server runs on
    nodes: list[dict[str, Any]] = field(default_factory=list)
    placement: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def sandbox_status(
    sandbox: Sandbox,
    layout: Layout,
    today: date,
    timeout: float = 3.0,
    staged_label: tuple[str, str] | None = None,
) -> SandboxStatus:
    """``staged_label``: for a swarm sandbox, the node label (key, value) its
    servers are placed by (``sandbox.hub.settings.staged_node_label``)."""
    applied = read_applied(layout.applied(sandbox.name))
    result = SandboxStatus(
        name=sandbox.name,
        url=sandbox.hub.url,
        provisioned=applied is not None,
        tier=applied.get("tier") if applied else None,
        hub_running=bool(read_pid(layout.pidfile(sandbox.name))),
        hub_version=None,
        datasets=granted_ids(sandbox),
        expires=sandbox.expires.isoformat() if sandbox.expires else None,
        expired=bool(sandbox.expires and today > sandbox.expires),
        partners=partner_listing(sandbox, today),
    )
    if sandbox.spawner == "swarm" and result.provisioned and staged_label:
        try:
            result.nodes, result.placement = swarm_view(sandbox.name, staged_label, timeout)
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            result.error = f"swarm: {exc}"
    if not result.hub_running:
        return result
    try:
        answer = requests.get(hub_api(sandbox) + "/", timeout=timeout)
        answer.raise_for_status()
        result.hub_version = answer.json().get("version")
        token = layout.secret(sandbox.name, "cli_token").read_text().strip()
        users = requests.get(
            hub_api(sandbox) + "/users",
            params={"state": "active"},
            headers={"Authorization": f"token {token}"},
            timeout=timeout,
        )
        users.raise_for_status()
        result.servers = sorted(
            f"{user['name']}/{server or ''}".rstrip("/")
            for user in users.json()
            for server in (user.get("servers") or {})
        )
    except (requests.RequestException, OSError, ValueError) as exc:
        result.error = f"hub API: {type(exc).__name__}: {exc}"
    return result


def _docker(timeout: float, *args: str) -> str:
    done = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout * 5, check=False
    )
    if done.returncode:
        raise ValueError(done.stderr.strip() or f"docker {args[0]} failed")
    return done.stdout


def node_row(node: dict[str, Any], staged_label: tuple[str, str]) -> dict[str, Any]:
    """A node as ``docker node inspect`` describes it, for status: it holds the
    datasets only when its label has the value servers are placed by (a node
    whose last staging failed keeps an older value)."""
    key, value = staged_label
    return {
        "hostname": node["Description"]["Hostname"],
        "state": node["Status"]["State"],
        "availability": node["Spec"].get("Availability", ""),
        "role": node["Spec"].get("Role", ""),
        "datasets_staged": (node["Spec"].get("Labels") or {}).get(key) == value,
    }


def swarm_view(
    sandbox: str, staged_label: tuple[str, str], timeout: float
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The swarm's nodes and where each of the sandbox's servers runs, as the
    manager this machine's engine is (DOCKER_HOST) sees them."""
    ids = _docker(timeout, "node", "ls", "-q").split()
    nodes = [
        node_row(node, staged_label)
        for node in json.loads(_docker(timeout, "node", "inspect", *ids))
    ]
    services = _docker(
        timeout, "service", "ls", "-q", "--filter", f"label={names.LABEL_SANDBOX}={sandbox}"
    ).split()
    placement: dict[str, str] = {}
    if services:
        users = {
            spec["Spec"]["Name"]: (spec["Spec"].get("Labels") or {}).get(names.LABEL_USER, "")
            for spec in json.loads(_docker(timeout, "service", "inspect", *services))
        }
        tasks = _docker(
            timeout, "service", "ps", *services, "--filter", "desired-state=running",
            "--format", "{{.Name}} {{.Node}}",
        )  # fmt: skip
        for line in tasks.splitlines():
            task, _, node = line.partition(" ")
            service = task.rsplit(".", 1)[0]
            placement[users.get(service) or service] = node
    return sorted(nodes, key=lambda n: n["hostname"]), placement


def state_status(layout: Layout, timeout: float = 3.0) -> list[SandboxStatus]:
    """What the state directory holds, without a config: every sandbox an
    ``up`` provisioned here, as its ``applied.json`` recorded it, and whether
    its hub runs (the version from the hub's API, which needs no token)."""
    if not layout.sandboxes_dir().is_dir():
        return []
    found = []
    for folder in sorted(layout.sandboxes_dir().iterdir()):
        applied = read_applied(layout.applied(folder.name))
        result = SandboxStatus(
            name=folder.name,
            url=applied.get("url", "") if applied else "",
            provisioned=applied is not None,
            tier=applied.get("tier") if applied else None,
            hub_running=bool(read_pid(layout.pidfile(folder.name))),
            hub_version=None,
            datasets=sorted(applied.get("datasets", {})) if applied else [],
            expires=applied.get("expires") if applied else None,
        )
        if result.hub_running and result.url:
            try:
                reachable = result.url.replace("://0.0.0.0:", "://127.0.0.1:").rstrip("/")
                answer = requests.get(reachable + "/hub/api/", timeout=timeout)
                answer.raise_for_status()
                result.hub_version = answer.json().get("version")
            except (requests.RequestException, ValueError) as exc:
                result.error = f"hub API: {type(exc).__name__}: {exc}"
        found.append(result)
    return found
