"""Every role against the hub's own endpoints: allowed (2xx) or denied (401,
403 or 404: JupyterHub hides what a user may not see)."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import Deployment
from tests.hubclient import HubUser

pytestmark = pytest.mark.docker

ALLOW, DENY = "allow", "deny"
ROLES = ("analyst", "manager", "steward", "admin", "anonymous")
USERS = {"analyst": "alice", "manager": "carol", "steward": "erin", "admin": "admin"}

# (method, path) -> expected per role, in ROLES order
MATRIX = {
    ("GET", "/hub/api/"): (ALLOW, ALLOW, ALLOW, ALLOW, ALLOW),
    ("GET", "/hub/api/user"): (ALLOW, ALLOW, ALLOW, ALLOW, DENY),
    ("GET", "/hub/api/users"): (DENY, DENY, DENY, ALLOW, DENY),
    ("GET", "/hub/api/users/dave"): (DENY, DENY, DENY, ALLOW, DENY),
    ("DELETE", "/hub/api/users/dave"): (DENY, DENY, DENY, None, DENY),
    ("POST", "/hub/api/users/dave/server"): (DENY, DENY, DENY, None, DENY),
    ("DELETE", "/hub/api/users/dave/server"): (DENY, DENY, DENY, None, DENY),
    ("POST", "/hub/api/users/dave/tokens"): (DENY, DENY, DENY, None, DENY),
    ("GET", "/hub/api/groups"): (DENY, DENY, DENY, ALLOW, DENY),
    ("GET", "/hub/api/proxy"): (DENY, DENY, DENY, ALLOW, DENY),
    ("GET", "/hub/api/services"): (DENY, DENY, DENY, ALLOW, DENY),
    ("GET", "/hub/admin"): (DENY, DENY, DENY, ALLOW, DENY),
    # admins may reach servers (JupyterHub admin role); dave has none running here
    ("GET", "/user/dave/api/status"): (DENY, DENY, DENY, None, DENY),
}


@pytest.fixture(scope="module")
def sessions(deployment: Deployment) -> dict[str, requests.Session | None]:
    out: dict[str, requests.Session | None] = {}
    for role, name in USERS.items():
        user = HubUser(deployment.url, name, deployment.password(name))
        assert user.login_status == 302, role
        out[role] = user.session
    out["anonymous"] = None
    return out


def call(deployment: Deployment, session, method: str, path: str) -> tuple[int, str]:
    client = session or requests.Session()
    headers = {}
    if session is not None:
        headers["X-XSRFToken"] = session.cookies.get("_xsrf", path="/hub/") or ""
    answer = client.request(method, deployment.url + path, headers=headers, timeout=30)
    return answer.status_code, answer.url


@pytest.mark.parametrize(("method", "path"), list(MATRIX))
def test_role_matrix(deployment: Deployment, sessions, method: str, path: str):
    for role, expected in zip(ROLES, MATRIX[(method, path)], strict=True):
        if expected is None:
            continue  # admin may do it; not exercised here (it would change the sandbox)
        status, landed = call(deployment, sessions[role], method, path)
        at_login = "/hub/login" in landed and path != "/hub/login"
        if expected == ALLOW:
            assert 200 <= status < 300 and not at_login, (role, method, path, status, landed)
        else:
            assert status in (401, 403, 404) or at_login, (role, method, path, status, landed)
