"""Is what `up` would provision already in place on this machine?

`plan` compares the desired state with what the last `up` recorded. Before
`up` skips the playbook, these checks look at the machine itself, so a
deleted staged copy, a removed image, a dead hub or a hand-edited hub.json
still sends `up` through Ansible. Each check is cheap: a stat, a file read,
one Docker CLI call, one HTTP request.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import requests

from ..host.secrets import HUB_SECRETS
from ..hub.settings import SANDBOX_HEADER, hub_api
from .context import Context
from .plan import SandboxPlan


def drift(plan: SandboxPlan, env: Context) -> list[str]:
    """What differs from the plan on this machine; empty when all is in place."""
    if plan.changes:
        return [f"{c.action} {c.kind} {c.name}" for c in plan.changes]
    name, layout = plan.sandbox.name, env.layout
    found: list[str] = []
    hub_json = layout.hub_settings(name)
    try:
        if json.loads(hub_json.read_text(encoding="utf-8")) != plan.settings:
            found.append(f"{hub_json} differs from the plan")
    except (OSError, ValueError):
        found.append(f"{hub_json} is missing or unreadable")
    if not _same_bytes(env.hub_loader, layout.hub_loader(name)):
        found.append("the hub's jupyterhub_config.py differs")
    found += [f"secret {n} missing" for n in HUB_SECRETS if not layout.secret(name, n).is_file()]
    found += [
        f"dataset {i} not staged at {s.path}"
        for i, s in plan.staged.items()
        if not layout.staged_marker(s.id, s.version_key).is_file()
    ]
    if not Path(env.proxy_command).exists():
        found.append("configurable-http-proxy is not installed")
    if plan.image and _docker("image", "inspect", plan.image.tag, "--format", "{{.Id}}") is None:
        found.append(f"image {plan.image.tag} not built")
    swarm = plan.sandbox.spawner == "swarm"
    if swarm and _docker("info", "--format", "{{.Swarm.LocalNodeState}}") != "active":
        found.append("this machine is not in a swarm")
    network = plan.desired.get("network")
    if network and _docker("network", "inspect", network["name"], "--format", "{{.Id}}") is None:
        found.append(f"network {network['name']} missing")
    if not _hub_answers(plan):
        found.append("the hub does not answer")
    return found


def _same_bytes(a: Path, b: Path) -> bool:
    try:
        return a.read_bytes() == b.read_bytes()
    except OSError:
        return False


def _docker(*args: str) -> str | None:
    """Output of one Docker CLI call; None when it fails."""
    try:
        done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _hub_answers(plan: SandboxPlan) -> bool:
    """This sandbox's hub answers on its port (not another's that took it)."""
    try:
        answer = requests.get(hub_api(plan.sandbox) + "/", timeout=5)
    except requests.RequestException:
        return False
    return answer.status_code == 200 and answer.headers.get(SANDBOX_HEADER) == plan.sandbox.name
