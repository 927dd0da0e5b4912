"""Logins through an identity provider (OIDC or LDAP): the hub settings, as a
pure function of the model, and what the hub does with them at start.

With ``auth.type`` oidc or ldap the identity provider decides group
membership at every login: a sandbox group with ``idp_group`` gets as members
whoever the provider lists in that group, besides its ``members``. The hub's
groups are the sandbox's groups (JupyterHub ``manage_groups``), rewritten at
each login; a user in none of them (and no admin) is refused. A server start
mounts the datasets of the groups the user had at their last login, and the
access log names the groups that granted each dataset.

No secret value appears in hub.json: ``up`` copies the client secret or the
bind password into the hub's 0600 secrets folder, and the hub reads it there.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from ..config.model import Sandbox

AUTHENTICATOR_CLASSES = {
    "oidc": "sandbox.hub.oidc_login.SandboxOIDCAuthenticator",
    "ldap": "sandbox.hub.ldap_login.SandboxLDAPAuthenticator",
}
SECTIONS = {
    "oidc": "SandboxOIDCAuthenticator",
    "ldap": "SandboxLDAPAuthenticator",
}
# What `up` installs into the hub's venv for each login type (tested versions).
PACKAGES = {
    "oidc": ["oauthenticator==17.4.0"],
    "ldap": ["jupyterhub-ldapauthenticator==2.0.2"],
}
# secret file in the hub's secrets folder -> the auth key naming the operator's file
SECRET_SOURCES = {
    "oidc": ("oidc_client_secret", "client_secret_file"),
    "ldap": ("ldap_bind_password", "bind_password_file"),
}
DISCOVERY = "/.well-known/openid-configuration"
DISCOVERY_TIMEOUT = 10.0


def packages(sandbox: Sandbox) -> list[str]:
    return list(PACKAGES.get(sandbox.auth.type, []))


def secret_files(sandbox: Sandbox) -> dict[str, str]:
    """name in the hub's secrets folder -> the operator's file to copy (0600)."""
    if sandbox.auth.type not in SECRET_SOURCES:
        return {}
    name, key = SECRET_SOURCES[sandbox.auth.type]
    source = getattr(sandbox.auth, key)
    return {name: source} if source else {}


def group_map(sandbox: Sandbox) -> dict[str, list[str]]:
    """IdP group -> the sandbox groups it makes one a member of."""
    mapped: dict[str, list[str]] = {}
    for group in sandbox.groups:
        if group.idp_group:
            mapped.setdefault(group.idp_group, []).append(group.name)
    return mapped


def member_groups(sandbox: Sandbox) -> dict[str, list[str]]:
    """username -> the sandbox groups that list them under ``members``."""
    return {user: [g.name for g in sandbox.groups_of(user)] for user in sandbox.users}


def sandbox_groups(
    username: str,
    idp_groups: list[str],
    mapping: dict[str, list[str]],
    members: dict[str, list[str]],
) -> list[str]:
    """The sandbox groups a user is in as of this login."""
    names = set(members.get(username, []))
    for idp_group in idp_groups:
        names.update(mapping.get(idp_group, []))
    return sorted(names)


def authenticator_settings(sandbox: Sandbox, public_url: str) -> dict[str, dict[str, Any]]:
    """Traitlets sections for an identity provider's authenticator (empty for
    shared-password and native); ``public_url`` is where people reach the hub."""
    auth = sandbox.auth
    if not auth.maps_groups:
        return {}
    common: dict[str, Any] = {
        "manage_groups": True,
        "group_map": group_map(sandbox),
        "member_groups": member_groups(sandbox),
        "admin_idp_group": auth.admin_idp_group or "",
    }
    if auth.type == "oidc":
        return {
            SECTIONS["oidc"]: {
                **common,
                "issuer": auth.issuer,
                "client_id": auth.client_id,
                "oauth_callback_url": f"{public_url}/hub/oauth_callback",
                "scope": list(auth.scopes),
                "username_claim": auth.username_claim,
                "groups_claim": auth.groups_claim,
                "login_service": "your organisation's account",
            }
        }
    host, _, port = (auth.server or "").split("://", 1)[1].rstrip("/").partition(":")
    tls = (auth.server or "").startswith("ldaps://")
    settings: dict[str, Any] = {
        **common,
        "server_address": host,
        "server_port": int(port) if port else (636 if tls else 389),
        "tls_strategy": "on_connect" if tls else "insecure",
        "user_attribute": auth.user_attribute,
        "group_base": auth.group_base or "",
        "group_member_attribute": auth.group_member_attribute,
    }
    if auth.bind_dn_template:
        settings["bind_dn_template"] = list(auth.bind_dn_template)
    else:
        settings["lookup_dn"] = True
        settings["lookup_dn_user_dn_attribute"] = auth.user_attribute
    if auth.user_base:
        settings["user_search_base"] = auth.user_base
    if auth.bind_dn:
        settings["lookup_dn_search_user"] = auth.bind_dn
    return {SECTIONS["ldap"]: settings}


def discover(issuer: str, timeout: float = DISCOVERY_TIMEOUT) -> dict[str, str]:
    """The endpoints an OIDC issuer publishes (oauthenticator does no discovery)."""
    url = issuer.rstrip("/") + DISCOVERY
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        document = json.load(answer)
    return {
        "authorize_url": document["authorization_endpoint"],
        "token_url": document["token_endpoint"],
        "userdata_url": document["userinfo_endpoint"],
    }


def configure_identity(c: Any, auth_type: str, read_secret: Any) -> None:
    """At hub start: the secret from its 0600 file, and for OIDC the endpoints
    from the issuer's discovery document."""
    if auth_type not in SECTIONS:
        return
    section = c[SECTIONS[auth_type]]
    name, _ = SECRET_SOURCES[auth_type]
    secret = read_secret(name)
    if auth_type == "oidc":
        if secret is None:
            raise RuntimeError(f"no OIDC client secret: the file {name} is missing (run `up`)")
        section.client_secret = secret
        section.update(discover(section.issuer))
    elif secret is not None:
        section.lookup_dn_search_password = secret


def mounts_of_groups(
    group_datasets: dict[str, list[dict[str, Any]]], groups: list[str]
) -> list[dict[str, Any]]:
    """The datasets of ``groups`` (one entry per dataset, sorted by id), with
    the purposes and the groups of every grant of it."""
    merged: dict[str, dict[str, Any]] = {}
    for group in sorted(groups):
        for entry in group_datasets.get(group, []):
            if entry["id"] not in merged:
                merged[entry["id"]] = {**entry, "purposes": [], "groups": []}
            into = merged[entry["id"]]
            into["purposes"] = sorted({*into["purposes"], *entry["purposes"]})
            into["groups"] = sorted({*into["groups"], *entry["groups"]})
    return [merged[i] for i in sorted(merged)]
