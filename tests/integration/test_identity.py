"""Logins through real identity providers on 127.0.0.1: `sandbox up` of the
demo organisation with its groups bound to the provider's groups.

OIDC: oidc-provider-mock (PyPI) serves users with a ``groups`` claim; the
login runs the hub's authorization-code flow with requests (the provider's
form is one POST of the subject). Its hub and provider are session fixtures
of tests/identity_hubs.py, shared with the browser test
tests/e2e/test_oidc_login.py."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from tests.conftest import Deployment, _missing
from tests.hubclient import HubUser
from tests.identity_hubs import (
    CLIENT_SECRET,
    OIDC_SANDBOX,
    PUBLIC_SPACE,
    TAX,
    hub_groups,
    mounted,
    provisioned,
    secret_file,
    set_groups,
)
from tests.integration import ldap_server

pytestmark = pytest.mark.docker


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
