"""`sandbox down` stops everything; runs last in the integration folder."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.conftest import PROJECT, Deployment
from tests.hubclient import HubUser

pytestmark = pytest.mark.docker


def test_new_spawns_work_after_dockerd_restarts(deployment: Deployment):
    pids = subprocess.run(["pidof", "dockerd"], capture_output=True, text=True).stdout.split()
    assert pids, "dockerd is not running as a process here"
    for pid in pids:
        os.kill(int(pid), signal.SIGTERM)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and subprocess.run(["pidof", "dockerd"]).returncode == 0:
        time.sleep(0.5)
    subprocess.run([str(PROJECT / "tests" / "ensure-docker.sh")], check=True)
    user = HubUser(deployment.url, "alice", deployment.secret("user_password"))
    assert user.spawn() > 0
    user.stop()


def test_down_leaves_no_containers_running(deployment: Deployment):
    user = HubUser(deployment.url, "bob", deployment.secret("user_password"))
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
