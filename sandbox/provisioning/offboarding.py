"""Homes of users who left, and team folders of groups that are gone, by
the sandbox's ``offboarding`` policy.

A user removed from every group keeps their home volume for ``grace``
(default P30D), so a removal by mistake costs nothing: `up` notes the day
they were removed (``offboarding.json`` in the sandbox's folder), forgets it
when they are added back, and once the grace period is over archives or
destroys the home. ``down --purge`` does the same at once for every home of
the sandbox. Each action is an audit entry (kind ``offboard``): user,
sandbox, what was done, the sha256 of the archive or of the destroyed
content, and why. A home that cannot be offboarded is kept and recorded as
``failed`` with the error; the others go on, and `up` tries it again.
A group's team folder (``shared/<group>`` in the records) follows the same
policy once the group is gone from the sandbox or set ``shared_folder:
false``, and at ``down --purge``.

This runs where the Docker engine of the homes is: on this machine. With an
inventory (``-i``) `up` leaves homes alone and ``down --purge`` has the
playbook remove the volumes, unrecorded (see docs/security.md).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime

from ..config.model import Sandbox, add_period
from ..host import names, volumes
from ..host.layout import Layout, private_file

TEAM = "shared/"  # a team folder's subject: shared/<group>, beside the users' names


@dataclass(frozen=True)
class HomeAction:
    user: str  # whose home; shared/<group> for a team folder
    sandbox: str
    reason: str
    done: volumes.Offboarded

    @property
    def label(self) -> str:
        if self.user.startswith(TEAM):
            return f"team folder of {self.user.removeprefix(TEAM)}"
        return f"home of {self.user}"


def read_pending(layout: Layout, sandbox: str) -> dict[str, str]:
    """user -> the day (ISO) they were removed from the sandbox."""
    try:
        return dict(json.loads(layout.offboarding_pending(sandbox).read_text()))
    except (OSError, ValueError):
        return {}


def write_pending(layout: Layout, sandbox: str, pending: dict[str, str]) -> None:
    path = layout.offboarding_pending(sandbox)
    if not pending:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    private_file(path).write_text(json.dumps(pending, indent=2, sort_keys=True))


def known_sandboxes(layout: Layout) -> list[str]:
    """Sandboxes with state here (from this or another configuration)."""
    folder = layout.sandboxes_dir()
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def home_users(sandbox: str, others: Iterable[str] = ()) -> list[str]:
    """Users with a home volume in ``sandbox``; not those of a sandbox among
    ``others`` whose volume names start the same (``a`` and ``a-home-b``)."""
    prefix = names.home_volume_prefix(sandbox)
    found = (names.home_volume_user(sandbox, v, others) for v in volumes.volumes(prefix))
    # DockerSpawner escapes the name in the volume's (k.devries: k-2edevries)
    users = (names.docker_unescaped(escaped) for escaped in found if escaped)
    return [user for user in users if user]


def subject_volumes(sandbox: str, others: Iterable[str]) -> dict[str, str]:
    """Every home and team folder of the sandbox: user or shared/<group> -> its
    volume (not those of a sandbox among ``others``, see ``home_users``)."""
    found = {
        user: names.home_volume(sandbox, names.docker_escaped(user))
        for user in home_users(sandbox, others)
    }
    for group, volume in volumes.team_volumes(sandbox).items():
        found[TEAM + group] = volume
    return found


def offboard(
    sandbox: Sandbox, subjects: Iterable[str], image: str, layout: Layout, reason: str
) -> list[HomeAction]:
    """Archive or destroy the volumes of ``subjects`` (users, and shared/<group>
    for team folders) that exist. A volume that fails is kept, and its action
    says ``failed`` and why."""
    policy = sandbox.offboarding.homes
    existing = subject_volumes(sandbox.name, known_sandboxes(layout))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    actions = []
    for subject in sorted(set(subjects) & set(existing)):
        volume = existing[subject]
        try:
            if policy == "archive":
                name = subject.replace("/", "-")
                target = layout.offboarding_dir(sandbox.name) / f"{name}-{stamp}.tar.gz"
                done = volumes.archive(volume, image, target)
            else:
                done = volumes.destroy(volume, image)
        except (OSError, subprocess.SubprocessError) as exc:
            # one home that cannot be read must not keep the others (or `up`) from going on
            error = getattr(exc, "stderr", None) or str(exc)
            done = volumes.Offboarded(volume, "failed", "", 0, error=str(error).strip()[-500:])
        actions.append(HomeAction(subject, sandbox.name, reason, done))
    return actions


def left_team_folders(sandbox: Sandbox) -> list[str]:
    """Team folders of groups that are gone from the sandbox or opted out."""
    kept = {g.name for g in sandbox.groups if g.shared_folder}
    return [TEAM + g for g in volumes.team_volumes(sandbox.name) if g not in kept]


def left_homes(sandbox: Sandbox, layout: Layout) -> list[str]:
    """Users with a home in the sandbox who are no longer in it, however they
    left (also while the sandbox was down). Not with an identity provider's
    groups: people who get in through ``idp_group`` are in no list here."""
    if sandbox.auth.admin_idp_group or any(g.idp_group for g in sandbox.groups):
        return []
    members = set(sandbox.users)
    return [u for u in home_users(sandbox.name, known_sandboxes(layout)) if u not in members]


def after_up(
    sandbox: Sandbox,
    removed: Iterable[str],
    image: str,
    layout: Layout,
    today: date,
) -> list[HomeAction]:
    """Note who was removed at this `up`, forget who is back, and offboard the
    homes whose grace period is over."""
    pending, removed = read_pending(layout, sandbox.name), list(removed)
    removed += left_homes(sandbox, layout) + left_team_folders(sandbox)
    if not (pending or removed):
        return []
    for user in removed:
        pending.setdefault(user, today.isoformat())
    teams = {TEAM + g.name for g in sandbox.groups if g.shared_folder}
    for subject in set(pending) & (set(sandbox.users) | teams):
        del pending[subject]
    grace = sandbox.offboarding.grace
    due = [u for u, day in pending.items() if add_period(date.fromisoformat(day), grace) <= today]
    actions = []
    if due:
        reason = f"removed from the sandbox more than {grace} ago"
        actions = offboard(sandbox, due, image, layout, reason)
        for user in due:  # a home that failed is tried again at the next `up`
            if not any(a.user == user and a.done.what == "failed" for a in actions):
                del pending[user]
    write_pending(layout, sandbox.name, pending)
    return actions


def record(registry_url: str, actor: str, actions: list[HomeAction]) -> None:
    from ..registry import audit
    from ..registry.db import open_registry_url

    if not actions:
        return
    engine = open_registry_url(registry_url)
    for action in actions:
        details = {"reason": action.reason, **asdict(action.done)}
        audit.record(
            engine, actor or "unknown", "offboard", f"{action.sandbox}/{action.user}", details
        )
