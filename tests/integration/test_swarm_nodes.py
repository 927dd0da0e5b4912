"""`spawner: swarm` on a real two-node swarm (tests/swarmlab.py: one dockerd per
network namespace, 10.213.0.0/24): `up -i` labels the nodes that staged the
datasets, the hub on the manager places servers on either node, reaches each
only through its relay, a server on the worker reads its dataset and runs
code through the proxy, one user's server cannot reach another's, a dead
worker's server is marked stopped and starts again on a live node, and
`down` removes every service, relay and network."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

from sandbox.config.scaffold import scaffold
from tests.conftest import SANDBOX_BIN, keep_logs, require_chromium
from tests.e2e.browsing import log_in
from tests.hubclient import HubUser
from tests.swarmlab import SwarmLab, swarm_lab_fixture  # noqa: F401  (the swarm_lab fixture)

PORT = 18320
NAME = "nodes"
USERS = ("analyst1", "analyst2")


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("nodes")
    scaffold(root / "config", port=PORT)
    path = root / "config" / "sandbox.yaml"
    text = path.read_text().replace("spawner: docker", "spawner: swarm")
    text = text.replace("- name: first", f"- name: {NAME}")
    text = text.replace("network: {egress: true}", "network: {egress: false}")
    path.write_text(text.replace("members: [analyst1]", f"members: [{', '.join(USERS)}]"))
    return path


def sandbox(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SANDBOX_BIN, *args], env=env, capture_output=True, text=True, timeout=900
    )


@pytest.fixture(scope="module")
def notebook_image(config: Path) -> str:
    """The image `up` would build, on the host engine (the lab copies it)."""
    env = {**os.environ, "SANDBOX_CONFIG": str(config)}
    env["SANDBOX_STATE_DIR"] = str(config.parent.parent / "plan-state")
    plan = json.loads(sandbox(env, "plan", "--json").stdout)
    (image,) = [c["name"] for c in plan["sandboxes"][0]["changes"] if c["kind"] == "image"]
    if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode:
        # not built yet on this machine: the host's own `up` builds it
        docker_config = config.parent / "host.yaml"
        docker_config.write_text(config.read_text().replace("spawner: swarm", "spawner: docker"))
        host = {**env, "SANDBOX_CONFIG": str(docker_config)}
        built = sandbox(host, "up")
        sandbox(host, "down", "--purge", "--yes")
        assert built.returncode == 0, built.stdout + built.stderr
    return image


@pytest.fixture(scope="module")
def swarm_lab_options(notebook_image: str) -> dict:
    return {"nodes": 2, "images": ["sandbox-base:bookworm", notebook_image], "heartbeat": "2s"}


@pytest.fixture(scope="module")
def deployed(config: Path, swarm_lab: SwarmLab):
    root = config.parent.parent
    inventory = swarm_lab.inventory(root / "hosts.ini")
    env = {
        **os.environ,
        "SANDBOX_CONFIG": str(config),
        "SANDBOX_STATE_DIR": str(root / "state"),
        "DOCKER_HOST": swarm_lab.manager.host,
        "COLUMNS": "200",
    }
    up = sandbox(env, "up", "-i", str(inventory))
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        password = (root / f"state/sandboxes/{NAME}/hub/secrets/user_password").read_text()
        users = {u: HubUser(f"http://127.0.0.1:{PORT}", u, password.strip()) for u in USERS}
        yield swarm_lab, users, env, inventory, password.strip()
    finally:
        keep_logs(root / "state", root / "logs")
        down = sandbox(env, "down", "--purge", "--yes", "-i", str(inventory))
        print(down.stdout[-3000:], down.stderr[-3000:])


@contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM_FLAGS

    executable = require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def service(user: str) -> str:
    return f"sandbox-{NAME}-{user}"


def task_of(lab: SwarmLab, user: str) -> tuple[str, str]:
    """(node hostname, container id) of the user's running task."""
    task = lab.docker(
        1, "service", "ps", service(user), "--filter", "desired-state=running",
        "--format", "{{.Node}} {{.ID}}",
    ).split()  # fmt: skip
    node = task[0]
    index = int(node.removeprefix("sdn"))
    container = lab.docker(
        index, "ps", "-q", "--filter", f"label=com.docker.swarm.service.name={service(user)}"
    )
    return node, container


def test_nodes_are_labelled_and_servers_spread_over_them(deployed):
    lab, users, env, _, _ = deployed
    labels = [
        json.loads(lab.docker(1, "node", "inspect", node.name))[0]["Spec"]["Labels"]
        for node in lab.nodes
    ]
    key = f"org.data-sandbox.staged.{NAME}"
    assert all(key in each for each in labels) and labels[0][key] == labels[1][key]
    for user in users.values():
        assert user.login_status == 302
        user.spawn(timeout=240)
    placed = {user: task_of(lab, user)[0] for user in USERS}
    # swarm spreads the two servers: one of them runs on the worker
    assert sorted(placed.values()) == sorted(node.name for node in lab.nodes), placed
    # status shows the nodes and where each server runs
    status = sandbox(env, "status")
    assert status.returncode == 0, status.stdout + status.stderr
    for node in lab.nodes:
        assert f"node {node.name} ready, active, " in status.stdout, status.stdout
    assert status.stdout.count("datasets staged") == 2
    for user, node_name in placed.items():
        assert f"server of {user} runs on {node_name}" in status.stdout, status.stdout


def test_a_server_on_the_worker_reads_its_dataset_through_the_proxy(deployed):
    lab, users, _, _, password = deployed
    worker = lab.nodes[1].name
    (user,) = [u for u in USERS if task_of(lab, u)[0] == worker]
    client = users[user]
    lab_page = client.session.get(f"http://127.0.0.1:{PORT}/user/{user}/lab", timeout=30)
    assert lab_page.status_code == 200 and "JupyterLab" in lab_page.text
    node, container = task_of(lab, user)
    index = int(node.removeprefix("sdn"))
    head = lab.docker(index, "exec", container, "head", "-1", "/data/example-public/example.csv")
    assert head == "year,value"
    write = lab.docker_result(index, "exec", container, "touch", "/data/example-public/x")
    assert write.returncode != 0 and "Read-only file system" in write.stderr
    # the hub API answers the server through its relay (the server's own token)
    api = lab.docker(
        index, "exec", container, "python3", "-c",
        "import os, urllib.request; r = urllib.request.Request("
        "os.environ['JUPYTERHUB_API_URL'] + '/user', "
        "headers={'Authorization': 'token ' + os.environ['JUPYTERHUB_API_TOKEN']}); "
        "print(urllib.request.urlopen(r, timeout=10).status)",
    )  # fmt: skip
    assert api == "200"
    # the airlock cannot read a home on another node: the client sends the
    # file with the request (never a stale home of that name on the hub's node)
    asked = lab.docker_result(
        index, "exec", container, "sh", "-c",
        "mkdir -p ~/results && printf 'a,b\\n1,2\\n' > ~/results/t.csv && cd ~/results && "
        "sandbox-output request t.csv --why 'a table'",
    )  # fmt: skip
    assert asked.returncode == 0, asked.stdout + asked.stderr
    assert re.match(r"OUT-\d+: requested \((\w+) by the automatic checks\)", asked.stdout)
    # and in a real browser: log in, JupyterLab comes up through the proxy
    with chromium() as browser:
        page = browser.new_page()
        page.set_default_timeout(120_000)
        # the journeys' log_in: it submits once more if the proxy answered 503
        hub = SimpleNamespace(url=f"http://127.0.0.1:{PORT}", password=lambda _: password)
        log_in(page, hub, user, next_url=f"/user/{user}/lab")
        try:
            page.wait_for_selector("#jp-main-dock-panel")
        except Exception:
            print(f"--- the page at {page.url}:\n{page.inner_text('body')[:3000]}")
            raise
        assert page.url.startswith(f"http://127.0.0.1:{PORT}/user/{user}/lab")


PROBE = """
import socket, sys
for host, port in [(sys.argv[1], 8888), ("10.213.0.1", 2377), ("10.213.0.2", 2377),
                   ("hub", 8081)]:
    try:
        socket.create_connection((host, port), timeout=3).close()
        print(host, "open")
    except OSError as exc:
        print(host, type(exc).__name__)
"""


def test_one_users_server_cannot_reach_anothers_or_the_nodes(deployed):
    lab, _, _, _, _ = deployed
    (node_a, container_a), (node_b, container_b) = (task_of(lab, u) for u in USERS)
    # analyst2's address on its own network, as its relay sees it
    info = json.loads(lab.docker(int(node_b.removeprefix("sdn")), "inspect", container_b))[0]
    (address_b,) = [n["IPAddress"] for n in info["NetworkSettings"]["Networks"].values()]
    probe = lab.docker(
        int(node_a.removeprefix("sdn")), "exec", container_a, "python3", "-c", PROBE, address_b
    )
    lines = dict(line.split(" ", 1) for line in probe.splitlines())
    assert lines[address_b] != "open", probe  # another user's server: no route
    assert lines["10.213.0.1"] != "open" and lines["10.213.0.2"] != "open", probe  # the nodes
    assert lines["hub"] == "open", probe  # its own relay: the only way to the hub
    resolve = lab.docker_result(
        int(node_a.removeprefix("sdn")), "exec", container_a, "getent", "hosts", service(USERS[1])
    )
    assert resolve.returncode != 0  # the other server's name is unknown on this network


def test_a_dead_workers_server_is_stopped_and_starts_again_on_a_live_node(deployed):
    lab, users, _, _, _ = deployed
    worker = lab.nodes[1]
    (user,) = [u for u in USERS if task_of(lab, u)[0] == worker.name]
    lab.kill_node(worker.index)
    lab.wait_node_state(worker.index, "down", timeout=60)
    client = users[user]
    deadline = time.monotonic() + 90  # the hub polls every 30 s
    while time.monotonic() < deadline:
        if not client.api("GET", f"/users/{user}").json().get("servers"):
            break
        time.sleep(2)
    assert not client.api("GET", f"/users/{user}").json().get("servers"), "still running"
    client.spawn(timeout=240)
    assert task_of(lab, user)[0] == lab.nodes[0].name


def test_down_removes_every_service_relay_and_network(deployed, config: Path):
    lab, _, env, inventory, _ = deployed
    down = sandbox(env, "down", "--purge", "--yes", "-i", str(inventory))
    assert down.returncode == 0, down.stdout + down.stderr
    label = f"label=org.data-sandbox.sandbox={NAME}"
    assert not lab.docker(1, "service", "ls", "-q", "--filter", label)
    assert not lab.docker(1, "ps", "-aq", "--filter", label)
    assert not lab.docker(1, "network", "ls", "-q", "--filter", label)
