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
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
import yaml

from tests.conftest import PROJECT, SANDBOX_BIN, Deployment, _missing, require_docker
from tests.hubclient import HubUser
from tests.integration import ldap_server

pytestmark = pytest.mark.docker

OIDC_PORT = 18141  # the hub's; the provider takes a free port
OIDC_SANDBOX = "idtest"
CLIENT_SECRET = "oidc-client-secret-7f3a9c2e-never-logged"
TAX = {"woz-2024", "cbs-wijken-2024"}
PUBLIC_SPACE = {"meldingen-openbare-ruimte-2024", "cbs-wijken-2024"}


# valid through tomorrow: plan admits him, a start after tomorrow is refused
KEES = {
    "name": "kees",
    "organisation": "GGD Zuid",
    "agreement": {
        "reference": "SOK-2026-03",
        "valid_until": (date.today() + timedelta(days=1)).isoformat(),
    },
}


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
        # a chain partner: listed as a member, in no group of ours at the provider
        User(sub="kees", claims={"preferred_username": "kees", "groups": []}),
    ]
    server = make_server("127.0.0.1", 0, app(user_claims=users), threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def bind_groups(sandbox: dict, bound: dict[str, str]) -> None:
    for group in sandbox["groups"]:
        if group["name"] in bound:
            group["idp_group"] = bound[group["name"]]
            group["members"] = []


def provisioned(
    root: Path, name: str, port: int, auth: dict, partner: dict | None = None
) -> Iterator[Deployment]:
    """`sandbox up` of the demo with ``auth``, its analyst groups bound to the
    provider's tax-analysts and public-space; `down --purge` after."""
    require_docker()
    shutil.copytree(PROJECT / "config", root / "config")
    config = root / "config" / "sandbox.yaml"
    data = yaml.safe_load(config.read_text())
    sandbox = data["sandboxes"][0]
    sandbox.update({"name": name, "auth": auth})
    sandbox["hub"]["port"] = port
    bind_groups(sandbox, {"belastingen": "tax-analysts", "leefomgeving": "public-space"})
    if partner:
        next(g for g in sandbox["groups"] if g["name"] == "leefomgeving")["members"] = [partner]
    config.write_text(yaml.safe_dump(data, sort_keys=False))
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
    deployed = Deployment(config, root / "state", env, first, clock, port, name)
    try:
        if first.returncode != 0:
            pytest.fail(f"sandbox up failed:\n{first.stdout}\n{first.stderr}", pytrace=False)
        yield deployed
    finally:
        deployed.sandbox("down", "--purge", "--yes", check=False)


def secret_file(root: Path, name: str, value: str) -> str:
    path = root / name
    path.write_text(value + "\n")
    path.chmod(0o600)
    return str(path)


def leaked(hub: Deployment, secret: str, kept_in: Path) -> list[str]:
    """Files of the state directory, and up's output, holding ``secret``
    (hub.json, the hub's log, the runner's artifacts, the databases)."""
    found = [] if secret not in hub.first_up.stdout + hub.first_up.stderr else ["up's output"]
    for path in hub.state.rglob("*"):
        if path.is_file() and path != kept_in:
            try:
                if secret.encode() in path.read_bytes():
                    found.append(str(path))
            except OSError:
                continue
    return found


@pytest.fixture(scope="module")
def oidc_hub(tmp_path_factory: pytest.TempPathFactory, provider: str) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("oidc")
    auth = {
        "type": "oidc",
        "issuer": provider,
        "client_id": "data-sandbox",
        "client_secret_file": secret_file(root, "client-secret", CLIENT_SECRET),
        "scopes": ["openid", "profile"],
    }
    yield from provisioned(root, OIDC_SANDBOX, OIDC_PORT, auth, partner=KEES)


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


def test_a_partner_starts_nothing_once_the_agreement_ended(oidc_hub: Deployment):
    kees = OidcUser(oidc_hub.url, "kees")
    assert kees.login_status == 302 and hub_groups(oidc_hub, "kees") == ["leefomgeving"]
    oidc_hub.clock.write_text((date.today() + timedelta(days=2)).isoformat())
    try:
        with pytest.raises(AssertionError, match="SOK-2026-03 with GGD Zuid expired on"):
            kees.spawn(timeout=60)
    finally:
        oidc_hub.clock.write_text(date.today().isoformat())
    log = json.loads(oidc_hub.sandbox("datasets", "access-log", "--user", "kees", "--json").stdout)
    assert {row["dataset"] for row in log} == PUBLIC_SPACE
    assert {row["decision"] for row in log} == {"refused"}
    assert all("agreement SOK-2026-03 with GGD Zuid expired" in row["reason"] for row in log)


def test_the_client_secret_is_only_in_its_0600_file(oidc_hub: Deployment):
    copy = oidc_hub.state / "sandboxes" / OIDC_SANDBOX / "hub" / "secrets" / "oidc_client_secret"
    assert copy.read_text().strip() == CLIENT_SECRET
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert leaked(oidc_hub, CLIENT_SECRET, copy) == []


# ---------------------------------------------------------------------- LDAP

LDAP_PORT = 18142
LDAP_SANDBOX = "ldaptest"


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path("/usr/sbin/slapd").exists():
        _missing("Debian's slapd is not installed (apt-get install slapd ldap-utils)")
    with ldap_server.throwaway_slapd(tmp_path_factory.mktemp("slapd")) as url:
        yield url


@pytest.fixture(scope="module")
def ldap_hub(tmp_path_factory: pytest.TempPathFactory, directory: str) -> Iterator[Deployment]:
    """A search bind: the hub finds users and their groups as a reader account
    whose password is a 0600 file."""
    root = tmp_path_factory.mktemp("ldap")
    auth = {
        "type": "ldap",
        "server": directory,
        "bind_dn": ldap_server.ADMIN_DN,
        "bind_password_file": secret_file(root, "bind-password", ldap_server.ADMIN_PASSWORD),
        "user_base": ldap_server.PEOPLE,
        "group_base": ldap_server.GROUPS,
    }
    yield from provisioned(root, LDAP_SANDBOX, LDAP_PORT, auth)


def move_in_directory(url: str, user: str, old: str, new: str) -> None:
    import ldap3

    member = f"uid={user},{ldap_server.PEOPLE}"
    admin = ldap3.Connection(
        ldap3.Server(url), ldap_server.ADMIN_DN, ldap_server.ADMIN_PASSWORD, auto_bind=True
    )
    for group, change in ((old, ldap3.MODIFY_DELETE), (new, ldap3.MODIFY_ADD)):
        changed = admin.modify(f"cn={group},{ldap_server.GROUPS}", {"member": [(change, [member])]})
        assert changed, admin.result
    admin.unbind()


def test_ldap_bind_maps_directory_groups_to_datasets(ldap_hub: Deployment):
    ana = HubUser(ldap_hub.url, "ana", ldap_server.USERS["ana"][0])
    assert ana.login_status == 302
    assert hub_groups(ldap_hub, "ana") == ["belastingen"]
    ana.spawn()
    try:
        assert mounted(ldap_hub, "ana") == TAX
    finally:
        ana.stop()


def test_ldap_refuses_a_wrong_password_and_an_unmapped_user(ldap_hub: Deployment):
    assert HubUser(ldap_hub.url, "ana", "not-her-password").login_status == 403
    mallory = HubUser(ldap_hub.url, "mallory", ldap_server.USERS["mallory"][0])
    assert mallory.login_status == 403


def test_ldap_group_change_counts_from_the_next_login(ldap_hub: Deployment, directory: str):
    piet = HubUser(ldap_hub.url, "piet", ldap_server.USERS["piet"][0])
    assert piet.login_status == 302 and hub_groups(ldap_hub, "piet") == ["leefomgeving"]
    move_in_directory(directory, "piet", "public-space", "tax-analysts")
    again = HubUser(ldap_hub.url, "piet", ldap_server.USERS["piet"][0])
    assert again.login_status == 302 and hub_groups(ldap_hub, "piet") == ["belastingen"]


def test_the_bind_password_is_only_in_its_0600_file(ldap_hub: Deployment):
    copy = ldap_hub.state / "sandboxes" / LDAP_SANDBOX / "hub" / "secrets" / "ldap_bind_password"
    assert copy.read_text().strip() == ldap_server.ADMIN_PASSWORD
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert leaked(ldap_hub, ldap_server.ADMIN_PASSWORD, copy) == []
