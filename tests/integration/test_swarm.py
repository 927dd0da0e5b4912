"""`spawner: swarm` on a real single-node Docker Swarm, provisioned through an
inventory with a `managers` group: the user's server runs as a swarm service,
hardened, with its dataset mounted read-only, on its own overlay network
reached through its relay, and is removed (with both) when it stops.
tests/integration/test_swarm_nodes.py runs servers on a worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from sandbox.config.scaffold import scaffold
from tests.conftest import SANDBOX_BIN, keep_logs, live_restore_off, require_docker
from tests.hubclient import HubUser

PORT = 18300
NAME = "swarmtest"
SERVICE = f"sandbox-{NAME}-analyst1"


def docker(*args: str) -> str:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()


def swarm_state() -> str:
    return docker("info", "--format", "{{.Swarm.LocalNodeState}}")


@pytest.fixture(scope="module")
def swarm_sandbox(tmp_path_factory: pytest.TempPathFactory):
    require_docker()
    was_in_swarm = swarm_state() == "active"
    root = tmp_path_factory.mktemp("swarm")
    scaffold(root / "config", port=PORT)
    config = root / "config" / "sandbox.yaml"
    text = config.read_text().replace("spawner: docker", "spawner: swarm")
    config.write_text(text.replace("- name: first", f"- name: {NAME}"))
    inventory = root / "hosts.ini"
    local = (
        f"localhost ansible_connection=local ansible_python_interpreter={sys.executable} "
        f"host_tools_venv={root / 'venv'}"  # the project's venv on the node
    )
    inventory.write_text(f"[managers]\n{local}\n\n[workers]\n")
    env = {
        **os.environ,
        "SANDBOX_CONFIG": str(config),
        "SANDBOX_STATE_DIR": str(root / "state"),
        "COLUMNS": "200",
    }

    def sandbox(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SANDBOX_BIN, *args], env=env, capture_output=True, text=True, timeout=900
        )

    with live_restore_off():
        up = sandbox("up", "-i", str(inventory))
        try:
            assert up.returncode == 0, up.stdout + up.stderr
            password = (root / f"state/sandboxes/{NAME}/hub/secrets/user_password").read_text()
            user = HubUser(f"http://127.0.0.1:{PORT}", "analyst1", password.strip())
            yield user, up, was_in_swarm
        finally:
            keep_logs(root / "state", root / "logs")  # `down --purge` removes them
            sandbox("down", "--purge", "--yes", "-i", str(inventory))
            if not was_in_swarm:
                subprocess.run(["docker", "swarm", "leave", "--force"], capture_output=True)


def task_container() -> str:
    return docker("ps", "-q", "--filter", f"label=com.docker.swarm.service.name={SERVICE}")


def test_up_forms_a_single_node_swarm(swarm_sandbox):
    _, up, was_in_swarm = swarm_sandbox
    assert swarm_state() == "active"
    assert "Swarm state of localhost" in up.stdout
    if not was_in_swarm:
        assert "changed Create the swarm on localhost" in up.stdout


def test_server_runs_as_a_hardened_service_with_read_only_data(swarm_sandbox):
    user, _, _ = swarm_sandbox
    assert user.login_status == 302
    user.spawn(timeout=180)
    try:
        services = docker(
            "service", "ls", "-q", "--filter", f"label=org.data-sandbox.sandbox={NAME}"
        )
        assert len(services.split()) == 1
        spec = json.loads(docker("service", "inspect", SERVICE))[0]["Spec"]
        container = spec["TaskTemplate"]["ContainerSpec"]
        # the user's name in the labels of the service and of its container
        assert spec["Labels"]["org.data-sandbox.user"] == "analyst1"
        assert container["Labels"]["org.data-sandbox.user"] == "analyst1"
        assert container["User"] == "1000:1000"
        assert container["CapabilityDrop"] == ["ALL"]
        mounts = {m["Target"]: m for m in container["Mounts"]}
        assert mounts["/data/example-public"]["ReadOnly"] is True
        assert mounts["/data/example-public"]["Type"] == "bind"
        assert mounts["/home/jovyan"]["Type"] == "volume"
        assert mounts["/tmp"]["Type"] == "tmpfs"
        limits = spec["TaskTemplate"]["Resources"]["Limits"]
        assert limits["Pids"] == 512 and limits["MemoryBytes"] > 0 and limits["NanoCPUs"] > 0
        # placed on a node labelled by the playbook as holding these datasets
        (constraint,) = spec["TaskTemplate"]["Placement"]["Constraints"]
        label, digest = constraint.removeprefix("node.labels.").split(" == ")
        node = json.loads(docker("node", "inspect", "self"))[0]
        assert node["Spec"]["Labels"][label] == digest
        assert container["ReadOnly"] is True
        assert {"/tmp", "/var/tmp", "/run"} <= set(mounts)
        # no socket folder: the server listens on its own network, its relay
        # (on the hub's node) owns the socket the proxy routes to
        assert "/sandbox/server" not in mounts and "/sandbox/hub" not in mounts
        log = spec["TaskTemplate"]["LogDriver"]
        assert log == {"Name": "json-file", "Options": {"max-file": "3", "max-size": "10m"}}
        assert spec["EndpointSpec"]["Mode"] == "dnsrr" and not spec["EndpointSpec"].get("Ports")
        # an overlay network for this server and its relay only; the scaffold's
        # sandbox has egress, so it is not internal (test_swarm_nodes: without)
        (network,) = [n["Target"] for n in spec["TaskTemplate"]["Networks"]]
        made = json.loads(docker("network", "inspect", network))[0]
        assert made["Name"] == f"{SERVICE}--net" and made["Driver"] == "overlay"
        assert made["Internal"] is False and made["Scope"] == "swarm"
        relay = json.loads(docker("inspect", f"{SERVICE}--relay"))[0]
        assert list(relay["NetworkSettings"]["Networks"]) == [f"{SERVICE}--net"]
        assert relay["Config"]["User"] == "1000:1000"
        assert relay["HostConfig"]["CapDrop"] == ["ALL"] and relay["HostConfig"]["ReadonlyRootfs"]
        assert not relay["HostConfig"]["PortBindings"]

        task = task_container()
        assert task, "no running task container"
        assert docker("exec", task, "id", "-u") == "1000"
        listed = docker("exec", task, "ls", "/data/example-public").split()
        assert sorted(listed) == ["DATACARD.md", "datapackage.json", "example.csv", "quality.json"]
        assert (
            docker("exec", task, "head", "-1", "/data/example-public/example.csv") == "year,value"
        )
        write = subprocess.run(
            ["docker", "exec", task, "touch", "/data/example-public/x"],
            capture_output=True,
            text=True,
        )
        assert write.returncode != 0 and "Read-only file system" in write.stderr
        assert docker("exec", task, "sh", "-c", "grep CapEff /proc/self/status").endswith(
            "0000000000000000"
        )
        # the lab answers through the hub's proxy
        lab = user.session.get(f"http://127.0.0.1:{PORT}/user/analyst1/lab", timeout=30)
        assert lab.status_code == 200
    finally:
        user.stop()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not docker("service", "ls", "-q", "--filter", f"name={SERVICE}"):
            break
        time.sleep(1)
    assert not docker("service", "ls", "-q", "--filter", f"name={SERVICE}")
    # its relay and network go with it
    assert not docker("ps", "-aq", "--filter", f"name={SERVICE}.relay")
    assert not docker("network", "ls", "-q", "--filter", f"name={SERVICE}.net")
