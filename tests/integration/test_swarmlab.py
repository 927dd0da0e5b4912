"""The swarm lab of tests/swarmlab.py on a real machine: two dockerds in network
namespaces form a swarm, a dnsrr service runs one task on each node, a container on
node 1 reaches the task on node 2 over an attachable overlay, a killed node turns Down
on the manager, and down() leaves nothing behind. All traffic stays on 10.213.0.0/24
and the lab's overlay (10.215.0.0/16), inside namespaces the lab made."""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.swarmlab import (
    LAB_DIR,
    OVERLAY_POOL,
    SwarmLab,
    leftovers,
    swarm_lab_fixture,  # noqa: F401  (the swarm_lab fixture)
)

pytestmark = pytest.mark.docker

IMAGE = "sandbox-base:bookworm"
NETWORK = "smoke"
SERVICE = "web"
# each task serves a file naming the node it runs on
SERVE_NODE_NAME = (
    "mkdir /srv/w && hostname > /srv/w/node && cd /srv/w && exec python3 -m http.server 8000"
)
# in a container on the overlay: the address must be one of the service's tasks (dnsrr
# answers tasks.SERVICE with every task's address); print what that task serves
FETCH = """
import socket, sys, time, urllib.request
ip, service = sys.argv[1:]
answers = socket.getaddrinfo(f"tasks.{service}", 8000, proto=socket.IPPROTO_TCP)
tasks = {a[4][0] for a in answers}
assert ip in tasks, (ip, tasks)
for _ in range(50):
    try:
        print(urllib.request.urlopen(f"http://{ip}:8000/node", timeout=3).read().decode().strip())
        break
    except OSError:
        time.sleep(0.2)
else:
    raise SystemExit(f"no answer from {ip}")
"""


@pytest.fixture(scope="module")
def swarm_lab_options():
    # a heartbeat each 2 s, not 5: a dead node turns Down after ~6 s, not ~13
    return {"nodes": 2, "images": [IMAGE], "heartbeat": "2s"}


def run(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


def test_two_nodes_form_a_swarm(swarm_lab: SwarmLab, tmp_path: Path):
    lab = swarm_lab
    rows = lab.docker(1, "node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.ID}}")
    assert sorted(rows.splitlines()) == [
        f"sdn1 Ready {lab.nodes[0].node_id}",
        f"sdn2 Ready {lab.nodes[1].node_id}",
    ]
    assert lab.docker(2, "info", "--format", "{{.Swarm.ControlAvailable}}") == "false"
    for node in lab.nodes:
        assert (node.dir / "docker.pid").read_text().strip() == str(node.pid)
        assert lab.docker(node, "image", "ls", "-q", IMAGE), f"{IMAGE} missing on {node.name}"
    # the inventory Ansible reads names each node's own engine
    ansible_inventory = str(Path(sys.executable).parent / "ansible-inventory")
    hosts = lab.inventory(tmp_path / "hosts.ini")
    listed = run(ansible_inventory, "-i", str(hosts), "--list")
    inventory = json.loads(listed)
    assert inventory["managers"]["hosts"] == ["sdn1"]
    assert inventory["workers"]["hosts"] == ["sdn2"]
    engine = inventory["_meta"]["hostvars"]["sdn2"]["sandbox_docker_host"]
    assert run("docker", "-H", engine, "info", "--format", "{{.Name}}") == "sdn2"


def test_a_dnsrr_service_spreads_and_its_overlay_crosses_nodes(swarm_lab: SwarmLab):
    lab = swarm_lab
    lab.docker(1, *f"network create --driver overlay --attachable {NETWORK}".split())
    create = (
        f"service create --detach --no-resolve-image --name {SERVICE} --network {NETWORK}"
        " --endpoint-mode dnsrr --replicas 2 --placement-pref spread=node.id"
        " --replicas-max-per-node 1 --hostname {{.Node.Hostname}}"
    )
    lab.docker(1, *create.split(), IMAGE, "sh", "-c", SERVE_NODE_NAME)
    deadline = time.monotonic() + 60
    while True:
        tasks = lab.docker(
            1, *f"service ps {SERVICE} --filter desired-state=running".split(),
            "--format", "{{.Node}} {{.CurrentState}}",
        ).splitlines()  # fmt: skip
        running = sorted(t.split()[0] for t in tasks if t.split()[1] == "Running")
        if running == ["sdn1", "sdn2"]:
            break
        assert time.monotonic() < deadline, f"tasks not one per node after 60 s: {tasks}"
        time.sleep(0.3)

    task = lab.docker(2, "ps", "-q", "--filter", f"label=com.docker.swarm.service.name={SERVICE}")
    ip_on_overlay = f'{{{{(index .NetworkSettings.Networks "{NETWORK}").IPAddress}}}}'
    address = lab.docker(2, "inspect", "--format", ip_on_overlay, task)
    assert ipaddress.ip_address(address) in ipaddress.ip_network(OVERLAY_POOL)
    client = f"run --rm --pull never --network {NETWORK} {IMAGE} python3 -c".split()
    assert lab.docker(1, *client, FETCH, address, SERVICE) == "sdn2"


def test_a_killed_node_turns_down_on_the_manager(swarm_lab: SwarmLab):
    lab = swarm_lab
    lab.kill_node(2)
    lab.wait_node_state(2, "down", timeout=60)  # the lab log records how long it took
    assert lab.node_state(1) == "ready"


def test_down_leaves_nothing_behind(swarm_lab: SwarmLab):
    swarm_lab.down()
    assert leftovers() == []
    assert not LAB_DIR.exists()
    # the host's own network and iptables never saw the lab's addresses or links
    host = run("ip", "-o", "addr") + run("ip", "-o", "link") + run("iptables-save")
    for lab_range in ("10.213.", "10.214.", "10.215.", "sdbr", " vn1", " vn2"):
        assert lab_range not in host
