"""A real multi-node Docker Swarm on this one machine, for tests.

Each node is a network namespace ``sdnI`` with its own ``dockerd`` (own data-root,
exec-root, unix socket, hostname and cgroup parent); the namespaces meet on a bridge
that lives in a namespace of its own (``sdbr``). Nothing is added to the host's
network, iptables or Docker engine: the host engine is only read (``docker save``).

    with SwarmLab() as lab:            # or lab.up(...) ... lab.down()
        lab.up(nodes=2, images=["sandbox-base:bookworm"])
        lab.docker(1, "node", "ls")    # the docker CLI against node 1 (the manager)
        lab.kill_node(2)               # SIGKILL node 2's dockerd: a dead machine
        lab.wait_node_state(2, "down", timeout=60)
        lab.inventory(path)            # Ansible INI: [managers] / [workers]

Tests take the module-scoped ``swarm_lab`` fixture (a lab that is up), imported as

    from tests.swarmlab import swarm_lab_fixture  # noqa: F401  (the swarm_lab fixture)

It skips locally with a loud reason without root, Docker or network namespaces, and
fails instead under SANDBOX_REQUIRE_DOCKER=1. A module chooses other arguments of
``SwarmLab.up`` with a module-scoped fixture ``swarm_lab_options``, e.g.

    @pytest.fixture(scope="module")
    def swarm_lab_options():
        return {"nodes": 3, "images": ["sandbox-base:bookworm", "sandbox-notebook:TAG"]}

Addresses, all inside namespaces the lab creates (project rule: tests send traffic
only to 127.0.0.1, unix sockets, or such addresses): node I is 10.213.0.I/24 on eth0
and no namespace has a default route; node I's local Docker networks come from
10.214.(16*I).0/20, swarm overlays from 10.215.0.0/16.

The kernel here has no IPVS: use ``--endpoint-mode dnsrr`` (no service VIPs, no
ingress routing mesh) and host-mode published ports.

Humans: ``python -m tests.swarmlab up [-n N] [--image IMG]`` leaves a lab running
(prints each node's DOCKER_HOST); ``python -m tests.swarmlab down`` removes a lab or
whatever a crashed run left behind (the next up removes a lab left running, too).
Runtime files live in /tmp/sdlab (gone after down); saved images (keyed by image ID),
the lock and the last run's logs stay in /tmp/sdlab-cache.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

LAB_DIR = Path("/tmp/sdlab")
CACHE_DIR = Path("/tmp/sdlab-cache")
IMAGE_CACHE = CACHE_DIR / "images"
LOCK_FILE = CACHE_DIR / "lab.lock"
LAST_RUN = CACHE_DIR / "last-run"
BRIDGE_NS = "sdbr"
NODE_NS_PREFIX = "sdn"
SUBNET = ipaddress.ip_network("10.213.0.0/24")
OVERLAY_POOL = "10.215.0.0/16"
LAB_SUPERNETS = [ipaddress.ip_network(n) for n in ("10.213.0.0/16", "10.214.0.0/16", OVERLAY_POOL)]
MAX_NODES = 15  # node pools 10.214.(16*I).0/20 for I = 1..15
DEFAULT_IMAGES = ("sandbox-base:bookworm",)
REQUIRED_TOOLS = ("ip", "nsenter", "unshare", "dockerd", "containerd", "docker", "umount")
# programs a lab runs; a process counts as ours only if one of these names our lab dir
LAB_PROGRAMS = {
    "dockerd",
    "containerd",
    "containerd-shim",
    "containerd-shim-runc-v1",
    "containerd-shim-runc-v2",
    "docker-proxy",
    "runc",
}
NETNS_DIR = Path("/run/netns")
CGROUP_ROOT = Path("/sys/fs/cgroup")
SHIM_SOCKETS = Path("/run/containerd/s")  # containerd's fixed root for shim sockets
NAMESPACE_NAME = re.compile(rf"^({BRIDGE_NS}|{NODE_NS_PREFIX}[0-9]+)$")


class SwarmLabError(RuntimeError):
    """The lab could not be brought up, driven or taken down."""


@dataclass
class Node:
    index: int  # 1-based; node 1 is the manager
    name: str  # network namespace, hostname and swarm node hostname
    address: str  # eth0 inside the namespace, also the swarm advertise address
    dir: Path
    node_id: str = ""  # swarm node ID, set once the node joined
    pid: int = 0  # dockerd
    killed: bool = False

    @property
    def role(self) -> str:
        return "manager" if self.index == 1 else "worker"

    @property
    def socket(self) -> Path:
        return self.dir / "docker.sock"

    @property
    def host(self) -> str:
        """DOCKER_HOST for this node's engine."""
        return f"unix://{self.socket}"

    @property
    def netns(self) -> Path:
        return NETNS_DIR / self.name

    @property
    def config(self) -> Path:
        return self.dir / "daemon.json"

    @property
    def cgroup_parent(self) -> str:
        return f"sdlab-n{self.index}"


def node_pool(index: int) -> str:
    return f"10.214.{16 * index}.0/20"


class StepLog:
    """Durations of the lab's steps, in ``timings`` and appended to a log file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.started = time.monotonic()
        self.timings: dict[str, float] = {}
        self._lock = threading.Lock()

    def write(self, message: str) -> None:
        line = f"[{time.monotonic() - self.started:8.2f}s] {message}\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as log:
                log.write(line)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        begun = time.monotonic()
        self.write(f"{name} ...")
        try:
            yield
        except BaseException as exc:
            self.write(f"{name} FAILED after {time.monotonic() - begun:.2f}s: {exc!r}")
            raise
        took = time.monotonic() - begun
        with self._lock:
            self.timings[name] = took
        self.write(f"{name}: {took:.2f}s")


def _run(
    *cmd: str, timeout: float = 120, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        raise SwarmLabError(f"{' '.join(cmd)} took more than {timeout:.0f}s") from exc
    if check and result.returncode != 0:
        raise SwarmLabError(
            f"{' '.join(cmd)} failed ({result.returncode}): {result.stderr.strip()}"
            f"{' ' + result.stdout.strip() if result.stdout.strip() else ''}"
        )
    return result


def _docker_env() -> dict[str, str]:
    """The environment for a docker CLI aimed with -H: no context or TLS of the caller's."""
    drop = ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")
    return {k: v for k, v in os.environ.items() if k not in drop}


def _ping(path: Path) -> bool:
    """Whether a Docker engine answers on the unix socket ``path`` (GET /_ping)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(2)
            conn.connect(str(path))
            conn.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            answer = b""
            while chunk := conn.recv(4096):
                answer += chunk
    except OSError:
        return False
    return answer.startswith(b"HTTP/1.") and b" 200 " in answer.split(b"\r\n", 1)[0]


class SwarmLab:
    """A multi-node Docker Swarm of network namespaces on this machine; see the module doc."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.images: list[str] = []
        self.log = StepLog(LAB_DIR / "lab.log")
        self._lock_fd: int | None = None
        self._daemons: dict[int, subprocess.Popen[bytes]] = {}

    # --- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> SwarmLab:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.down()

    @property
    def timings(self) -> dict[str, float]:
        return self.log.timings

    def up(
        self,
        nodes: int = 2,
        images: Sequence[str] = DEFAULT_IMAGES,
        heartbeat: str | None = None,
        lock_timeout: float = 1800,
    ) -> SwarmLab:
        """Bring up ``nodes`` engines in a swarm (node 1 manages, the rest work), each
        holding ``images`` from the host engine. ``heartbeat`` (e.g. "2s") replaces
        swarm's 5 s dispatcher heartbeat; a dead node turns Down after about three of them.
        Waits up to ``lock_timeout`` for another lab on this machine to end. On failure it
        tears down what it made and raises."""
        if not 1 <= nodes <= MAX_NODES:
            raise SwarmLabError(f"nodes must be 1..{MAX_NODES}, not {nodes}")
        if self.nodes:
            raise SwarmLabError("this lab is already up; call down() first")
        self._take_lock(lock_timeout)
        try:
            begun = time.monotonic()
            down_leftovers()  # a crashed run's own log goes to LAST_RUN first
            self.log = StepLog(LAB_DIR / "lab.log")
            self.log.timings["leftovers"] = time.monotonic() - begun
            self.log.write(f"leftovers of earlier runs: {self.log.timings['leftovers']:.2f}s")
            self.log.write(f"up: {nodes} nodes, images {list(images)}")
            with self.log.step("up"):
                self._up(nodes, list(images), heartbeat)
        except BaseException as failure:
            try:
                self.down()
            except Exception as cleanup:
                failure.add_note(f"and tearing the lab down failed too: {cleanup}")
            raise
        return self

    def _up(self, count: int, images: list[str], heartbeat: str | None) -> None:
        self.images = images
        with self.log.step("host subnets checked"):
            _check_host_subnets()
        LAB_DIR.mkdir(parents=True, exist_ok=True)
        self.nodes = [
            Node(i, f"{NODE_NS_PREFIX}{i}", str(SUBNET[i]), LAB_DIR / f"n{i}")
            for i in range(1, count + 1)
        ]
        ids = _run("docker", "image", "inspect", "--format", "{{.Id}}", *images).stdout.split()
        names: dict[str, list[str]] = {}  # image ID -> its names among ``images``
        for image, image_id in zip(images, ids, strict=True):
            names.setdefault(image_id, []).append(image)
        _prune_image_cache()
        with ThreadPoolExecutor(max_workers=max(4, 2 * count)) as pool:
            saved = {
                image_id: pool.submit(self._save, image_id, names[image_id]) for image_id in names
            }
            with self.log.step("network"):
                self._network()
            with self.log.step("dockerds"):
                self._start_daemons()
            loads = [
                pool.submit(self._load, node, saved[image_id], names[image_id])
                for node in self.nodes
                for image_id in names
            ]
            with self.log.step("swarm"):
                self._swarm(heartbeat)
            with self.log.step("images in every node"):
                for load in loads:
                    load.result()
        self.log.write(
            "nodes: "
            + ", ".join(f"{n.name} {n.address} pid {n.pid} id {n.node_id}" for n in self.nodes)
        )

    def down(self, clear_image_cache: bool = False) -> None:
        """Remove everything the lab made; keeps the image cache unless asked. Safe to
        call twice, after a failed up, or on a lab whose nodes were killed."""
        if self._lock_fd is None and not self.nodes:
            return
        if self._lock_fd is None:
            self._take_lock(60)
        try:
            with self.log.step("down"):
                down_leftovers(self.log, clear_image_cache=clear_image_cache)
            for proc in self._daemons.values():
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5)
            self._daemons.clear()
            self.nodes = []
        finally:
            self._release_lock()

    def _take_lock(self, timeout: float) -> None:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise SwarmLabError(
                        f"another swarm lab (pid {_lock_holder()}) holds {LOCK_FILE} "
                        f"for more than {timeout:.0f}s"
                    ) from None
                time.sleep(1)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing drops the flock
            self._lock_fd = None

    # --- steps of up -----------------------------------------------------------------

    def _network(self) -> None:
        """The bridge in its own namespace, one veth into each node's namespace."""
        commands = [
            f"netns add {BRIDGE_NS}",
            f"-n {BRIDGE_NS} link set lo up",
            f"-n {BRIDGE_NS} link add br0 type bridge",
            f"-n {BRIDGE_NS} link set br0 up",
        ]
        for node in self.nodes:
            port = f"vn{node.index}"
            commands += [
                f"netns add {node.name}",
                f"-n {BRIDGE_NS} link add {port} type veth peer name eth0 netns {node.name}",
                f"-n {BRIDGE_NS} link set {port} master br0 up",
                f"-n {node.name} link set lo up",
                f"-n {node.name} addr add {node.address}/{SUBNET.prefixlen} dev eth0",
                f"-n {node.name} link set eth0 up",
            ]
        for command in commands:
            _run("ip", *command.split())

    def _start_daemons(self) -> None:
        env = {**_docker_env(), "DOCKER_SERVICE_PREFER_OFFLINE_IMAGE": "1"}
        for node in self.nodes:
            node.dir.mkdir(parents=True, exist_ok=True)
            settings = {
                "data-root": str(node.dir / "data"),
                "exec-root": str(node.dir / "exec"),
                "pidfile": str(node.dir / "docker.pid"),
                "hosts": [node.host],
                "deprecated-key-path": str(node.dir / "key.json"),
                "bridge": "none",
                "storage-driver": "overlay2",
                "cgroup-parent": f"/{node.cgroup_parent}",
                "default-address-pools": [{"base": node_pool(node.index), "size": 24}],
                # if a system containerd ever answers, the nodes share it: keep them apart there
                "containerd-namespace": f"sdlab-n{node.index}",
                "containerd-plugins-namespace": f"sdlab-n{node.index}-plugins",
                "userland-proxy": False,
                "live-restore": False,
                "log-level": "info",
            }
            node.config.write_text(json.dumps(settings, indent=2) + "\n")
            # nsenter --net, not `ip netns exec`: that remounts /sys and hides the cgroup-v1
            # mounts dockerd needs. unshare --uts gives the node its own hostname. Neither
            # forks, so the pid we get is dockerd's.
            with (node.dir / "dockerd.log").open("ab") as out:
                proc = subprocess.Popen(
                    [
                        "nsenter",
                        f"--net={node.netns}",
                        "unshare",
                        "--uts",
                        "sh",
                        "-c",
                        f'hostname {node.name} && exec dockerd --config-file "{node.config}"',
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                )
            self._daemons[node.index] = proc
            node.pid = proc.pid
        deadline = time.monotonic() + 90
        for node in self.nodes:
            proc = self._daemons[node.index]
            while not _ping(node.socket):
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = (node.dir / "dockerd.log").read_text(errors="replace")[-2000:]
                    state = "exited" if proc.returncode is not None else "did not answer"
                    raise SwarmLabError(f"dockerd of {node.name} {state}:\n{tail}")
                time.sleep(0.1)

    def _save(self, image_id: str, names: list[str]) -> Path:
        """The image's tar in the cache, made by `docker save` on the host engine unless
        a tar of that image ID is there already."""
        tar = IMAGE_CACHE / f"{image_id.removeprefix('sha256:')}.tar"
        if tar.exists():
            self.log.write(f"image {', '.join(names)} ({tar.stem[:12]}) cached")
            return tar
        IMAGE_CACHE.mkdir(parents=True, exist_ok=True)
        part = tar.with_suffix(".part")
        with self.log.step(f"save {', '.join(names)}"):
            # by ID, so one tar serves every name of it; the nodes tag it after loading
            _run("docker", "save", "-o", str(part), image_id, timeout=900)
            part.replace(tar)
        return tar

    def _load(self, node: Node, saved: Future[Path], names: list[str]) -> None:
        tar = saved.result()
        image_id = f"sha256:{tar.stem}"
        have = self.docker_result(node, "image", "inspect", "--format", "{{.Id}}", image_id)
        if have.returncode != 0:
            with self.log.step(f"load {', '.join(names)} into {node.name}"):
                self.docker(node, "load", "-q", "-i", str(tar), timeout=900)
        for name in names:
            self.docker(node, "tag", image_id, name)

    def _swarm(self, heartbeat: str | None) -> None:
        manager, workers = self.nodes[0], self.nodes[1:]
        self.docker(
            manager,
            "swarm",
            "init",
            *(["--dispatcher-heartbeat", heartbeat] if heartbeat else []),
            "--advertise-addr",
            manager.address,
            "--listen-addr",
            f"{manager.address}:2377",
            "--default-addr-pool",
            OVERLAY_POOL,
            "--default-addr-pool-mask-length",
            "24",
        )
        token = self.docker(manager, "swarm", "join-token", "-q", "worker")
        with ThreadPoolExecutor(max_workers=max(1, len(workers))) as pool:
            joins = [pool.submit(self._join, worker, token, manager) for worker in workers]
            for join in joins:
                join.result()
        for node in self.nodes:
            node.node_id = self.docker(node, "info", "--format", "{{.Swarm.NodeID}}")
        deadline = time.monotonic() + 60
        while True:
            states = self.docker(manager, "node", "ls", "--format", "{{.ID}} {{.Status}}")
            ready = {line.split()[0] for line in states.splitlines() if line.endswith(" Ready")}
            if ready >= {node.node_id for node in self.nodes}:
                return
            if time.monotonic() > deadline:
                raise SwarmLabError(f"nodes not all Ready after 60s:\n{states}")
            time.sleep(0.3)

    def _join(self, worker: Node, token: str, manager: Node) -> None:
        args = (
            "swarm",
            "join",
            "--advertise-addr",
            worker.address,
            "--listen-addr",
            f"{worker.address}:2377",
            "--token",
            token,
            f"{manager.address}:2377",
        )
        try:
            self.docker(worker, *args)
        except SwarmLabError as first:
            # a join right after init can meet a manager still electing itself leader
            self.log.write(f"join of {worker.name} failed once, again: {first}")
            time.sleep(2)
            self.docker(worker, *args)

    # --- driving the lab -------------------------------------------------------------

    def node(self, node: int | Node) -> Node:
        if isinstance(node, Node):
            return node
        if not 1 <= node <= len(self.nodes):
            raise SwarmLabError(f"no node {node}: the lab has {len(self.nodes)}")
        return self.nodes[node - 1]

    @property
    def manager(self) -> Node:
        return self.node(1)

    def docker_result(
        self, node: int | Node, *args: str, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """The docker CLI against ``node``'s engine; any exit code."""
        target = self.node(node)
        return _run(
            "docker", "-H", target.host, *args, timeout=timeout, check=False, env=_docker_env()
        )

    def docker(self, node: int | Node, *args: str, timeout: float = 120) -> str:
        """The docker CLI against ``node``'s engine; its stdout, stripped. Raises
        SwarmLabError (with stderr) when it fails."""
        target = self.node(node)
        return _run(
            "docker", "-H", target.host, *args, timeout=timeout, env=_docker_env()
        ).stdout.strip()

    def env(self, node: int | Node) -> dict[str, str]:
        """os.environ with DOCKER_HOST aimed at ``node``'s engine, for a subprocess."""
        return {**_docker_env(), "DOCKER_HOST": self.node(node).host}

    def in_node(
        self, node: int | Node, *cmd: str, timeout: float = 60, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run ``cmd`` in ``node``'s network namespace (e.g. to reach a host-mode port)."""
        target = self.node(node)
        return _run("nsenter", f"--net={target.netns}", *cmd, timeout=timeout, check=check)

    def kill_node(self, node: int | Node) -> None:
        """SIGKILL the node's dockerd, as if the machine died; its containers keep running
        until down()."""
        target = self.node(node)
        proc = self._daemons.get(target.index)
        if proc is None or proc.poll() is not None:
            raise SwarmLabError(f"dockerd of {target.name} is not running")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        target.killed = True
        self.log.write(f"killed dockerd of {target.name} (pid {target.pid})")

    def node_state(self, node: int | Node) -> str:
        """The node's state as the manager sees it: ready, down, unknown, disconnected."""
        target = self.node(node)
        return self.docker(
            self.manager, "node", "inspect", "--format", "{{.Status.State}}", target.node_id
        )

    def wait_node_state(self, node: int | Node, state: str, timeout: float = 60) -> float:
        """Wait until the manager reports ``state`` for the node; returns the seconds waited."""
        target = self.node(node)
        if self.manager.killed:
            raise SwarmLabError("the manager is killed: nobody can tell the node's state")
        begun = time.monotonic()
        seen = ""
        while time.monotonic() - begun < timeout:
            seen = self.node_state(target)
            if seen == state:
                took = time.monotonic() - begun
                self.log.write(f"{target.name} is {state} after {took:.1f}s")
                return took
            time.sleep(0.25)
        raise SwarmLabError(f"{target.name} is {seen!r}, not {state!r}, after {timeout:.0f}s")

    def inventory(self, path: Path | str, python: str = sys.executable) -> Path:
        """An Ansible INI inventory of the lab: every node runs locally
        (ansible_connection=local); ``sandbox_docker_host`` names its engine,
        ``host_tools_venv`` the project's venv on it (in the lab's folder, one
        for all nodes: they share this machine's filesystem)."""
        path = Path(path)

        def line(node: Node) -> str:
            return (
                f"{node.name} ansible_connection=local ansible_python_interpreter={python} "
                f"sandbox_docker_host={node.host} sandbox_node_address={node.address} "
                f"host_tools_venv={LAB_DIR / 'venv'}"
            )

        managers = [line(n) for n in self.nodes if n.role == "manager"]
        workers = [line(n) for n in self.nodes if n.role == "worker"]
        path.write_text(
            "[managers]\n"
            + "".join(f"{m}\n" for m in managers)
            + "\n[workers]\n"
            + "".join(f"{w}\n" for w in workers)
        )
        return path


# --- finding and removing what a lab made --------------------------------------------


def _check_host_subnets() -> None:
    """The lab's ranges must not be a host Docker network's (read-only look)."""
    ids = _run("docker", "network", "ls", "-q").stdout.split()
    if not ids:
        return
    subnets = _run(
        "docker",
        "network",
        "inspect",
        "--format",
        "{{.Name}} {{range .IPAM.Config}}{{.Subnet}} {{end}}",
        *ids,
        check=False,  # a network removed meanwhile by someone else
    ).stdout
    for line in subnets.splitlines():
        name, *nets = line.split()
        for net in nets:
            with contextlib.suppress(ValueError):
                subnet = ipaddress.ip_network(net, strict=False)
                if any(subnet.overlaps(ours) for ours in LAB_SUPERNETS):
                    raise SwarmLabError(
                        f"host Docker network {name} ({subnet}) overlaps the swarm lab's "
                        f"{', '.join(map(str, LAB_SUPERNETS))}"
                    )


def _prune_image_cache() -> None:
    """Drop cached tars of image IDs the host engine no longer has (an image rebuilt),
    and halves of tars an interrupted save left."""
    for tar in IMAGE_CACHE.glob("*.tar"):
        gone = _run("docker", "image", "inspect", f"sha256:{tar.stem}", check=False)
        if gone.returncode != 0:
            tar.unlink(missing_ok=True)
    for part in IMAGE_CACHE.glob("*.part"):
        part.unlink(missing_ok=True)


def _lock_holder() -> str:
    try:
        return LOCK_FILE.read_text().strip() or "?"
    except OSError:
        return "?"


def _namespaces() -> list[str]:
    try:
        return sorted(n for n in os.listdir(NETNS_DIR) if NAMESPACE_NAME.match(n))
    except FileNotFoundError:
        return []


def _cgroup_dirs() -> list[Path]:
    """Cgroups made through the nodes' cgroup-parent (v1 controllers, unified, or v2)."""
    return sorted(CGROUP_ROOT.glob("*/sdlab-n[0-9]*")) + sorted(CGROUP_ROOT.glob("sdlab-n[0-9]*"))


def _mounts() -> list[str]:
    """Mount points at or under the lab dir, most recent first."""
    points = []
    with open("/proc/self/mountinfo") as info:
        for line in info:
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), line.split()[4])
            if point == str(LAB_DIR) or point.startswith(f"{LAB_DIR}/"):
                points.append(point)
    return points[::-1]


def _alive(pid: int) -> bool:
    """Running and not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _lab_processes() -> dict[int, str]:
    """Live processes of a lab, with their command lines: lab programs whose command line
    names the lab dir, anything inside the lab's namespaces, anything in its cgroups."""
    spare = {os.getpid()}
    parent = os.getpid()
    while parent > 1:  # never ourselves or whoever started us, wherever they run
        try:
            parent = int(Path(f"/proc/{parent}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        spare.add(parent)
    netns_ids: set[str] = set()
    for name in _namespaces():
        with contextlib.suppress(OSError):
            netns_ids.add(f"net:[{os.stat(NETNS_DIR / name).st_ino}]")
    in_cgroups: set[int] = set()
    for top in _cgroup_dirs():
        for directory, _, files in os.walk(top):
            if "cgroup.procs" in files:
                with contextlib.suppress(OSError):
                    text = Path(directory, "cgroup.procs").read_text()
                    in_cgroups.update(int(pid) for pid in text.split())
    found: dict[int, str] = {}
    lab = f"{LAB_DIR}/"
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in spare:
            continue
        pid = int(entry)
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            cmdline = " ".join(a.decode(errors="replace") for a in argv if a)
            netns = os.readlink(f"/proc/{pid}/ns/net")
        except OSError:
            continue
        program = os.path.basename(argv[0].decode(errors="replace")) if argv else ""
        ours = (program in LAB_PROGRAMS and lab in cmdline) or netns in netns_ids
        if (ours or pid in in_cgroups) and _alive(pid):
            found[pid] = cmdline
    return found


def _shim_socket(cmdline: str) -> Path | None:
    """The socket containerd gave a shim: /run/containerd/s/sha256(address/namespace/id)."""
    args = cmdline.split()
    try:
        address = args[args.index("-address") + 1]
        namespace = args[args.index("-namespace") + 1]
        shim_id = args[args.index("-id") + 1]
    except (ValueError, IndexError):
        return None
    key = os.path.join(address, namespace, shim_id)
    return SHIM_SOCKETS / hashlib.sha256(key.encode()).hexdigest()


def _kill_lab_processes(log: StepLog) -> None:
    deadline = time.monotonic() + 20
    while processes := _lab_processes():
        if time.monotonic() > deadline:
            raise SwarmLabError(f"lab processes survive SIGKILL: {processes}")
        for pid, cmdline in processes.items():
            log.write(f"kill {pid}: {cmdline[:160]}")
            shim = _shim_socket(cmdline) if "containerd-shim" in cmdline else None
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            if shim is not None and str(LAB_DIR) in cmdline:
                shim.unlink(missing_ok=True)
        time.sleep(0.1)


def _unmount_all() -> None:
    for _ in range(5):
        points = _mounts()
        if not points:
            return
        for point in points:
            if _run("umount", point, check=False).returncode != 0:
                _run("umount", "-l", point, check=False)
    if _mounts():
        raise SwarmLabError(f"still mounted under {LAB_DIR}: {_mounts()}")


def _remove_cgroups() -> None:
    deadline = time.monotonic() + 10
    while dirs := _cgroup_dirs():
        for top in dirs:
            for directory, _, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):
                with contextlib.suppress(OSError):
                    os.rmdir(directory)
        if time.monotonic() > deadline:
            raise SwarmLabError(f"cgroups cannot be removed: {_cgroup_dirs()}")
        if _cgroup_dirs():
            time.sleep(0.1)


def down_leftovers(log: StepLog | None = None, clear_image_cache: bool = False) -> None:
    """Remove whatever a lab (this one or a crashed run) left: its processes (dockerd,
    containerd, shims, containers: by lab-dir command line, namespace and cgroup), mounts
    under the lab dir, its namespaces, cgroups and the lab dir, whose logs it copies to
    LAST_RUN first. The host engine, host iptables and host network are not touched.
    Callers should hold the lab lock (SwarmLab.up and down do)."""
    log = log or StepLog(LAB_DIR / "lab.log")
    for trash in CACHE_DIR.glob("trash-*"):
        # a lab dir moved aside by an earlier down; a detached rm still works on a fresh one
        moved_at = int(trash.name.rsplit("-", 1)[-1]) / 1e9 if trash.name[-1].isdigit() else 0
        if time.time() - moved_at > 600:
            _run("rm", "-rf", "--one-file-system", str(trash), check=False, timeout=600)
    if LAB_DIR.exists() or _namespaces() or _cgroup_dirs() or _lab_processes() or _mounts():
        _remove_lab(log)
    if clear_image_cache:
        shutil.rmtree(IMAGE_CACHE, ignore_errors=True)


def _remove_lab(log: StepLog) -> None:
    with log.step("kill lab processes"):
        _kill_lab_processes(log)
    with log.step("unmount"):
        _unmount_all()
    with log.step("delete namespaces"):
        for name in _namespaces():
            if _run("ip", "netns", "del", name, check=False).returncode != 0:
                log.write(f"ip netns del {name} failed; unmounting and removing it")
                _run("umount", "-l", str(NETNS_DIR / name), check=False)
                (NETNS_DIR / name).unlink(missing_ok=True)
    with log.step("remove cgroups"):
        _remove_cgroups()
    if _mounts():  # never let rmtree walk into something mounted
        raise SwarmLabError(f"still mounted under {LAB_DIR}: {_mounts()}")
    if LAB_DIR.exists():
        shutil.rmtree(LAST_RUN, ignore_errors=True)
        LAST_RUN.mkdir(parents=True, exist_ok=True)
        for kept in [LAB_DIR / "lab.log", *LAB_DIR.glob("n*/dockerd.log")]:
            if kept.exists():
                name = kept.name if kept.parent == LAB_DIR else f"{kept.parent.name}-{kept.name}"
                shutil.copyfile(kept, LAST_RUN / name)
    log.path = LAST_RUN / "lab.log"  # the rest of this run's log, beside the copy
    with log.step("remove lab dir"):
        # Removing the nodes' image layers takes seconds: the lab dir moves aside at once
        # and a detached rm deletes it; the next up removes any such trash still there.
        trash = CACHE_DIR / f"trash-{os.getpid()}-{time.time_ns()}"
        try:
            LAB_DIR.rename(trash)
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.write(f"cannot move {LAB_DIR} aside ({exc}); removing it in place")
            _run("rm", "-rf", "--one-file-system", str(LAB_DIR), check=False, timeout=600)
        else:
            detached_rm = 'setsid rm -rf --one-file-system "$1" >/dev/null 2>&1 &'
            _run("sh", "-c", detached_rm, "sh", str(trash))
    if LAB_DIR.exists():
        raise SwarmLabError(f"{LAB_DIR} could not be removed")


def leftovers() -> list[str]:
    """What a lab left on this machine; empty after a clean down."""
    found = [f"namespace {n}" for n in _namespaces()]
    found += [f"process {pid}: {cmd[:120]}" for pid, cmd in _lab_processes().items()]
    found += [f"mount {m}" for m in _mounts()]
    found += [f"cgroup {c}" for c in _cgroup_dirs()]
    if LAB_DIR.exists():
        found.append(f"directory {LAB_DIR}")
    return found


# --- pytest ----------------------------------------------------------------------------


def require_lab(images: Sequence[str] = DEFAULT_IMAGES) -> None:
    """Skip (locally) or fail (SANDBOX_REQUIRE_DOCKER=1) when the lab cannot run here."""
    from tests.conftest import _missing, require_docker

    if not sys.platform.startswith("linux"):
        _missing("the swarm lab needs Linux network namespaces")
    if os.geteuid() != 0:
        _missing("the swarm lab needs root (network namespaces, a dockerd per node)")
    absent = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if absent:
        _missing(f"the swarm lab needs {', '.join(absent)} in PATH")
    require_docker()
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        _missing(f"cannot create a network namespace: {probe.stderr.strip()}")
    for image in images:
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode:
            _missing(f"image {image} is not on the host Docker engine (make images builds it)")


@pytest.fixture(scope="module", name="swarm_lab")
def swarm_lab_fixture(request: pytest.FixtureRequest) -> Iterator[SwarmLab]:
    """A swarm lab that is up for the test module; taken down after its last test.
    Arguments of SwarmLab.up come from the module's ``swarm_lab_options`` fixture if it
    has one (default: 2 nodes holding sandbox-base:bookworm)."""
    try:
        options = dict(request.getfixturevalue("swarm_lab_options"))
    except pytest.FixtureLookupError:
        options = {}
    images = list(options.pop("images", DEFAULT_IMAGES))
    require_lab(images)
    lab = SwarmLab()
    try:
        lab.up(images=images, **options)
    except SwarmLabError as exc:
        pytest.fail(f"swarm lab did not come up: {exc}\n(logs: {LAST_RUN})", pytrace=False)
    try:
        yield lab
    finally:
        lab.down()


# --- command line ----------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.swarmlab",
        description="A multi-node Docker Swarm on this machine, for tests.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="bring a lab up and leave it running")
    up.add_argument("-n", "--nodes", type=int, default=2)
    up.add_argument("--image", action="append", help="image to copy (repeatable)")
    down = commands.add_parser("down", help="remove a lab or a crashed run's leftovers")
    down.add_argument("--clear-image-cache", action="store_true")
    down.add_argument(
        "--force", action="store_true", help="even while another process holds the lab"
    )
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("the swarm lab needs root", file=sys.stderr)
        return 2
    lab = SwarmLab()
    if args.command == "up":
        try:
            lab.up(nodes=args.nodes, images=args.image or DEFAULT_IMAGES, lock_timeout=0)
        except SwarmLabError as exc:
            print(f"swarm lab: {exc}\n(logs: {LAST_RUN})", file=sys.stderr)
            return 1
        lab.inventory(LAB_DIR / "hosts.ini")
        for node in lab.nodes:
            print(f"{node.name} {node.role:7} {node.address:12} DOCKER_HOST={node.host}")
        print(f"inventory: {LAB_DIR / 'hosts.ini'}; log: {LAB_DIR / 'lab.log'}")
        print(", ".join(f"{k} {v:.1f}s" for k, v in lab.timings.items()))
        return 0
    try:
        lab._take_lock(0)
    except SwarmLabError as exc:
        if not args.force:
            print(f"{exc}; --force removes it anyway", file=sys.stderr)
            return 1
    try:
        down_leftovers(lab.log, clear_image_cache=args.clear_image_cache)
    finally:
        lab._release_lock()
    remaining = leftovers()
    for item in remaining:
        print(f"left: {item}", file=sys.stderr)
    return 1 if remaining else 0


if __name__ == "__main__":
    sys.exit(main())
