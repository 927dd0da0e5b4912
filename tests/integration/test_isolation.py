"""Isolation, attacked from inside the containers and from the host: each
analyst's server alone in its own network namespace (no network at all
without egress), reachable only through its own socket folder; kernels that no
one else can hear; host state no other user can read.

Traffic goes only to 127.0.0.1, to unix sockets, and between containers of a
sandbox these tests provision themselves."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import subprocess
import threading
from pathlib import Path

import pytest

from sandbox.config.scaffold import scaffold
from sandbox.host.layout import Layout
from tests.conftest import SANDBOX_BIN, Deployment, require_docker
from tests.hubclient import HubUser
from tests.kernelclient import KernelSession, execute, outputs

pytestmark = pytest.mark.docker


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check)


def python_in(container: str, script: str, timeout: float = 60) -> str:
    """Run a Python script as the container's user; its stdout."""
    done = subprocess.run(
        ["docker", "exec", "-i", container, "python", "-"],
        input=script,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def alice_and_bob(deployment: Deployment):
    users = {
        name: HubUser(deployment.url, name, deployment.password(name)) for name in ("alice", "bob")
    }
    for user in users.values():
        user.spawn()
    yield users
    for user in users.values():
        user.stop()


def container(deployment: Deployment, user: str) -> str:
    return f"sandbox-{deployment.name}-{user}"


def test_a_no_egress_container_has_no_network_but_its_own_loopback(
    deployment: Deployment, alice_and_bob
):
    canary = socket.socket()
    canary.bind(("127.0.0.1", 0))
    canary.listen()
    canary.setblocking(False)
    port = canary.getsockname()[1]
    try:
        found = json.loads(
            python_in(
                container(deployment, "alice"),
                f"""
import json, os, socket
result = {{"interfaces": sorted(os.listdir("/sys/class/net"))}}
with open("/proc/net/route") as routes:
    result["routes"] = routes.read().splitlines()[1:]
result["dns"] = []
for name in ("pypi.org", "example.com", "host.docker.internal"):
    try:
        socket.getaddrinfo(name, 443)
        result["dns"].append(name)
    except OSError:
        pass
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3).close()
    result["canary"] = "connected"
except OSError as error:
    result["canary"] = type(error).__name__
print(json.dumps(result))
""",
            )
        )
        assert found["interfaces"] == ["lo"]
        assert found["routes"] == []  # no default route, no route at all
        assert found["dns"] == []  # no name resolves
        assert found["canary"] == "ConnectionRefusedError"  # its own loopback, not the host's
        with pytest.raises(BlockingIOError):
            canary.accept()  # nothing ever reached the host's 127.0.0.1
    finally:
        canary.close()
    info = json.loads(docker("inspect", container(deployment, "alice")).stdout)[0]
    assert info["HostConfig"]["NetworkMode"] == "none"
    assert list(info["NetworkSettings"]["Networks"]) == ["none"]


def test_bob_cannot_hear_what_alice_kernel_prints(deployment: Deployment, alice_and_bob):
    """The attack of the isolation issue: bob subscribes to the IOPub channel
    of alice's kernel (no key is needed to listen) while she prints a row."""
    alice, bob = container(deployment, "alice"), container(deployment, "bob")
    token = alice_and_bob["alice"].api("POST", "/users/alice/tokens", json={}).json()["token"]
    session = KernelSession(deployment.url, "alice", token)
    kernel, _ = asyncio.run(execute(session, ["1"]))
    connection = json.loads(
        docker(
            "exec", alice, "sh", "-c", f"cat ~/.local/share/jupyter/runtime/kernel-{kernel}.json"
        ).stdout
    )
    assert connection["transport"] == "ipc"  # defence in depth: no TCP ports at all
    iopub = connection["iopub_port"]
    addresses = [f"ipc://{connection['ip']}-{iopub}", f"tcp://127.0.0.1:{iopub}"]
    heard: dict[str, str] = {}

    def listen() -> None:
        heard["bob"] = python_in(
            bob,
            f"""
import json, zmq
sub = zmq.Context().socket(zmq.SUB)
sub.setsockopt(zmq.SUBSCRIBE, b"")
sub.setsockopt(zmq.RCVTIMEO, 8000)
for address in {addresses!r}:
    sub.connect(address)
frames = []
try:
    while True:
        frames += sub.recv_multipart()
except zmq.Again:
    pass
print(json.dumps({{"frames": len(frames), "marker": any(b"MARKER" in f for f in frames)}}))
""",
        )

    listener = threading.Thread(target=listen)
    listener.start()
    code = "import time\nfor i in range(25):\n    print('MARKER woz row', i, flush=True)\n"
    code += "    time.sleep(0.2)"

    async def alice_prints() -> str:
        async with session.client() as http:
            return outputs((await session.run(http, kernel, [code]))[0])

    printed = asyncio.run(alice_prints())
    listener.join(timeout=60)
    assert printed.count("MARKER woz row") == 25  # alice's kernel did print
    assert json.loads(heard["bob"]) == {"frames": 0, "marker": False}


def test_bob_cannot_reach_alice_socket_folder(deployment: Deployment, alice_and_bob):
    layout = Layout(deployment.state)
    alice_folder = layout.user_sockets(deployment.name, "alice")
    inspect = json.loads(docker("inspect", container(deployment, "bob")).stdout)[0]
    sources = {m["Source"]: m for m in inspect["Mounts"]}
    assert str(alice_folder) not in sources
    own = sources[str(layout.user_sockets(deployment.name, "bob"))]
    assert own["Destination"] == "/sandbox/server" and own["RW"] is True
    hub = sources[str(layout.hub_sockets(deployment.name))]
    assert hub["Destination"] == "/sandbox/hub" and hub["RW"] is False
    tried = python_in(
        container(deployment, "bob"),
        f"""
import socket
for path in ({str(alice_folder / "jupyter.sock")!r}, "/sandbox/alice/jupyter.sock"):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        print("connected", path)
    except OSError as error:
        print(type(error).__name__)
""",
    )
    assert tried.split() == ["FileNotFoundError", "FileNotFoundError"]
    # on the host: alice's folder is hers (uid 1000) and 0700, inside a 0700 root folder
    mode = alice_folder.stat()
    assert (mode.st_uid, stat.S_IMODE(mode.st_mode)) == (1000, 0o700)
    assert stat.S_IMODE(alice_folder.parent.parent.stat().st_mode) == 0o700
    assert (alice_folder / "jupyter.sock").is_socket()


def test_container_runs_read_only_with_tmpfs_and_capped_logs(deployment: Deployment, alice_and_bob):
    name = container(deployment, "alice")
    host = json.loads(docker("inspect", name).stdout)[0]["HostConfig"]
    assert host["ReadonlyRootfs"] is True
    assert set(host["Tmpfs"]) == {"/tmp", "/var/tmp", "/run"}
    assert all("noexec" in opts and "size=" in opts for opts in host["Tmpfs"].values())
    assert host["LogConfig"] == {
        "Type": "json-file",
        "Config": {"max-file": "3", "max-size": "10m"},
    }
    assert host["NetworkMode"] != "host"
    writes = python_in(
        name,
        """
import os
for path in ("/etc/x", "/opt/sandbox/x", "/var/tmp/x", "/run/x", "/tmp/x", "/home/jovyan/x"):
    try:
        open(path, "w").close()
        os.unlink(path)
        print(path, "writable")
    except OSError as error:
        print(path, error.errno)
""",
    )
    states = dict(line.split() for line in writes.splitlines())
    assert states["/etc/x"] == states["/opt/sandbox/x"] == "30"  # EROFS
    assert states["/var/tmp/x"] == states["/tmp/x"] == "writable"
    assert states["/run/x"] == "13"  # EACCES: a tmpfs of root's, hiding the image's /run/lock
    assert states["/home/jovyan/x"] == "writable"
    setuid = docker("exec", name, "find", "/", "-xdev", "-type", "f", "-perm", "/6000", check=False)
    assert setuid.stdout == ""
    versions = python_in(
        name,
        "import importlib.metadata as m; print(m.version('pip'), m.version('setuptools'))",
    ).split()
    pip, setuptools = (tuple(int(p) for p in v.split(".")[:2]) for v in versions)
    assert pip >= (25, 3) and setuptools >= (80, 9)  # no known CVEs (pip<25.3, setuptools<78.1.1)


def test_host_state_is_private(deployment: Deployment, alice_and_bob):
    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    state = deployment.state
    assert mode(state) == 0o700
    for database in state.glob("registry.sqlite*"):
        assert mode(database) == 0o600, database
    hub = state / "sandboxes" / deployment.name / "hub"
    assert mode(hub) == 0o700
    assert mode(hub / "jupyterhub.sqlite") == 0o600
    assert mode(state / "datasets") == 0o700
    assert mode(state / "sockets") == 0o700
    staged = next((state / "datasets" / "woz-2024").glob("*/woz-2024.csv"))
    peek = subprocess.run(
        ["su", "-s", "/bin/sh", "nobody", "-c", f"head -2 {staged}"],
        capture_output=True,
        text=True,
    )
    assert peek.returncode != 0 and "Permission denied" in peek.stderr
    assert "," not in peek.stdout


# ------------------------------------------------------------- egress: true

OPEN_PORT = 18140
OPEN = "isolation-open"


@pytest.fixture(scope="module")
def open_sandbox(tmp_path_factory: pytest.TempPathFactory):
    """A tier-0 sandbox with egress: two analysts on its own bridge."""
    require_docker()
    root = tmp_path_factory.mktemp("open")
    scaffold(root / "config", port=OPEN_PORT)
    config = root / "config" / "sandbox.yaml"
    text = config.read_text().replace("- name: first", f"- name: {OPEN}")
    config.write_text(text.replace("members: [analyst1]", "members: [analyst1, analyst2]"))
    env = {**os.environ, "SANDBOX_CONFIG": str(config), "SANDBOX_STATE_DIR": str(root / "s")}

    def sandbox(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SANDBOX_BIN, *args], env=env, capture_output=True, text=True, timeout=900
        )

    up = sandbox("up")
    password = (root / f"s/sandboxes/{OPEN}/hub/secrets/user_password").read_text().strip()
    users = [HubUser(f"http://127.0.0.1:{OPEN_PORT}", f"analyst{i}", password) for i in (1, 2)]
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        for user in users:
            user.spawn()
        yield users
    finally:
        for user in users:
            user.stop()
        sandbox("down", "--purge", "--yes")


def test_egress_containers_share_a_bridge_but_never_reach_each_other(open_sandbox):
    network = json.loads(docker("network", "inspect", f"sandbox-{OPEN}").stdout)[0]
    assert network["Options"]["com.docker.network.bridge.enable_icc"] == "false"
    one, two = f"sandbox-{OPEN}-analyst1", f"sandbox-{OPEN}-analyst2"
    address = json.loads(docker("inspect", two).stdout)[0]["NetworkSettings"]["Networks"][
        f"sandbox-{OPEN}"
    ]["IPAddress"]
    assert address
    # analyst2 listens on every address of its own container
    docker(
        "exec", "-d", two, "python", "-c",
        "import socket,time; s=socket.socket(); s.bind(('0.0.0.0', 9999)); s.listen(); "
        "time.sleep(60)",
    )  # fmt: skip
    probe = """
import socket, sys, time
for _ in range(50):
    try:
        socket.create_connection(("127.0.0.1", 9999), timeout=1).close()
        print("listening")
        break
    except OSError:
        time.sleep(0.1)
"""
    assert python_in(two, probe) == "listening"
    tried = python_in(
        one,
        f"""
import socket
try:
    socket.create_connection(({address!r}, 9999), timeout=3).close()
    print("connected")
except OSError as error:
    print(type(error).__name__)
""",
    )
    assert tried in ("timeout", "TimeoutError")  # dropped: no traffic between containers
    # the hub reaches both servers through their sockets only
    lab = open_sandbox[0].session.get(f"http://127.0.0.1:{OPEN_PORT}/user/analyst1/lab")
    assert lab.status_code == 200
