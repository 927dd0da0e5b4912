"""A dockerd restart that running servers survive (live-restore), and
`sandbox down` stopping everything; runs last in the integration folder."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import requests

from tests.conftest import PROJECT, Deployment
from tests.hubclient import HubUser

pytestmark = pytest.mark.docker


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout


@pytest.mark.drill
def test_running_servers_survive_a_dockerd_restart(deployment: Deployment):
    live = docker("info", "--format", "{{.LiveRestoreEnabled}}").strip()
    assert live == "true", "the engine runs without live-restore (see sandbox/host/dockerd.py)"
    user = HubUser(deployment.url, "alice", deployment.password("alice"))
    user.spawn()
    container = f"sandbox-{deployment.name}-alice"
    started = docker("inspect", "--format", "{{.Id}} {{.State.StartedAt}}", container)
    token = user.api("POST", "/users/alice/tokens", json={}).json()["token"]
    status = f"{deployment.url}/user/alice/api/status"
    auth = {"Authorization": f"token {token}"}
    assert requests.get(status, headers=auth, timeout=10).status_code == 200
    pids = subprocess.run(["pidof", "dockerd"], capture_output=True, text=True).stdout.split()
    assert pids, "dockerd is not running as a process here"
    for pid in pids:
        os.kill(int(pid), signal.SIGTERM)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and subprocess.run(["pidof", "dockerd"]).returncode == 0:
        time.sleep(0.5)
    # no engine at all: alice's server still answers through the proxy and its socket
    assert requests.get(status, headers=auth, timeout=10).status_code == 200
    subprocess.run([str(PROJECT / "tests" / "ensure-docker.sh")], check=True)
    assert docker("inspect", "--format", "{{.Id}} {{.State.StartedAt}}", container) == started
    assert requests.get(status, headers=auth, timeout=10).status_code == 200
    user.stop()
    # and new servers start on the restarted engine
    assert user.spawn() > 0
    user.stop()


def test_down_leaves_no_containers_running(deployment: Deployment):
    user = HubUser(deployment.url, "bob", deployment.password("bob"))
    user.spawn()
    result = deployment.sandbox("down")
    assert "down: stopped" in result.stdout
    left = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=org.data-sandbox.sandbox={deployment.name}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert left == []
    status = deployment.sandbox("status", "--json").stdout
    assert '"hub_running": false' in status
    # and up brings it back, reporting what it started
    again = deployment.sandbox("up")
    assert "change(s) applied" in again.stdout
