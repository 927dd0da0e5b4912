"""Swarm servers: a service on any node that holds the sandbox's datasets,
alone on an overlay network of its own, reached through a relay on the hub's
node.

The hub and the proxy reach a server only through a unix socket on the hub's
node, as with the docker spawner. With swarm that socket is a relay's: a
container on the hub's node (``<server>--relay``) that joins the server's own
overlay network (``<server>--net``: no other container joins it; internal,
so without a way out, unless the sandbox has egress) and pipes

- the server's socket in the user's socket folder to the server's port 8888
  on that network,
- port 8081 on that network, where it answers as ``hub``, to the hub's socket,
- port 8082 to the registry service's socket.

No port is published on any node's address. docs/swarm.md has the picture.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from docker.errors import APIError, NotFound
from docker.types import Mount
from dockerspawner import SwarmSpawner
from traitlets import Bool, Dict, Integer, Unicode

from ..host import names
from ..host.dockerd import LOG_OPTIONS
from .settings import (
    RELAY_ALIAS,
    RELAY_HUB_PORT,
    RELAY_REGISTRY_PORT,
    SERVER_PORT,
    registry_api,
)
from .spawner import ContainerStart

RELAY_SCRIPT = "/sandbox/relay.py"
RELAY_LIMITS = {"mem_limit": 64 * 1024**2, "pids_limit": 64}
RELAY_ATTEMPTS = 3
RELAY_STARTS_AT_ONCE = 4
_relay_starts: asyncio.Semaphore | None = None


def relay_starts() -> asyncio.Semaphore:
    """Relays being created and started at once, across all users (one per
    hub process, made on its event loop)."""
    global _relay_starts
    if _relay_starts is None:
        _relay_starts = asyncio.Semaphore(RELAY_STARTS_AT_ONCE)
    return _relay_starts


class SandboxSwarmSpawner(ContainerStart, SwarmSpawner):
    """Each server is a swarm service, placed by the node label the playbook
    sets where the sandbox's datasets are staged and verified."""

    pids_limit = Integer(0, config=True, help="TaskTemplate.Resources.Limits.Pids (0: none)")
    tmpfs = Dict(config=True, help="path -> {size (bytes), mode} of a tmpfs mounted there")
    egress = Bool(False, config=True, help="the server's network has a way out")
    relay_script = Unicode(config=True, help="the relay's source file on the hub's node")

    @property
    def server_network(self) -> str:
        return names.server_network(self.object_name)

    @property
    def relay_name(self) -> str:
        return names.relay_name(self.object_name)

    @property
    def volume_binds(self) -> dict[str, dict[str, str]]:
        # the socket folders are the relay's, on the hub's node
        binds = super().volume_binds
        binds.pop(str(self.socket_folder), None)
        binds.pop(str(self.layout.hub_sockets(self.sandbox_name)), None)
        return binds

    @property
    def mounts(self) -> list[Mount]:
        # SwarmSpawner binds everything; the home is a named volume on the node
        mounts = []
        for source, volume in self.volume_binds.items():
            kind = "bind" if source.startswith("/") else "volume"
            mounts.append(
                Mount(
                    target=volume["bind"],
                    source=source,
                    type=kind,
                    read_only=volume["mode"] == "ro",
                )
            )
        for path, tmpfs in self.tmpfs.items():
            mounts.append(
                Mount(
                    target=path,
                    source=None,
                    type="tmpfs",
                    tmpfs_size=tmpfs["size"],
                    tmpfs_mode=tmpfs["mode"],
                )
            )
        return mounts

    def get_args(self) -> list[str]:
        # the server listens on its network (port 8888), not on a socket
        return super(ContainerStart, self).get_args()

    def get_env(self) -> dict[str, str]:
        env = super().get_env()
        env["SANDBOX_REGISTRY_API"] = registry_api(f"http://{RELAY_ALIAS}:{RELAY_REGISTRY_PORT}")
        return env

    async def docker(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if method == "create_service":
            # DockerSpawner fills in {username} in a container's labels, not a service's
            kwargs["labels"] = self._render_templates(kwargs.get("labels") or {})
            spec = kwargs["task_template"]["ContainerSpec"]
            spec["Labels"] = self._render_templates(spec.get("Labels") or {})
            if self.pids_limit:
                limits = kwargs["task_template"]["Resources"].setdefault("Limits", {})
                limits["Pids"] = self.pids_limit  # Docker API 1.41; docker-py has no argument
        return await super().docker(method, *args, **kwargs)

    _network_lock: asyncio.Lock | None = None

    @property
    def network_lock(self) -> asyncio.Lock:
        # a start right after a stop (a dead node's server) must not create its
        # service while the stop is still removing the network
        if self._network_lock is None:
            self._network_lock = asyncio.Lock()
        return self._network_lock

    async def create_object(self) -> Any:
        self.network_name = self.server_network
        async with self.network_lock:
            await self.ensure_server_network()
            return await super().create_object()

    async def start_object(self) -> None:
        await super().start_object()
        await self.start_relay()

    async def remove_object(self) -> None:
        await super().remove_object()
        await self.remove_relay()
        await self.remove_server_network()

    async def poll(self) -> Any:
        status = await super().poll()
        if status is not None:
            return status
        task = await self.get_task()
        if task is None:
            return 0
        # a task on a node that died keeps its last reported state; swarm
        # shuts it down (desired state) once the node is down
        if task.get("DesiredState") != "running":
            return f"task {task['ID'][:12]} is to be {task.get('DesiredState')}"
        node = await self.docker("inspect_node", task["NodeID"])
        state = node.get("Status", {}).get("State")
        if state != "ready":
            return f"node {node['Description']['Hostname']} is {state}"
        return None

    async def ensure_server_network(self) -> None:
        try:
            await self.docker("inspect_network", self.server_network)
            return
        except NotFound:
            pass
        await self.docker(
            "create_network",
            self.server_network,
            driver="overlay",
            internal=not self.egress,
            attachable=True,  # the relay is a plain container
            labels={
                names.LABEL_SANDBOX: self.sandbox_name,
                names.LABEL_USER: self.user.name,
            },
        )

    async def start_relay(self) -> None:
        await self.remove_relay()  # one left by a hub that stopped
        server_socket = f"/sandbox/server/{self.socket_path.name}"
        hub = self.layout.hub_socket(self.sandbox_name).name
        registry = self.layout.registry_socket(self.sandbox_name).name
        command = [
            "python3",
            RELAY_SCRIPT,
            f"unix:{server_socket}=tcp:{self.object_name}:{SERVER_PORT}",
            f"tcp:0.0.0.0:{RELAY_HUB_PORT}=unix:/sandbox/hub/{hub}",
            f"tcp:0.0.0.0:{RELAY_REGISTRY_PORT}=unix:/sandbox/hub/{registry}",
        ]
        binds = {
            str(self.socket_folder): {"bind": "/sandbox/server", "mode": "rw"},
            str(self.layout.hub_sockets(self.sandbox_name)): {"bind": "/sandbox/hub", "mode": "ro"},
            self.relay_script: {"bind": RELAY_SCRIPT, "mode": "ro"},
        }
        host_config = self.client.create_host_config(
            binds=binds,
            network_mode=self.server_network,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            read_only=True,
            log_config={"type": "json-file", "config": dict(LOG_OPTIONS)},
            **RELAY_LIMITS,
        )
        networking = self.client.create_networking_config(
            {self.server_network: self.client.create_endpoint_config(aliases=[RELAY_ALIAS])}
        )
        create = {
            "image": self.image,
            "name": self.relay_name,
            "command": command,
            "user": f"{self.socket_owner}:{self.socket_owner}",
            "labels": {names.LABEL_SANDBOX: self.sandbox_name, names.LABEL_USER: self.user.name},
            "host_config": host_config,
            "networking_config": networking,
        }
        # many relays joining their overlay networks at once can time out in the
        # manager's network allocator ("attaching to network failed ... context
        # deadline exceeded"): a few at a time, and again after such a failure
        for attempt in range(1, RELAY_ATTEMPTS + 1):
            async with relay_starts():
                relay = await self.docker("create_container", **create)
                try:
                    await self.docker("start", relay["Id"])
                    return
                except APIError as exc:
                    if attempt == RELAY_ATTEMPTS:
                        raise
                    self.log.warning("relay of %s did not start (%s); again", self.user.name, exc)
                    await self.remove_relay()
            await asyncio.sleep(attempt)

    async def remove_relay(self) -> None:
        with contextlib.suppress(NotFound):
            await self.docker("remove_container", self.relay_name, force=True)

    async def remove_server_network(self) -> None:
        async with self.network_lock:
            await self._remove_server_network()

    async def _remove_server_network(self) -> None:
        # a removed service leaves its task on the network for a moment (and a
        # dead node's task until the node is removed: then the network stays
        # and the next start uses it again)
        for _ in range(30):
            try:
                await self.docker("remove_network", self.server_network)
                break
            except NotFound:
                return
            except APIError:
                await asyncio.sleep(0.5)
        else:
            self.log.warning("network %s in use; `sandbox down` removes it", self.server_network)
            return
        # the manager still lists a removed network for a moment, and a service
        # created on it then fails with "network not found"
        for _ in range(50):
            try:
                await self.docker("inspect_network", self.server_network)
            except NotFound:
                return
            await asyncio.sleep(0.1)
