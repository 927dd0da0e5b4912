"""Spawners used by the sandbox hubs.

Every spawner mounts, read-only under ``/data/<id>/``, the datasets granted to
the user's groups that pass the governance check at this server start (rule 7:
agreement still valid, staged files intact). Each decision is written to the
access log; refusals are shown on the spawn page and in ``/data/NOTICE.md``.

Container servers have no network the hub could reach them on: each listens
on a unix socket in its user's own socket folder (``/sandbox/server`` inside
the container), and reaches the hub API and the registry service through the
sockets of the hub's folder (``/sandbox/hub``, read-only). The proxy routes to
the server's socket on the host (``http+unix://``). Swarm servers, which may
run on another node, are reached through a relay (``sandbox.hub.swarm``).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from dockerspawner import DockerSpawner
from jupyterhub.spawner import SimpleLocalProcessSpawner, Spawner
from tornado import web
from traitlets import Dict, HasTraits, Integer, List, Unicode

from ..governance import policy
from ..governance.integrity import ChecksumCache, verify_files
from ..host.layout import Layout
from ..registry import access_log, audit
from ..registry.db import open_registry_url
from .identity import mounts_of_groups
from .runtime import clock
from .settings import CONTAINER_HUB_SOCKETS, CONTAINER_SERVER_SOCKETS, socket_url
from .team_folders import TeamFolders

NOTICE = "NOTICE.md"


def dataset_binds(datasets: list[dict[str, Any]]) -> dict[str, str]:
    """host path -> /data/<id> for the read-only binds of one user."""
    return {entry["path"]: f"/data/{entry['id']}" for entry in datasets}


@lru_cache(maxsize=4)
def _registry(url: str):
    return open_registry_url(url)


class GovernedMounts(HasTraits):
    user_datasets = Dict(config=True, help="username -> datasets granted to that user")
    group_datasets = Dict(
        config=True,
        help="group -> its datasets; when set, a start mounts those of the user's hub "
        "groups (set at login by the identity provider) instead of user_datasets",
    )
    sandbox_name = Unicode("", config=True)
    registry_url = Unicode("", config=True, help="access log database; empty: no log")
    checksum_cache = Unicode("", config=True, help="file caching staged-file checksums")
    notices_dir = Unicode("", config=True, help="where per-user NOTICE.md files are written")
    clock_file = Unicode("", config=True, help="tests and drills: a file holding today's date")
    partners = Dict(
        config=True,
        help="username -> {organisation, reference, valid_until} of members from other "
        "organisations; a start is refused once their agreement expired (rule 10)",
    )
    partner_groups = Dict(
        config=True,
        help="group -> {organisation, reference, valid_until} of partner groups an identity "
        "provider fills: a member's start is refused once the agreement expired (rule 10)",
    )
    governance_messages = List(Unicode())

    def today(self) -> date:
        return clock(self.clock_file)()

    def granted(self) -> list[dict[str, Any]]:
        if self.group_datasets:
            groups = [g.name for g in self.user.groups]  # type: ignore[attr-defined]
            return mounts_of_groups(self.group_datasets, groups)
        return list(self.user_datasets.get(self.user.name, []))  # type: ignore[attr-defined]

    def admitted(self) -> list[dict[str, Any]]:
        """Datasets to mount at this start; logs every decision."""
        today, trace = self.today(), uuid.uuid4().hex
        self.refuse_expired_partner(today, trace)
        cache = ChecksumCache(Path(self.checksum_cache) if self.checksum_cache else None)
        mounted, messages, entries = [], [], []
        for entry in self.granted():
            files = [(f["path"], f["sha256"]) for f in entry.get("files", [])]
            checked = verify_files(entry["id"], Path(entry["path"]), files, cache)
            until = entry.get("valid_until")
            reason = policy.mount_refusal(
                date.fromisoformat(until) if until else None,
                [f"{p.path} {p.problem}" for p in checked.problems],
                today,
            )
            if reason is None:
                mounted.append(entry)
            else:
                messages.append(f"Dataset {entry['id']} is not mounted: {reason}.")
            entries.append(self._log_entry(trace, entry, reason))
        cache.save()
        self.governance_messages = messages
        if self.registry_url:
            access_log.record(_registry(self.registry_url), entries)
        for message in messages:
            self.log.warning("%s (user %s)", message, self.user.name)  # type: ignore[attr-defined]
        return mounted

    def refuse_expired_partner(self, today: date, trace: str) -> None:
        """A member from another organisation starts nothing once their
        agreement expired: each granted dataset is a refused row in the access
        log (an audit entry when none is granted), and the start fails."""
        user = self.user  # type: ignore[attr-defined]
        agreements = [self.partners[user.name]] if user.name in self.partners else []
        if self.partner_groups:
            groups = sorted(g.name for g in user.groups if g.name in self.partner_groups)
            agreements += [self.partner_groups[g] for g in groups]
        refusals = (
            policy.partner_refusal(
                partner.get("organisation", ""),
                partner.get("reference"),
                date.fromisoformat(partner["valid_until"]) if partner.get("valid_until") else None,
                today,
            )
            for partner in agreements
        )
        reason = next((r for r in refusals if r), None)
        if reason is None:
            return
        entries = [self._log_entry(trace, entry, reason) for entry in self.granted()]
        if self.registry_url:
            engine = _registry(self.registry_url)
            if entries:
                access_log.record(engine, entries)
            else:
                subject = f"{self.sandbox_name}/{self.user.name}"  # type: ignore[attr-defined]
                audit.record(engine, "hub", "refuse", subject, {"reason": reason})
        self.log.warning("start refused: %s (user %s)", reason, self.user.name)  # type: ignore[attr-defined]
        raise web.HTTPError(403, f"Your server cannot start: {reason}.")

    def _log_entry(
        self, trace: str, entry: dict[str, Any], reason: str | None
    ) -> access_log.AccessEntry:
        return access_log.mount_entry(
            entry,
            trace,
            datetime.now(UTC),
            self.user.name,  # type: ignore[attr-defined]
            self.sandbox_name,
            "refused" if reason else "granted",
            reason or "",
        )

    def notice_file(self) -> Path | None:
        """Write /data/NOTICE.md for this user when something was refused."""
        if not (self.notices_dir and self.governance_messages):
            return None
        folder = Path(self.notices_dir) / self.user.name  # type: ignore[attr-defined]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / NOTICE
        lines = ["# Datasets not mounted at this server start", ""]
        lines += [f"- {message}" for message in self.governance_messages]
        path.write_text("\n".join(lines) + "\n")
        os.chmod(path, 0o444)
        return path

    async def progress(self):
        for message in self.governance_messages:
            yield {"progress": 10, "message": message}
        async for event in super().progress():  # type: ignore[misc]
            yield event


class ContainerStart(GovernedMounts, TeamFolders):
    """What the Docker and Swarm spawners share: the admitted datasets become
    read-only binds, the user's team folders read-write ones, and the server
    listens on a unix socket in the user's own socket folder, which only that
    user's container mounts."""

    state_dir = Unicode(config=True, help="the state directory (sockets live there)")
    socket_owner = Integer(1000, config=True, help="uid (and gid) the server runs as")
    docker_threads = Integer(
        8, config=True, help="Docker API calls in flight at once, across all users"
    )
    _shared_executor: ThreadPoolExecutor | None = None

    @property
    def executor(self) -> ThreadPoolExecutor:
        # DockerSpawner runs every Docker call of every user on one thread, so
        # 20 users starting at once queue behind each other's create/start/inspect
        cls = ContainerStart
        if cls._shared_executor is None:
            cls._shared_executor = ThreadPoolExecutor(self.docker_threads)
        return cls._shared_executor

    @property
    def layout(self) -> Layout:
        return Layout(Path(self.state_dir))

    @property
    def socket_path(self) -> Path:
        return self.layout.server_socket(self.sandbox_name, self.user.name)  # type: ignore[attr-defined]

    @property
    def socket_folder(self) -> Path:
        return self.socket_path.parent

    @property
    def server(self):
        # JupyterHub keeps a server's address as proto/ip/port: for a socket it
        # lower-cases the path and appends ":80". The exact URL is set here, on
        # every Server object, also those rebuilt from the database after a restart.
        server = Spawner.server.fget(self)
        if server is not None and server.proto == "http+unix" and not server.connect_url:
            server.connect_url = socket_url(self.socket_path) + server.base_url
        return server

    @server.setter
    def server(self, value) -> None:
        Spawner.server.fset(self, value)

    @property
    def volume_binds(self) -> dict[str, dict[str, str]]:
        binds = super().volume_binds  # type: ignore[misc]
        hub = str(self.layout.hub_sockets(self.sandbox_name))
        binds[str(self.socket_folder)] = {"bind": str(CONTAINER_SERVER_SOCKETS), "mode": "rw"}
        binds[hub] = {"bind": str(CONTAINER_HUB_SOCKETS), "mode": "ro"}
        binds.update(self.team_binds(self.team_mounted))
        return binds

    def get_args(self) -> list[str]:
        inside = CONTAINER_SERVER_SOCKETS / self.socket_path.name
        return [*super().get_args(), f"--ServerApp.sock={inside}"]  # type: ignore[misc]

    def prepare_socket_folder(self) -> None:
        """The user's socket folder: 0700, owned by the container's uid, and
        without the socket of an earlier server."""
        folder = self.socket_folder
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chown(folder, self.socket_owner, self.socket_owner)
        os.chmod(folder, 0o700)
        self.socket_path.unlink(missing_ok=True)

    def prepare_start(self) -> None:
        self.prepare_socket_folder()
        mounts = self.admitted()
        binds = dataset_binds(mounts)
        notice = self.notice_file()
        if notice:
            binds[str(notice)] = f"/data/{NOTICE}"
        self.read_only_volumes = binds
        self.environment = {
            **dict(self.environment),  # type: ignore[has-type]
            "SANDBOX_DATASETS": ",".join(entry["id"] for entry in mounts),
        }

    async def start(self):
        self.prepare_start()
        self.team_mounted = self.team_groups()
        await self.ensure_team_folders(self.team_mounted, self.sandbox_name, self.socket_owner)
        await super().start()  # type: ignore[misc]
        await self.until_listening()
        url = socket_url(self.socket_path)
        self.server.connect_url = url + self.server.base_url
        return url

    async def get_ip_and_port(self):
        # the server has no address to find: start() returns its socket
        return "127.0.0.1", self.port  # type: ignore[attr-defined]

    async def until_listening(self) -> None:
        """Return once the server accepts connections (polled every 50 ms), so
        the hub's first readiness check succeeds instead of backing off for up
        to seconds with jitter. Gives up quietly after http_timeout: the hub's
        own check then decides."""
        path = str(self.socket_path)
        deadline = asyncio.get_running_loop().time() + self.http_timeout  # type: ignore[attr-defined]
        while asyncio.get_running_loop().time() < deadline:
            try:
                _, writer = await asyncio.wait_for(asyncio.open_unix_connection(path), 1)
            except (OSError, TimeoutError):
                await asyncio.sleep(0.05)
                continue
            writer.close()
            return

    async def stop(self, now: bool = False) -> None:
        await super().stop(now)  # type: ignore[misc]
        self.socket_path.unlink(missing_ok=True)


class SandboxDockerSpawner(ContainerStart, DockerSpawner):
    pass


class SandboxLocalSpawner(GovernedMounts, SimpleLocalProcessSpawner):
    """No isolation: only for tier <= 1. Datasets appear as links under ~/data/."""

    homes_dir = Unicode(config=True)

    async def start(self):
        home = Path(self.homes_dir) / self.user.name
        data = home / "data"
        data.mkdir(parents=True, exist_ok=True)
        for link in data.iterdir():
            if link.is_symlink():
                link.unlink()
        for entry in self.admitted():
            os.symlink(entry["path"], data / entry["id"])
        self.home_dir = str(home)
        self.notebook_dir = str(home)
        args: list[str] = list(self.args)  # type: ignore[has-type]
        if os.geteuid() == 0 and "--allow-root" not in args:
            # a root hub runs local servers as root; Jupyter refuses unless told
            self.args = [*args, "--allow-root"]
        return await super().start()
