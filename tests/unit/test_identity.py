"""Logins through an identity provider: config keys, hub settings, group
mapping and the datasets a start mounts (no hub; tests/integration/
test_identity.py runs real providers)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from sandbox.config.loader import load_config
from sandbox.config.model import Auth, Group, Sandbox
from sandbox.governance.catalog import staged_datasets
from sandbox.host import packages
from sandbox.host.layout import Layout
from sandbox.hub import identity
from sandbox.hub.settings import HubInputs, hub_settings

OIDC = {
    "type": "oidc",
    "issuer": "https://login.example.org/realms/gemeente",
    "client_id": "sandbox-demo",
    "client_secret_file": "/etc/sandbox/oidc-secret",
}


@pytest.fixture
def demo(demo_copy: Path):
    loaded = load_config(demo_copy)
    sandbox = loaded.config.sandbox("demo")
    layout = Layout(Path("/srv/state"))
    return sandbox, staged_datasets(loaded, sandbox, layout), layout


def with_idp(sandbox: Sandbox, auth: dict, bound: dict[str, str]) -> Sandbox:
    groups = [
        g.model_copy(update={"idp_group": bound[g.name], "members": []}) if g.name in bound else g
        for g in sandbox.groups
    ]
    return Sandbox.model_validate(
        {**sandbox.model_dump(), "auth": auth, "groups": [g.model_dump() for g in groups]}
    )


def settings_of(demo, sandbox: Sandbox) -> dict:
    _, staged, layout = demo
    inputs = HubInputs(layout, "sandbox-notebook:abc", "/venv/bin/python", "/chp")
    return dict(hub_settings(sandbox, staged, inputs))


def test_oidc_needs_issuer_client_and_a_secret_file():
    with pytest.raises(ValidationError, match="client_id, client_secret_file"):
        Auth(type="oidc", issuer="https://idp.example.org")
    with pytest.raises(ValidationError, match="client_secret_file"):
        Auth.model_validate({**OIDC, "client_secret_file": "secret.txt"})  # not absolute
    assert Auth.model_validate(OIDC).maps_groups


def test_ldap_needs_a_server_and_a_way_to_find_the_user():
    with pytest.raises(ValidationError, match="bind_dn_template, or bind_dn and user_base"):
        Auth(type="ldap", server="ldap://127.0.0.1:3890")
    with pytest.raises(ValidationError, match="server"):
        Auth(type="ldap", server="http://127.0.0.1", bind_dn_template=["uid={username}"])
    direct = Auth(type="ldap", server="ldap://127.0.0.1", bind_dn_template=["uid={username}"])
    assert direct.maps_groups and direct.personal


def test_idp_group_needs_an_identity_provider(demo):
    sandbox, _, _ = demo
    with pytest.raises(ValidationError, match="belastingen name an idp_group, which needs"):
        with_idp(sandbox, {"type": "shared-password"}, {"belastingen": "tax-analysts"})


def test_oidc_hub_settings_map_groups_and_hold_no_secret(demo, tmp_path):
    sandbox, _, _ = demo
    secret = "s3cr3t-never-in-hub-json"
    oidc = with_idp(sandbox, OIDC, {"belastingen": "tax-analysts", "leefomgeving": "public-space"})
    settings = settings_of(demo, oidc)
    traitlets = settings["traitlets"]
    hub = traitlets["JupyterHub"]
    assert hub["authenticator_class"] == "sandbox.hub.oidc_login.SandboxOIDCAuthenticator"
    assert hub["load_groups"] == {}  # the logins set the groups
    section = traitlets["SandboxOIDCAuthenticator"]
    assert section["manage_groups"] is True
    assert section["group_map"] == {
        "tax-analysts": ["belastingen"],
        "public-space": ["leefomgeving"],
    }
    assert section["member_groups"]["carol"] == ["management"]
    assert section["oauth_callback_url"] == "http://127.0.0.1:8000/hub/oauth_callback"
    assert section["issuer"] == OIDC["issuer"] and section["client_id"] == "sandbox-demo"
    assert "client_secret" not in section
    assert secret not in json.dumps(settings)
    registry_role = next(r for r in hub["load_roles"] if r["name"] == "registry-users")
    assert "belastingen" in registry_role["groups"]
    spawner = traitlets["SandboxDockerSpawner"]
    woz = [m for m in spawner["group_datasets"]["belastingen"] if m["id"] == "woz-2024"]
    assert woz and woz[0]["groups"] == ["belastingen"]
    assert identity.secret_files(oidc) == {"oidc_client_secret": "/etc/sandbox/oidc-secret"}
    assert identity.packages(oidc) == ["oauthenticator==17.4.0"]


def test_shared_password_settings_are_as_before(demo):
    sandbox, _, _ = demo
    traitlets = settings_of(demo, sandbox)["traitlets"]
    assert traitlets["JupyterHub"]["load_groups"]["belastingen"]["users"] == ["alice", "bob"]
    assert traitlets["SandboxDockerSpawner"]["group_datasets"] == {}
    assert identity.packages(sandbox) == [] and identity.secret_files(sandbox) == {}
    alice = traitlets["SandboxDockerSpawner"]["user_datasets"]["alice"]
    assert [m["groups"] for m in alice] == [["belastingen"], ["belastingen"]]


def test_ldap_settings_direct_and_search_bind(demo):
    sandbox, _, _ = demo
    direct = with_idp(
        sandbox,
        {
            "type": "ldap",
            "server": "ldap://127.0.0.1:3890",
            "bind_dn_template": ["uid={username},ou=people,dc=example,dc=org"],
            "group_base": "ou=groups,dc=example,dc=org",
        },
        {"belastingen": "tax"},
    )
    section = settings_of(demo, direct)["traitlets"]["SandboxLDAPAuthenticator"]
    assert (section["server_address"], section["server_port"]) == ("127.0.0.1", 3890)
    assert section["tls_strategy"] == "insecure" and "lookup_dn" not in section
    search = with_idp(
        sandbox,
        {
            "type": "ldap",
            "server": "ldaps://ldap.example.org",
            "bind_dn": "cn=reader,dc=example,dc=org",
            "bind_password_file": "/etc/sandbox/ldap-password",
            "user_base": "ou=people,dc=example,dc=org",
        },
        {"belastingen": "tax"},
    )
    section = settings_of(demo, search)["traitlets"]["SandboxLDAPAuthenticator"]
    assert section["server_port"] == 636 and section["tls_strategy"] == "on_connect"
    assert section["lookup_dn"] is True
    assert section["lookup_dn_search_user"] == "cn=reader,dc=example,dc=org"
    assert identity.secret_files(search) == {"ldap_bind_password": "/etc/sandbox/ldap-password"}


def test_sandbox_groups_come_from_the_idp_and_from_members():
    mapping = {"tax-analysts": ["belastingen"], "all-analysts": ["belastingen", "leefomgeving"]}
    members = {"carol": ["management"]}
    assert identity.sandbox_groups("alice", ["tax-analysts", "other"], mapping, members) == [
        "belastingen"
    ]
    assert identity.sandbox_groups("carol", ["all-analysts"], mapping, members) == [
        "belastingen",
        "leefomgeving",
        "management",
    ]
    assert identity.sandbox_groups("mallory", ["other"], mapping, members) == []


def test_a_start_mounts_the_datasets_of_the_groups_of_the_last_login():
    def mount(dataset: str, purpose: str, group: str) -> dict:
        return {"id": dataset, "purposes": [purpose], "groups": [group], "path": f"/d/{dataset}"}

    by_group = {
        "belastingen": [
            mount("cbs", "research", "belastingen"),
            mount("woz", "tax", "belastingen"),
        ],
        "leefomgeving": [mount("cbs", "service", "leefomgeving")],
    }
    both = identity.mounts_of_groups(by_group, ["leefomgeving", "belastingen"])
    assert [m["id"] for m in both] == ["cbs", "woz"]
    assert both[0]["groups"] == ["belastingen", "leefomgeving"]
    assert both[0]["purposes"] == ["research", "service"]
    assert [m["id"] for m in identity.mounts_of_groups(by_group, ["leefomgeving"])] == ["cbs"]
    assert identity.mounts_of_groups(by_group, []) == []


def test_discovery_reads_the_three_endpoints(tmp_path):
    (tmp_path / ".well-known").mkdir()
    (tmp_path / ".well-known" / "openid-configuration").write_text(
        json.dumps(
            {
                "authorization_endpoint": "https://idp/auth",
                "token_endpoint": "https://idp/token",
                "userinfo_endpoint": "https://idp/userinfo",
            }
        )
    )
    found = identity.discover(tmp_path.as_uri())
    assert found == {
        "authorize_url": "https://idp/auth",
        "token_url": "https://idp/token",
        "userdata_url": "https://idp/userinfo",
    }


def test_packages_installs_only_what_is_missing():
    assert packages.missing(["pydantic==0.0.1", "no-such-package-here==1"]) == [
        "pydantic==0.0.1",
        "no-such-package-here==1",
    ]
    import pydantic

    assert packages.missing([f"pydantic=={pydantic.VERSION}"]) == []


def test_group_model_accepts_idp_group_without_members():
    group = Group(name="analisten", idp_group="CN=Analisten,OU=Groups")
    assert group.members == []


def test_the_login_gets_the_mapped_groups_and_admin_from_the_admin_group():
    import asyncio

    from sandbox.hub.authenticators import GroupMapping

    mapping = GroupMapping(
        group_map={"tax-analysts": ["belastingen"]},
        member_groups={"carol": ["management"]},
        admin_idp_group="sandbox-admins",
    )
    ana = mapping.apply_groups({"name": "ana", "admin": None}, ["tax-analysts"])
    assert ana == {"name": "ana", "admin": False, "groups": ["belastingen"]}
    boss = mapping.apply_groups({"name": "boss", "admin": None}, ["sandbox-admins"])
    assert boss["admin"] is True and boss["groups"] == []
    nobody = mapping.apply_groups({"name": "mallory", "admin": None}, ["facilities"])
    mapping.log = logging.getLogger("test")  # the hub gives its authenticator a logger
    allowed = [asyncio.run(mapping.check_allowed(m["name"], m)) for m in (ana, boss, nobody)]
    assert allowed == [True, True, False]
