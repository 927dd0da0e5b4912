"""Apply plans by running the playbooks in ``playbooks/`` through ansible-runner."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ProvisionError
from ..governance.catalog import StagedDataset, generated_files
from ..host import names
from ..host.layout import private_dir
from ..host.secrets import HUB_SECRETS, password_secret
from ..hub import identity
from ..hub.settings import SANDBOX_HEADER, hub_api, staged_node_label
from .context import Context
from .images import DEFAULT_BASE, LOCAL_BASE
from .offboarding import known_sandboxes
from .plan import SandboxPlan


@dataclass(frozen=True)
class TaskEvent:
    host: str
    task: str
    status: str  # ok | changed | skipped | failed | unreachable
    message: str = ""


Progress = Callable[[TaskEvent], None]


SWARM_MANAGERS = "managers"
# The venv the project's wheel goes into on an inventory target: the
# host_tools role's default, which a host may override (host_tools_venv).
HOST_TOOLS_DEFAULTS = Path("roles", "host_tools", "defaults", "main.yml")
HOST_TOOLS_VENV = "host_tools_venv"
# The host is the controller itself: its hub runs from this venv, as without
# an inventory.
ON_CONTROLLER = "(ansible_connection | default('ssh')) == 'local'"


@dataclass
class RunResult:
    changed: int = 0
    ok: int = 0
    failed: list[TaskEvent] = field(default_factory=list)
    changed_tasks: list[str] = field(default_factory=list)
    # what each host's tasks printed: host -> task -> stdout (ok or changed)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)


def extravars(plans: list[SandboxPlan], env: Context, wheel: Path | None = None) -> dict[str, Any]:
    """What the playbooks get: every path from the layout, every shared name
    from ``sandbox.host.names``; the roles build neither themselves. With an
    inventory, ``wheel`` is the project's wheel for the targets' venvs, and the
    Pythons (and the proxy a hub runs) are chosen per host (``host_pythons``)."""
    layout = env.layout
    images = {p.image.tag: p.image for p in plans if p.image}
    swarm = any(p.sandbox.spawner == "swarm" for p in plans)
    datasets = {s.path: s for p in plans for s in p.staged.values()}
    hub_python, host_python = host_pythons(env)
    return {
        "sandbox_python": hub_python,
        "sandbox_host_python": host_python,
        "sandbox_wheel": str(wheel) if wheel else "",
        "sandbox_labels": dict(names.LABELS),
        "sandbox_docker_required": any(p.sandbox.spawner != "local" for p in plans),
        "sandbox_swarm": swarm,
        # with a swarm the hub runs on its first manager; else on every target
        "sandbox_hub_hosts": f"{SWARM_MANAGERS}[0]" if swarm else "all",
        # on the nodes that staged and verified them (the hub places servers by it)
        "sandbox_swarm_labels": [
            "=".join(staged_node_label(p.sandbox, p.staged))
            for p in plans
            if p.sandbox.spawner == "swarm"
        ],
        "sandbox_hub_secret_names": list(HUB_SECRETS),
        "sandbox_docker_install": env.allow_docker_install,
        "sandbox_dockerd_pidfile": str(layout.dockerd_pidfile()),
        "sandbox_dockerd_logfile": str(layout.dockerd_logfile()),
        "sandbox_cache_dir": str(layout.cache_dir()),
        "sandbox_images_base_image": DEFAULT_BASE,
        "sandbox_images_local_base": LOCAL_BASE,
        "sandbox_images_ca_bundle": str(env.ca_bundle) if env.ca_bundle else "",
        "sandbox_images_base_script": str(env.base_image_script),
        "sandbox_images": [
            {
                "name": spec.name,
                "tag": spec.tag,
                "context": str(spec.context),
                "jupyterhub_version": spec.jupyterhub_version,
            }
            for spec in images.values()
        ],
        "sandbox_uploads_dir": str(layout.uploads_dir()),
        "sandbox_datasets": [_dataset_vars(s, env) for s in datasets.values()],
        "sandbox_hubs": [_hub_vars(p, env) for p in plans],
        "sandbox_hub_loader": str(env.hub_loader),
        "sandbox_proxy_command": proxy_command(env),
        "sandbox_proxy_prefix": str(layout.proxy_prefix()),
    }


def host_tools_venv(env: Context) -> str:
    """The default venv of the project's tools on a target (the host_tools role's)."""
    import yaml

    defaults = yaml.safe_load((env.playbooks / HOST_TOOLS_DEFAULTS).read_text(encoding="utf-8"))
    return str(defaults[HOST_TOOLS_VENV])


def host_pythons(env: Context) -> tuple[str, str]:
    """(``sandbox_python``, ``sandbox_host_python``): the Python that runs a
    hub (the full install) and the one that runs the standard-library helpers
    (``python -m sandbox.host.*``). Without an inventory both are this venv's.
    With one they are templates Ansible renders per host: the helpers run from
    the target's venv (``host_tools_venv``, made by the host_tools role); the
    hub from this venv on the controller itself (``ansible_connection=local``),
    elsewhere from the target's venv, which then also gets the dependencies."""
    if env.inventory is None:
        return env.python, env.python
    venv = f"{HOST_TOOLS_VENV} | default({json.dumps(host_tools_venv(env))})"
    host = "{{ [" + venv + ", 'bin', 'python'] | path_join }}"
    hub = "{{ " + f"{json.dumps(env.python)} if {ON_CONTROLLER} else sandbox_host_python" + " }}"
    return hub, host


def proxy_command(env: Context) -> str:
    """configurable-http-proxy for the hubs; on a target that is not the
    controller, the copy the hub role installs into the state directory."""
    if env.inventory is None:
        return env.proxy_command
    here, there = json.dumps(env.proxy_command), json.dumps(str(env.layout.proxy_command()))
    return "{{ " + f"{here} if {ON_CONTROLLER} else {there}" + " }}"


def _per_host(settings: Any, env: Context) -> Any:
    """The hub's settings with this controller's Python and proxy replaced by
    the host's (``sandbox_python``, ``sandbox_proxy_command``), which Ansible
    renders where it writes hub.json."""
    if env.inventory is None:
        return settings
    if isinstance(settings, dict):
        return {key: _per_host(value, env) for key, value in settings.items()}
    if isinstance(settings, list):
        return [_per_host(value, env) for value in settings]
    if settings == env.python:
        return "{{ sandbox_python }}"
    if settings == env.proxy_command:
        return "{{ sandbox_proxy_command }}"
    return settings


# the datasets role's task (tasks/verify.yml) whose output is a node's report
VERIFY_TASK = "Verify the staged datasets"


def verify_variables(staged: list[StagedDataset], env: Context, full: bool) -> dict[str, Any]:
    """What playbooks/verify.yml gets: the dataset versions each node checks."""
    return {
        "sandbox_host_python": host_pythons(env)[1],
        "sandbox_datasets": [_dataset_vars(s, env, extras=False) for s in staged],
        "sandbox_verify_cache": str(env.layout.verify_cache()),
        "sandbox_verify_full": full,
    }


def _dataset_vars(staged: StagedDataset, env: Context, extras: bool = True) -> dict[str, Any]:
    layout = env.layout
    marker = layout.staged_marker(staged.id, staged.version_key)
    entry: dict[str, Any] = {
        "id": staged.id,
        "dest": str(staged.path),
        "marker": str(marker),
        "source": str(staged.source),
        "upload": str(layout.upload_dir(staged.id)),
        "extras_file": str(layout.upload_extras(staged.id)),
        "files": [{"path": f, "sha256": sha} for f, sha in staged.files],
    }
    # the quality check reads the data: only for versions not yet staged here
    if extras and (env.inventory is not None or not marker.exists()):
        entry["extras"] = generated_files(staged)
    return entry


def _hub_vars(plan: SandboxPlan, env: Context) -> dict[str, Any]:
    name, layout = plan.sandbox.name, env.layout
    return {
        "name": name,
        "dir": str(layout.hub_dir(name)),
        "secrets_dir": str(layout.secrets_dir(name)),
        "sockets_root": str(layout.sockets_root()),
        "sockets_dir": str(layout.sockets_dir(name)),
        "hub_sockets_dir": str(layout.hub_sockets(name)),
        "settings": _per_host(plan.settings, env),
        "settings_file": str(layout.hub_settings(name)),
        "loader": str(layout.hub_loader(name)),
        "pidfile": str(layout.pidfile(name)),
        "proxy_pidfile": str(layout.proxy_pidfile(name)),
        "logfile": str(layout.logfile(name)),
        "health_url": hub_api(plan.sandbox) + "/",
        # the header naming the sandbox, as Ansible's uri module returns it
        "health_header": SANDBOX_HEADER.lower().replace("-", "_"),
        "password_secrets": [password_secret(u) for u in plan.sandbox.users]
        if plan.sandbox.auth.type == "per-user-password"
        else [],
        "identity_packages": identity.packages(plan.sandbox),
        "identity_secrets": [
            {"name": secret, "src": source}
            for secret, source in identity.secret_files(plan.sandbox).items()
        ],
        "network": plan.desired["network"],
        "home_volume_prefix": names.home_volume_prefix(name),
        # volumes under that prefix that are another sandbox's (`a` and `a-home-b`)
        "foreign_homes": names.foreign_homes_pattern(name, known_sandboxes(layout)),
        "folder": str(layout.sandbox_dir(name)),
    }


def run_playbook(
    playbook: str,
    variables: dict[str, Any],
    env: Context,
    progress: Progress | None = None,
    *,
    fail_on_task: bool = True,
) -> RunResult:
    """Run one playbook; raise ``ProvisionError`` naming the first failing task
    (unless not ``fail_on_task``: then the failures are in the result, for a
    caller that reports each host's)."""
    import ansible_runner  # slow import: only when provisioning

    result = RunResult()
    current = {"task": ""}

    def on_event(event: dict[str, Any]) -> bool:
        data = event.get("event_data", {})
        kind = event.get("event", "")
        if kind == "playbook_on_task_start":
            current["task"] = data.get("task", "")
            return True
        status = {
            "runner_on_ok": "ok",
            "runner_on_skipped": "skipped",
            "runner_on_failed": "failed",
            "runner_on_unreachable": "unreachable",
        }.get(kind)
        if status is None:
            return True
        res = data.get("res", {}) or {}
        if status == "ok" and res.get("changed"):
            status = "changed"
        if status == "failed" and data.get("ignore_errors"):
            status = "ok"
        task = data.get("task") or current["task"]
        message = _failure_message(res) if status in ("failed", "unreachable") else ""
        item = TaskEvent(data.get("host", ""), task, status, message)
        if status in ("ok", "changed") and isinstance(res.get("stdout"), str):
            result.outputs.setdefault(item.host, {})[task] = res["stdout"]
        if status == "changed":
            result.changed += 1
            result.changed_tasks.append(task)
        elif status == "ok":
            result.ok += 1
        elif status in ("failed", "unreachable"):
            result.failed.append(item)
        if progress:
            progress(item)
        return True

    inventory: Any = (
        str(env.inventory)
        if env.inventory
        else _local_inventory(env, bool(variables.get("sandbox_swarm")))
    )
    private_dir(env.layout.root)
    with tempfile.TemporaryDirectory(prefix="sandbox-run-") as private:
        runner = ansible_runner.run(
            private_data_dir=private,
            playbook=str(env.playbooks / playbook),
            inventory=inventory,
            extravars=variables,
            event_handler=on_event,
            quiet=True,
            envvars={
                "ANSIBLE_ROLES_PATH": str(env.playbooks / "roles"),
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_RETRY_FILES_ENABLED": "0",
                "ANSIBLE_HOST_KEY_CHECKING": "0",
                "ANSIBLE_LOCALHOST_WARNING": "0",
                "ANSIBLE_PIPELINING": "1",
                # ansible-playbook lives beside this interpreter, maybe off PATH
                "PATH": os.pathsep.join([str(Path(env.python).parent), os.environ.get("PATH", "")]),
            },
        )
        if result.failed and not fail_on_task:
            return result
        if result.failed:
            first = result.failed[0]
            raise ProvisionError(
                f"task {first.task!r} failed on {first.host}: {first.message}",
                task=first.task,
                host=first.host,
            )
        if runner.rc != 0:
            tail = (runner.stdout.read() if runner.stdout else "")[-2000:]
            raise ProvisionError(f"ansible-playbook {playbook} exited with {runner.rc}\n{tail}")
    return result


def _local_inventory(env: Context, swarm: bool = False) -> dict[str, Any]:
    host = {"ansible_connection": "local", "ansible_python_interpreter": env.python}
    inventory: dict[str, Any] = {"all": {"hosts": {"localhost": host}}}
    if swarm:  # a single-node swarm: this machine is its manager
        inventory["all"]["children"] = {SWARM_MANAGERS: {"hosts": {"localhost": {}}}}
    return inventory


def _failure_message(res: dict[str, Any]) -> str:
    parts = [str(res.get("msg") or "").strip()]
    stderr = str(res.get("stderr") or "").strip()
    if stderr:
        parts.append(stderr.splitlines()[-1] if len(stderr) > 500 else stderr)
    return " | ".join(p for p in parts if p) or "failed"


def record_applied(plans: list[SandboxPlan], env: Context) -> None:
    for plan in plans:
        path = env.layout.applied(plan.sandbox.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(plan.desired, indent=2, sort_keys=True), encoding="utf-8")
        tmp.replace(path)
