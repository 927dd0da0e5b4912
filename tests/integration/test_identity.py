"""Logins through real identity providers on 127.0.0.1: `sandbox up` of the
demo organisation with its groups bound to the provider's groups.

OIDC: oidc-provider-mock (PyPI) serves users with a ``groups`` claim; the
login runs the hub's authorization-code flow with requests (the provider's
form is one POST of the subject)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
import yaml

from tests.conftest import PROJECT, SANDBOX_BIN, Deployment, require_docker
from tests.hubclient import HubUser

pytestmark = pytest.mark.docker

OIDC_PORT = 18141  # the hub's; the provider takes a free port
OIDC_SANDBOX = "idtest"
CLIENT_SECRET = "oidc-client-secret-7f3a9c2e-never-logged"
TAX = {"woz-2024", "cbs-wijken-2024"}
PUBLIC_SPACE = {"meldingen-openbare-ruimte-2024", "cbs-wijken-2024"}


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """oidc-provider-mock on 127.0.0.1 (its own helper binds "localhost")."""
    from oidc_provider_mock import app
    from oidc_provider_mock._storage import User
    from werkzeug.serving import make_server

    users = [
        User(sub="ana", claims={"preferred_username": "ana", "groups": ["tax-analysts"]}),
        User(sub="piet", claims={"preferred_username": "piet", "groups": ["public-space"]}),
        User(sub="mallory", claims={"preferred_username": "mallory", "groups": ["facilities"]}),
    ]
    server = make_server("127.0.0.1", 0, app(user_claims=users), threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def oidc_config(root: Path, issuer: str) -> tuple[Path, Path]:
    shutil.copytree(PROJECT / "config", root / "config")
    secret = root / "client-secret"
    secret.write_text(CLIENT_SECRET + "\n")
    secret.chmod(0o600)
    path = root / "config" / "sandbox.yaml"
    data = yaml.safe_load(path.read_text())
    sandbox = data["sandboxes"][0]
    sandbox["name"] = OIDC_SANDBOX
    sandbox["hub"]["port"] = OIDC_PORT
    sandbox["auth"] = {
        "type": "oidc",
        "issuer": issuer,
        "client_id": "data-sandbox",
        "client_secret_file": str(secret),
        "scopes": ["openid", "profile"],
    }
    bound = {"belastingen": "tax-analysts", "leefomgeving": "public-space"}
    for group in sandbox["groups"]:
        if group["name"] in bound:
            group["idp_group"] = bound[group["name"]]
            group["members"] = []
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path, secret


@pytest.fixture(scope="module")
def oidc_hub(tmp_path_factory: pytest.TempPathFactory, provider: str) -> Iterator[Deployment]:
    require_docker()
    root = tmp_path_factory.mktemp("oidc")
    config, _ = oidc_config(root, provider)
    clock = root / "today"
    clock.write_text(date.today().isoformat())
    env = {
        **os.environ,
        "SANDBOX_CONFIG": str(config),
        "SANDBOX_STATE_DIR": str(root / "state"),
        "SANDBOX_CLOCK_FILE": str(clock),
        "COLUMNS": "200",
    }
    first = subprocess.run(
        [SANDBOX_BIN, "up"], env=env, capture_output=True, text=True, timeout=1800
    )
    deployed = Deployment(config, root / "state", env, first, clock, OIDC_PORT, OIDC_SANDBOX)
    try:
        if first.returncode != 0:
            pytest.fail(f"sandbox up failed:\n{first.stdout}\n{first.stderr}", pytrace=False)
        yield deployed
    finally:
        deployed.sandbox("down", "--purge", "--yes", check=False)


class OidcUser(HubUser):
    """Logs in through the provider: the hub sends the browser to the
    provider's authorize URL, its form posts the subject back, the provider
    redirects to the hub's callback with a code."""

    def __init__(self, base: str, name: str):
        self.base, self.name = base, name
        self.session = requests.Session()
        to_provider = self.session.get(f"{base}/hub/oauth_login", allow_redirects=False, timeout=10)
        assert to_provider.status_code == 302, to_provider.text
        authorize = to_provider.headers["Location"]
        back = self.session.post(authorize, data={"sub": name}, allow_redirects=False, timeout=10)
        assert back.status_code == 302, back.text
        callback = self.session.get(
            urljoin(base, back.headers["Location"]), allow_redirects=False, timeout=30
        )
        self.login_status = callback.status_code


def set_groups(provider: str, user: str, groups: list[str]) -> None:
    answer = requests.put(
        f"{provider}/users/{user}",
        json={"preferred_username": user, "groups": groups},
        timeout=10,
    )
    assert answer.status_code < 300, answer.text


def mounted(hub: Deployment, user: str) -> set[str]:
    container = f"sandbox-{hub.name}-{user}"
    names = set(docker("exec", container, "ls", "/data").split())
    return names - {"NOTICE.md"}


def hub_groups(hub: Deployment, user: str) -> list[str]:
    token = hub.secret("cli_token")
    answer = requests.get(
        f"{hub.url}/hub/api/users/{user}",
        headers={"Authorization": f"token {token}"},
        timeout=10,
    )
    return sorted(answer.json()["groups"])


def test_a_mapped_user_gets_exactly_her_groups_datasets(oidc_hub: Deployment):
    ana = OidcUser(oidc_hub.url, "ana")
    assert ana.login_status == 302
    assert hub_groups(oidc_hub, "ana") == ["belastingen"]
    ana.spawn()
    try:
        assert mounted(oidc_hub, "ana") == TAX
    finally:
        ana.stop()
    log = json.loads(oidc_hub.sandbox("datasets", "access-log", "--user", "ana", "--json").stdout)
    granted = {row["dataset"]: row for row in log if row["decision"] == "granted"}
    assert set(granted) == TAX
    assert {row["groups"] for row in granted.values()} == {"belastingen"}


def test_a_user_in_no_mapped_group_is_refused(oidc_hub: Deployment):
    mallory = OidcUser(oidc_hub.url, "mallory")
    assert mallory.login_status == 403
    assert mallory.api("GET", "/user").status_code in (401, 403)


def test_a_group_change_at_the_provider_counts_from_the_next_login(
    oidc_hub: Deployment, provider: str
):
    piet = OidcUser(oidc_hub.url, "piet")
    assert piet.login_status == 302 and hub_groups(oidc_hub, "piet") == ["leefomgeving"]
    piet.spawn()
    try:
        assert mounted(oidc_hub, "piet") == PUBLIC_SPACE
    finally:
        piet.stop()
    set_groups(provider, "piet", ["tax-analysts"])
    again = OidcUser(oidc_hub.url, "piet")
    assert again.login_status == 302 and hub_groups(oidc_hub, "piet") == ["belastingen"]
    again.spawn()
    try:
        assert mounted(oidc_hub, "piet") == TAX
    finally:
        again.stop()
    set_groups(provider, "piet", [])
    assert OidcUser(oidc_hub.url, "piet").login_status == 403


def test_the_client_secret_is_only_in_its_0600_file(oidc_hub: Deployment):
    copy = oidc_hub.state / "sandboxes" / OIDC_SANDBOX / "hub" / "secrets" / "oidc_client_secret"
    assert copy.read_text().strip() == CLIENT_SECRET
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert CLIENT_SECRET not in oidc_hub.first_up.stdout + oidc_hub.first_up.stderr
    leaks = []
    for path in oidc_hub.state.rglob("*"):
        if path.is_file() and path != copy and not path.is_socket():
            try:
                if CLIENT_SECRET.encode() in path.read_bytes():
                    leaks.append(str(path))
            except OSError:
                continue
    assert leaks == []  # hub.json, the hub's log, the runner's artifacts, the databases
