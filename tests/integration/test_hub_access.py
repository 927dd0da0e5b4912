"""Hub-level access: users not configured cannot log in, a user cannot reach
another user's server, and schemathesis finds no 5xx in the registry API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Deployment
from tests.hubclient import HubUser

pytestmark = pytest.mark.docker


@pytest.mark.parametrize("name", ["mallory", "zoe", "root"])
def test_unconfigured_users_cannot_log_in(deployment: Deployment, name: str):
    user = HubUser(deployment.url, name, deployment.password(name))
    assert user.login_status != 302  # the form comes back with an error
    assert user.api("GET", f"/users/{name}").status_code in (401, 403)


def test_wrong_password_cannot_log_in(deployment: Deployment):
    assert HubUser(deployment.url, "alice", "not-the-password").login_status != 302


def test_a_user_cannot_reach_another_users_server(deployment: Deployment):
    bob = HubUser(deployment.url, "bob", deployment.password("bob"))
    bob.spawn()
    try:
        alice = HubUser(deployment.url, "alice", deployment.password("alice"))
        answer = alice.session.get(f"{deployment.url}/user/bob/api/contents", timeout=30)
        assert answer.status_code in (403, 404), answer.status_code
        assert alice.api("POST", "/users/bob/server").status_code in (403, 404)
        assert alice.api("DELETE", "/users/bob/server").status_code in (403, 404)
        assert bob.api("GET", "/users/bob").json()["servers"][""]["ready"]  # still running
    finally:
        bob.stop()


def test_schemathesis_finds_no_server_errors(deployment: Deployment):
    alice = HubUser(deployment.url, "alice", deployment.password("alice"))
    token = alice.api(
        "POST", "/users/alice/tokens", json={"scopes": ["access:services!service=registry"]}
    ).json()["token"]
    base = f"{deployment.url}/services/registry/api"
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{base}/openapi.json",
            "--url",
            base,
            "-H",
            f"Authorization: token {token}",
            "--checks",
            "not_a_server_error",
            "-n",
            "25",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
