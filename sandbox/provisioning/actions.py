"""The library's front door: validate, plan, up, down, status.

Each function takes paths and an ``Context`` and returns data; the CLI
only renders it. ``today`` is injectable for everything date-dependent.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..config.loader import LoadedConfig, load_config
from ..errors import EngineUnavailable, SandboxError
from ..governance import policy
from ..governance.integrity import NodeVerification
from ..host.layout import Layout
from . import offboarding, revocation
from . import plan as planning
from .ansible import (
    VERIFY_TASK,
    Progress,
    RunResult,
    TaskEvent,
    extravars,
    record_applied,
    run_playbook,
    verify_variables,
)
from .context import Context
from .drift import drift
from .purge import purge_plan
from .status import SandboxStatus, sandbox_status


@dataclass
class Validated:
    loaded: LoadedConfig
    warnings: list[policy.Violation] = field(default_factory=list)


@dataclass
class UpResult:
    plans: list[planning.SandboxPlan]
    run: RunResult
    revoked: list[revocation.Enforced] = field(default_factory=list)
    homes: list[offboarding.HomeAction] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.run.changed > 0


def validate(config_path: Path, today: date | None = None) -> Validated:
    """Load, check files and checksums, and enforce the governance policy."""
    loaded = load_config(config_path)
    warnings = policy.enforce(loaded, today or date.today())
    return Validated(loaded, warnings)


def make_plan(
    config_path: Path, env: Context, sandbox: str | None = None, today: date | None = None
) -> list[planning.SandboxPlan]:
    checked = validate(config_path, today)
    plans = planning.plan(checked.loaded, env, sandbox)
    for result in plans:
        result.warnings += [
            str(w.message) for w in checked.warnings if w.sandbox in (None, result.sandbox.name)
        ]
    return plans


def check_engine(plans: list[planning.SandboxPlan], env: Context) -> None:
    needs_docker = any(p.sandbox.spawner != "local" for p in plans)
    if not needs_docker or env.inventory is not None:
        return
    if shutil.which("docker") is None and os.geteuid() != 0:
        raise EngineUnavailable(
            "Docker is not installed and installing it needs root. Ask an administrator to "
            "install docker.io and add you to the docker group, or use `spawner: local` "
            "for sandboxes that only hold tier 0-1 data."
        )


def up(
    config_path: Path,
    env: Context,
    sandbox: str | None = None,
    progress: Progress | None = None,
    today: date | None = None,
    actor: str = "",
    full: bool = False,
) -> UpResult:
    """Provision. Skips Ansible when the plan has no changes and every check of
    ``drift`` finds this machine as planned (not with an inventory or ``full``)."""
    plans = make_plan(config_path, env, sandbox, today)
    check_engine(plans, env)
    if not full and env.inventory is None and not any(drift(p, env) for p in plans):
        _audit(env, actor, "provision", plans, {"action": "up", "changed": 0, "in_place": True})
        homes = [a for p in plans for a in offboard_homes(p, [], env, actor, today)]
        env.witness_head("up")
        return UpResult(plans, RunResult(), homes=homes)
    try:
        wheel = project_wheel(env, progress) if env.inventory is not None else None
        run = run_playbook("site.yml", extravars(plans, env, wheel), env, progress)
    except SandboxError as exc:
        _audit(env, actor, "provision", plans, {"action": "up", "failed": str(exc)})
        raise
    # before applied.json moves on: a revocation that failed is planned again
    revoked = [done for p in plans for done in revoke(p, env, actor)]
    record_applied(plans, env)
    for item in plans:  # applied.json says who has access again
        env.layout.access_kept(item.sandbox.name).unlink(missing_ok=True)
        env.layout.revocations_done(item.sandbox.name).unlink(missing_ok=True)
    homes = [
        action
        for p in plans
        for action in offboard_homes(
            p,
            [
                d.revocation.user
                for d in revoked
                if d.revocation.login and p.sandbox.name == d.sandbox
            ],
            env,
            actor,
            today,
        )
    ]
    details = {
        "action": "up",
        "changed": run.changed,
        "changed_tasks": run.changed_tasks,
        "warnings": [w for p in plans for w in p.warnings],
    }
    _audit(env, actor, "provision", plans, details)
    env.witness_head("up")
    return UpResult(plans, run, revoked, homes)


def project_wheel(env: Context, progress: Progress | None = None) -> Path:
    """The project's wheel for the inventory's targets (built when its sources changed)."""
    from .wheel import project_wheel as build

    wheel = build(env.project, env.layout.cache_dir(), env.python)
    if progress:
        what = "Build" if wheel.built else "Reuse"
        status = "changed" if wheel.built else "ok"
        task = f"{what} the project's wheel {wheel.path.name} ({wheel.seconds:.1f} s)"
        progress(TaskEvent("localhost", task, status))
    return wheel.path


def verify_nodes(
    loaded: LoadedConfig, env: Context, dataset: str | None = None, *, full: bool = False
) -> list[NodeVerification]:
    """Every inventory node checks its own staged copies of the current
    versions (of ``dataset``, else of every card) with the project's venv
    there; a node where that could not run is reported with why."""
    from ..governance.catalog import staged_dataset
    from ..governance.integrity import node_verification

    ids = [dataset] if dataset else sorted(loaded.cards)
    staged = [staged_dataset(loaded, i, env.layout) for i in ids]
    run = run_playbook("verify.yml", verify_variables(staged, env, full), env, fail_on_task=False)
    nodes = {
        host: node_verification(host, tasks[VERIFY_TASK])
        for host, tasks in run.outputs.items()
        if VERIFY_TASK in tasks
    }
    for failed in run.failed:
        error = f"{failed.status}: {failed.message}"
        nodes[failed.host] = node_verification(failed.host, "", error)
    return [nodes[host] for host in sorted(nodes)]


def homes_here(plan: planning.SandboxPlan, env: Context) -> bool:
    """Home volumes this process can offboard: in this machine's engine."""
    return env.inventory is None and plan.sandbox.spawner != "local" and plan.image is not None


def home_image(plan: planning.SandboxPlan, env: Context) -> str:
    """The image to read homes with: the one the last `up` ran, else the plan's."""
    applied = planning.read_applied(env.layout.applied(plan.sandbox.name))
    ran = applied.get("image") if applied else None
    return ran or (plan.image.tag if plan.image else "")


def offboard_homes(
    plan: planning.SandboxPlan,
    removed: list[str],
    env: Context,
    actor: str,
    today: date | None,
) -> list[offboarding.HomeAction]:
    """Homes of removed users whose grace period is over (this machine's engine only)."""
    if not homes_here(plan, env):
        return []
    actions = offboarding.after_up(
        plan.sandbox, removed, home_image(plan, env), env.layout, today or env.today()
    )
    offboarding.record(env.registry_url, actor, actions)
    return actions


def revoke(plan: planning.SandboxPlan, env: Context, actor: str) -> list[revocation.Enforced]:
    """End on the running hub what the plan revokes; record each revocation
    once, also when an earlier ``up`` failed after recording it."""
    found = revocation.revocations(plan.desired, plan.had)
    versions = plan.had.get("datasets", {}) if plan.had else {}
    noted = env.layout.revocations_done(plan.sandbox.name)
    done_before = set(json.loads(noted.read_text())) if noted.is_file() else set()
    found = [r for r in found if r.key not in done_before]

    def record(done: revocation.Enforced) -> None:
        revocation.record(env.registry_url, actor, plan.sandbox.name, [done])
        done_before.add(done.revocation.key)
        noted.parent.mkdir(parents=True, exist_ok=True)
        noted.write_text(json.dumps(sorted(done_before)))

    return revocation.enforce(plan.sandbox, found, versions, plan.staged, env.layout, record)


def _audit(env: Context, actor: str, kind: str, plans, details: dict) -> None:
    from ..registry import audit
    from ..registry.db import open_registry_url

    subject = ",".join(p.sandbox.name for p in plans)
    audit.record(open_registry_url(env.registry_url), actor or "unknown", kind, subject, details)


def down(
    config_path: Path,
    env: Context,
    sandbox: str | None = None,
    purge: bool = False,
    progress: Progress | None = None,
    actor: str = "",
) -> list[offboarding.HomeAction]:
    """Stop; with ``purge`` remove the state too. What was done to each home
    this machine offboarded."""
    loaded = load_config(config_path, verify_checksums=False)
    plans = [
        planning.build(loaded, s, env)
        for s in ([loaded.config.sandbox(sandbox)] if sandbox else loaded.config.sandboxes)
    ]
    variables = extravars(plans, env)
    variables["sandbox_purge"] = purge
    details: dict = {"action": "down", "purge": purge}
    offboard = []
    if purge:
        details["purged"] = purge_plan(loaded, plans, env, variables)
        offboard = [p for p in plans if homes_here(p, env)]
        for hub in variables["sandbox_hubs"]:
            # this machine's homes are offboarded below, with a record each
            hub["offboard_homes"] = any(p.sandbox.name == hub["name"] for p in offboard)
    images = {p.sandbox.name: home_image(p, env) for p in offboard}
    run_playbook("down.yml", variables, env, progress)
    for item in plans:
        keep_access(env.layout, item.sandbox.name, purge)
    _audit(env, actor, "provision", plans, details)
    homes = []
    for item in offboard:
        others = offboarding.known_sandboxes(env.layout) + [s.name for s in loaded.config.sandboxes]
        subjects = offboarding.subject_volumes(item.sandbox.name, others)
        actions = offboarding.offboard(
            item.sandbox, subjects, images[item.sandbox.name], env.layout, "down --purge"
        )
        offboarding.record(env.registry_url, actor, actions)
        homes.extend(actions)
    return homes


def keep_access(layout: Layout, sandbox: str, purge: bool) -> None:
    """Forget what `up` applied, but (unless purged) keep who had which
    datasets: a user removed while the sandbox is down is revoked at the next
    `up`."""
    applied = planning.read_applied(layout.applied(sandbox))
    if applied is not None and not purge:
        kept = {k: applied.get(k) for k in ("sandbox", "users", "grants", "datasets")}
        path = layout.access_kept(sandbox)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(kept, indent=2, sort_keys=True), encoding="utf-8")
        tmp.replace(path)
    if purge:
        layout.access_kept(sandbox).unlink(missing_ok=True)
    layout.applied(sandbox).unlink(missing_ok=True)


def status(config_path: Path, env: Context, today: date | None = None) -> list[SandboxStatus]:
    from ..governance.catalog import staged_datasets
    from ..hub.settings import staged_node_label

    loaded = load_config(config_path, verify_checksums=False)
    day = today or env.today()
    return [
        sandbox_status(
            s,
            env.layout,
            day,
            staged_label=staged_node_label(s, staged_datasets(loaded, s, env.layout))
            if s.spawner == "swarm"
            else None,
        )
        for s in loaded.config.sandboxes
    ]


@dataclass
class Credentials:
    sandbox: str
    url: str
    users: list[str]
    admins: list[str]
    user_password: str | None
    admin_password: str | None
    passwords: dict[str, str | None] = field(default_factory=dict)  # per-user-password

    @property
    def provisioned(self) -> bool:
        return self.user_password is not None or any(self.passwords.values())


def credentials(config_path: Path, env: Context, sandbox: str) -> Credentials:
    """Logins of a shared-password or per-user-password sandbox, read from its
    0600 secret files."""
    from ..errors import InvalidInput
    from ..host.secrets import password_secret

    loaded = load_config(config_path, verify_checksums=False)
    item = loaded.config.sandbox(sandbox)
    if item.auth.type not in ("shared-password", "per-user-password"):
        raise InvalidInput(f"sandbox {sandbox} uses {item.auth.type} logins; nothing to show")

    def read(name: str) -> str | None:
        path = env.layout.secret(sandbox, name)
        return path.read_text().strip() if path.is_file() else None

    return Credentials(
        sandbox=sandbox,
        url=item.hub.url,
        users=[u for u in item.users if u not in item.admins],
        admins=list(item.admins),
        user_password=read("user_password") if item.auth.type == "shared-password" else None,
        admin_password=read("admin_password") if item.auth.type == "shared-password" else None,
        passwords={u: read(password_secret(u)) for u in item.users}
        if item.auth.type == "per-user-password"
        else {},
    )


def access_entries(env: Context, sandbox: str | None = None, user: str | None = None):
    from ..registry.access_log import entries
    from ..registry.db import open_registry_url

    return entries(open_registry_url(env.registry_url), sandbox, user)


def dataset_quality(loaded: LoadedConfig, dataset_id: str, env: Context) -> dict:
    """The quality summary kept with the staged version, else checked now."""
    import json

    from ..governance.catalog import staged_dataset
    from ..governance.quality import check_dataset

    staged = staged_dataset(loaded, dataset_id, env.layout)
    kept = staged.path / "quality.json"
    if kept.is_file():
        return {"source": "staged", **json.loads(kept.read_text())}
    return {
        "source": "checked now",
        **check_dataset(staged.source, loaded.cards[dataset_id].card).as_dict(),
    }


def z2jh_values(config_path: Path, env: Context, sandbox: str) -> dict:
    """Validated (policy included), then mapped onto the z2jh chart's values."""
    from .z2jh import values

    checked = validate(config_path)
    result = planning.build(checked.loaded, checked.loaded.config.sandbox(sandbox), env)
    image = result.image.tag if result.image else "sandbox-notebook:latest"
    return values(result.sandbox, result.staged, image, result.desired["tier"])


def record_export(env: Context, actor: str, what: str, details: dict) -> None:
    from ..registry import audit
    from ..registry.db import open_registry_url

    audit.record(open_registry_url(env.registry_url), actor or "unknown", "export", what, details)


def verify_audit(env: Context, witness: Path | None = None):
    """The chain and every row it covers; compared with the heads in ``witness``
    (default: the state directory's witness file, when there is one)."""
    from ..registry import audit
    from ..registry.db import open_registry_url

    if witness is None and env.layout.witness_file().is_file():
        witness = env.layout.witness_file()
    heads = audit.witness_heads(witness) if witness else []
    return audit.verify(open_registry_url(env.registry_url), heads), witness


def audit_head(env: Context):
    from ..registry import audit
    from ..registry.db import open_registry_url

    return audit.head(open_registry_url(env.registry_url))
