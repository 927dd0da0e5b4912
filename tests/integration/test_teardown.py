"""`sandbox down` stops everything; runs last in the integration folder."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import Deployment
from tests.hubclient import HubUser

pytestmark = pytest.mark.docker


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
