"""The hub configuration as a pure function of the model.

``hub_settings`` returns plain JSON data: traitlets sections and values, plus
the names of secret files the hub reads at start. Ansible writes it to
``hub.json``; ``sandbox/hub/jupyterhub_config.py`` applies it. No secret value
ever appears here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath, PurePosixPath
from typing import Any, TypedDict
from urllib.parse import quote

from ..config.model import Group, Sandbox
from ..governance.catalog import StagedDataset
from ..governance.policy import partner_listing
from ..host import names, relay
from ..host.dockerd import LOG_OPTIONS
from ..host.layout import Layout
from . import identity
from .pages import template_vars

SPAWNERS = {
    "docker": "sandbox.hub.spawner.SandboxDockerSpawner",
    "swarm": "sandbox.hub.swarm.SandboxSwarmSpawner",
    "local": "sandbox.hub.spawner.SandboxLocalSpawner",
}
AUTHENTICATORS = {
    "shared-password": "shared-password",
    "native": "nativeauthenticator.NativeAuthenticator",
    "per-user-password": "sandbox.hub.password_login.PerUserPasswordAuthenticator",
    "oidc": "oauthenticator.generic.GenericOAuthenticator",
    "ldap": "ldapauthenticator.LDAPAuthenticator",
}
AUTH_SECTIONS = {
    "shared-password": "SharedPasswordAuthenticator",
    "native": "NativeAuthenticator",
    "per-user-password": "PerUserPasswordAuthenticator",
    "oidc": "GenericOAuthenticator",
    "ldap": "LDAPAuthenticator",
}
HOME = "/home/jovyan"
CLI_SERVICE = "sandbox-cli"
CULLER_SERVICE = "idle-culler"
EXPIRY_SERVICE = "expiry"  # stops running servers once the sandbox expired
REGISTRY_SERVICE = "registry"
# Every hub page and API answer names its sandbox: `up` and `status` check
# that the hub answering on the port is this sandbox's, not another's.
SANDBOX_HEADER = "X-Data-Sandbox"
# Size-limited and non-executable, the only places beside the home a server
# may write: the root filesystem is read-only. /run is root's (it hides the
# image's world-writable /run/lock).
TMPFS = {
    "/tmp": {"size": 512 * 1024**2, "mode": 0o1777},
    "/var/tmp": {"size": 128 * 1024**2, "mode": 0o1777},
    "/run": {"size": 16 * 1024**2, "mode": 0o755},
}
CONTAINER_UID = 1000
# The hub's socket: the servers of every user connect to it (through the
# read-only mount of the hub's socket folder, which no host user can reach).
HUB_SOCKET_MODE = 0o666
PICK_PORT = 0  # a service URL with this port gets a free one when the hub starts
# Where a container sees its socket folders: fixed short paths, whatever the
# host's state directory (which a container user may not even traverse).
CONTAINER_SERVER_SOCKETS = PurePosixPath("/sandbox/server")
CONTAINER_HUB_SOCKETS = PurePosixPath("/sandbox/hub")
# A swarm server reaches the hub and the registry through its relay, which
# answers under this name on the server's own overlay network (docs/swarm.md).
RELAY_ALIAS = "hub"
RELAY_HUB_PORT = 8081
RELAY_REGISTRY_PORT = 8082
SERVER_PORT = 8888  # where a swarm server listens on its overlay network


@dataclass(frozen=True)
class HubInputs:
    """What the hub config depends on besides the sandbox model."""

    layout: Layout  # the state directory on the host that runs the hub
    image: str  # notebook image tag
    python: str  # interpreter of the hub's venv
    proxy_command: str  # configurable-http-proxy executable
    registry_url: str = ""  # access log database
    clock_file: str = ""  # tests and drills only: a file holding "today"
    organisation: str = ""
    catalog: tuple[dict[str, Any], ...] = ()  # every data card, summarised
    tier: int = 0  # highest tier of the datasets granted in the sandbox


def guarded(inputs: HubInputs) -> list[str]:
    """The hub's Python, run so that a service dies with the hub (sandbox.host.orphanguard)."""
    return [inputs.python, "-m", "sandbox.host.orphanguard", inputs.python]


def network_name(sandbox: Sandbox) -> str:
    """Docker containers without egress get no network at all, only their own
    loopback; others join the sandbox's own network (see ``network_spec``).
    A swarm server gets an overlay network of its own (``SandboxSwarmSpawner``)."""
    if sandbox.spawner == "docker" and not sandbox.network.egress:
        return names.NO_NETWORK
    return names.network_name(sandbox.name)


NO_ICC = "com.docker.network.bridge.enable_icc=false"


def network_spec(sandbox: Sandbox) -> dict[str, Any] | None:
    """The Docker network a sandbox's containers join, as the commands that
    create it; None when they join none made here: docker containers without
    egress have no network, and a swarm server's network is made by the hub
    for that server alone. With egress, a docker sandbox's containers join a
    local bridge without traffic between its containers (icc off).

    ``labelled`` is the network that carries the design label, ``design_label``.
    """
    if sandbox.spawner != "docker" or not sandbox.network.egress:
        return None
    name, design = network_name(sandbox), "bridge; no icc"
    create = [["docker", "network", "create", *_labels(sandbox, design), "--opt", NO_ICC, name]]
    return {
        "name": name,
        "labelled": name,
        "design_label": names.LABEL_DESIGN,
        "design": design,
        "create": create,
        "remove": [name],
    }


def _labels(sandbox: Sandbox, design: str) -> list[str]:
    return [
        "--label", f"{names.LABEL_SANDBOX}={sandbox.name}",
        "--label", f"{names.LABEL_DESIGN}={design}",
    ]  # fmt: skip


def socket_url(path: PurePath) -> str:
    """``http+unix://`` URL of a unix socket, as JupyterHub and the proxy take it."""
    return "http+unix://" + quote(str(path), safe="")


def local_url(sandbox: Sandbox) -> str:
    """The proxy as this host reaches it (loopback when it listens everywhere)."""
    ip = sandbox.hub.ip
    return f"http://{'127.0.0.1' if ip in ('', '0.0.0.0', '::') else ip}:{sandbox.hub.port}"


def hub_api(sandbox: Sandbox) -> str:
    """The hub's REST API through the proxy (the hub itself listens on a socket)."""
    return f"{local_url(sandbox)}/hub/api"


def user_mounts(sandbox: Sandbox, staged: dict[str, StagedDataset]) -> dict[str, list[dict]]:
    """username -> datasets granted to any of the user's groups (sorted, unique),
    with what the spawner needs to re-check them at every server start."""
    mounts: dict[str, list[dict]] = {}
    for user in sandbox.users:
        purposes: dict[str, set[str]] = {}
        granting: dict[str, set[str]] = {}
        for group in sandbox.groups_of(user):
            for grant in group.grants:
                purposes.setdefault(grant.dataset, set()).add(grant.purpose)
                granting.setdefault(grant.dataset, set()).add(group.name)
        mounts[user] = [
            _mount(staged[i], sorted(purposes[i]), sorted(granting[i]))
            for i in sorted(purposes)
            if i in staged
        ]
    return mounts


def group_mounts(sandbox: Sandbox, staged: dict[str, StagedDataset]) -> dict[str, list[dict]]:
    """group -> its datasets: what a server start mounts when the identity
    provider decides, at each login, who is in which group."""
    return {
        group.name: [
            _mount(staged[g.dataset], [g.purpose], [group.name])
            for g in sorted(group.grants, key=lambda g: g.dataset)
            if g.dataset in staged
        ]
        for group in sandbox.groups
    }


def partner_agreements(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    """username -> the organisation and agreement of each member from another
    organisation: every server start checks the agreement (rule 10)."""
    out: dict[str, dict[str, Any]] = {}
    for group in sandbox.groups:
        if group.organisation is not None:
            for name in group.member_names:  # a partner group's listed members
                out[name] = group_agreement(group)
        for member in group.partners:
            agreement = member.agreement
            out[member.name] = {
                "organisation": member.organisation,
                "reference": agreement.reference if agreement else None,
                "valid_until": agreement.valid_until.isoformat() if agreement else None,
            }
    return out


def group_agreement(group: Group) -> dict[str, Any]:
    agreement = group.agreement
    return {
        "organisation": group.organisation,
        "reference": agreement.reference if agreement else None,
        "valid_until": agreement.valid_until.isoformat() if agreement else None,
    }


def partner_groups(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    """group -> the organisation and agreement of each partner group: with an
    identity provider, whoever it puts in such a group at login is checked at
    every start (rule 10)."""
    if not sandbox.auth.maps_groups:
        return {}  # their members are listed, and in partner_agreements
    return {g.name: group_agreement(g) for g in sandbox.groups if g.organisation is not None}


def _mount(staged: StagedDataset, purposes: list[str], groups: list[str]) -> dict[str, Any]:
    until = staged.valid_until
    return {
        "id": staged.id,
        "path": str(staged.path),
        "version": staged.version,
        "digest": staged.digest,
        "valid_until": until.isoformat() if until else None,
        "purposes": purposes,
        "groups": groups,  # the groups that grant it (the access log names them)
        "legal_basis": list(staged.legal_basis),
        "processing_activity": staged.processing_activity,
        "files": [{"path": p, "sha256": sha} for p, sha in staged.files],
    }


def governance_settings(
    sandbox: Sandbox, staged: dict[str, StagedDataset], inputs: HubInputs
) -> dict:
    """Spawner settings for the checks at every server start."""
    layout, name = inputs.layout, sandbox.name
    return {
        "user_datasets": user_mounts(sandbox, staged),
        "group_datasets": group_mounts(sandbox, staged) if sandbox.auth.maps_groups else {},
        "partners": partner_agreements(sandbox),
        "partner_groups": partner_groups(sandbox),
        "sandbox_name": sandbox.name,
        "registry_url": inputs.registry_url,
        "checksum_cache": str(layout.hub_checksum_cache(name)),
        "notices_dir": str(layout.notices_dir(name)),
        "clock_file": inputs.clock_file,
    }


def team_folder_settings(sandbox: Sandbox) -> dict[str, Any]:
    """Spawner settings: which groups have a team folder, and who is in which group."""
    return {
        "team_folders": {
            g.name: names.team_volume(sandbox.name, g.name)
            for g in sandbox.groups
            if g.shared_folder
        },
        "member_groups": {
            user: [g.name for g in sandbox.groups_of(user)] for user in sandbox.users
        },
        "groups_at_login": sandbox.auth.maps_groups,
    }


class RegistrySettings(TypedDict):
    """What the registry service reads from hub.json (its "registry" key)."""

    sandbox: str
    lang: str
    organisation: str
    teams: dict[str, list[str]]  # user -> the analyst groups they belong to
    group_roles: dict[str, str]  # oidc, ldap: group -> role, for the groups of the last login
    socket: str  # where containers reach the service
    registry_url: str
    witness_file: str  # where the service witnesses the audit chain's head, daily
    roles: dict[str, list[str]]  # user -> analyst | manager | steward | admin
    catalog: dict[str, Any]  # {"datasets": every card summarised, "granted": user -> ids}
    airlock: dict[str, Any]  # sandbox.registry.outputs.Airlock, as JSON


class HubSettings(TypedDict):
    """hub.json: what ``sandbox up`` writes for a hub and ``runtime.configure``
    applies inside it (no secret values: only where the secret files are)."""

    sandbox: str
    registry: RegistrySettings
    expires: str | None
    clock_file: str
    secrets_dir: str
    auth: str
    traitlets: dict[str, dict[str, Any]]  # section -> trait -> value


def hub_settings(
    sandbox: Sandbox, staged: dict[str, StagedDataset], inputs: HubInputs
) -> HubSettings:
    layout, name, hub = inputs.layout, sandbox.name, sandbox.hub
    roles: list[dict[str, Any]] = [
        {
            "name": CLI_SERVICE,
            # `up` deletes revoked users and stops servers that lost a grant
            "scopes": [
                "list:users",
                "read:users",
                "read:servers",
                "read:users:activity",
                "delete:users",
                "delete:servers",
            ],
            "services": [CLI_SERVICE],
        }
    ]
    services: list[dict[str, Any]] = [
        {"name": CLI_SERVICE},
        {
            "name": REGISTRY_SERVICE,
            # JupyterHub routes services to TCP only: a loopback port picked at
            # hub start (runtime.pick_service_ports); containers use its socket
            "url": f"http://127.0.0.1:{PICK_PORT}",
            "command": [
                *guarded(inputs),
                "-m",
                "sandbox.registry.service",
                str(layout.hub_settings(name)),
            ],
            "oauth_no_confirm": True,
            "display": True,
        },
    ]
    roles.append(
        {
            "name": "registry-users",
            "scopes": [f"access:services!service={REGISTRY_SERVICE}"],
            "users": sandbox.users,
            # members an identity provider names are known by their groups only
            "groups": [g.name for g in sandbox.groups] if sandbox.auth.maps_groups else [],
        }
    )
    if sandbox.expires:
        services.append(
            {
                "name": EXPIRY_SERVICE,
                "command": [
                    *guarded(inputs),
                    "-m",
                    "sandbox.hub.expiry",
                    str(layout.hub_settings(name)),
                    hub_api(sandbox),
                ],
            }
        )
        roles.append(
            {
                "name": EXPIRY_SERVICE,
                "scopes": ["list:users", "read:servers", "delete:servers"],
                "services": [EXPIRY_SERVICE],
            }
        )
    if sandbox.idle_seconds:
        services.append(
            {
                "name": CULLER_SERVICE,
                "command": [
                    *guarded(inputs),
                    "-m",
                    "jupyterhub_idle_culler",
                    # the culler speaks TCP only: it reaches the hub API through the proxy
                    f"--url={hub_api(sandbox)}",
                    f"--timeout={sandbox.idle_seconds}",
                    f"--cull-every={max(60, min(600, sandbox.idle_seconds // 4))}",
                ],
            }
        )
        roles.append(
            {
                "name": CULLER_SERVICE,
                "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
                "services": [CULLER_SERVICE],
            }
        )
    spawner_section = SPAWNERS[sandbox.spawner].rsplit(".", 1)[1]
    traitlets: dict[str, dict[str, Any]] = {
        "JupyterHub": {
            "ip": hub.ip,
            "port": hub.port,
            # the hub API listens on a unix socket only; servers reach it through
            # the read-only mount of its folder, never over a network
            "hub_bind_url": socket_url(layout.hub_socket(name)),
            "hub_connect_url": socket_url(layout.hub_socket(name)),
            "hub_socket_mode": HUB_SOCKET_MODE,
            "db_url": f"sqlite:///{layout.hub_database(name)}",
            "cookie_secret_file": str(layout.secret(name, "cookie_secret")),
            "authenticator_class": identity.AUTHENTICATOR_CLASSES.get(
                sandbox.auth.type, AUTHENTICATORS[sandbox.auth.type]
            ),
            "spawner_class": SPAWNERS[sandbox.spawner],
            "cleanup_servers": False,
            # an identity provider's logins set the groups (manage_groups)
            "load_groups": {}
            if sandbox.auth.maps_groups
            else {
                g.name: {"users": g.member_names, "properties": {"role": g.role}}
                for g in sandbox.groups
            },
            "load_roles": roles,
            "services": services,
            "template_vars": template_vars(sandbox, inputs.tier),
            "tornado_settings": {"headers": {SANDBOX_HEADER: name}},
            # behind a TLS-terminating proxy: links, redirects and cookies for that URL
            **({"public_url": sandbox.hub.url} if sandbox.hub.public_url else {}),
        },
        "ConfigurableHTTPProxy": {
            "command": [inputs.proxy_command],
            "api_url": socket_url(layout.proxy_api_socket(name)),
            "pid_file": str(layout.proxy_pidfile(name)),
        },
        "Authenticator": {
            "allowed_users": [u for u in sandbox.users if u not in sandbox.admins],
            "admin_users": list(sandbox.admins),
            # JupyterHub's default lets every user still in its database log in:
            # a user removed from the config would keep their login
            "allow_existing_users": False,
        },
        **identity.authenticator_settings(
            sandbox, sandbox.hub.url.rstrip("/") if sandbox.hub.public_url else local_url(sandbox)
        ),
        AUTH_SECTIONS[sandbox.auth.type]: dict(sandbox.auth.settings),
        "Spawner": {
            # the notebook client talks to the registry with the server's token
            "server_token_scopes": [
                "users:activity!user",
                "access:servers!server",
                f"access:services!service={REGISTRY_SERVICE}",
            ],
            "default_url": "/lab",
            "start_timeout": 120,
            "http_timeout": 60,
            "environment": {
                **no_downloads(inputs.tier),
                "SANDBOX_NAME": name,
                "SANDBOX_REGISTRY_API": registry_api(
                    socket_url(layout.registry_socket(name))
                    if sandbox.spawner == "local"
                    else socket_url(CONTAINER_HUB_SOCKETS / layout.registry_socket(name).name)
                ),
            },
        },
    }
    if sandbox.spawner != "local":
        traitlets[spawner_section] = _container_settings(sandbox, staged, inputs)
    else:
        traitlets[spawner_section] = {
            **governance_settings(sandbox, staged, inputs),
            "homes_dir": str(layout.homes_dir(name)),
        }
    return {
        "sandbox": name,
        "registry": registry_settings(sandbox, inputs),
        "expires": sandbox.expires.isoformat() if sandbox.expires else None,
        "clock_file": inputs.clock_file,
        "secrets_dir": str(layout.secrets_dir(name)),
        "auth": sandbox.auth.type,
        "traitlets": traitlets,
    }


# in the notebook image (images/notebook/no-downloads)
NO_DOWNLOADS_CONFIG = "/opt/sandbox/etc/jupyter-no-downloads"


def no_downloads(tier: int) -> dict[str, str]:
    """From tier 2, results leave only through the output airlock: the image's
    config that turns off downloads."""
    return {"JUPYTER_CONFIG_PATH": NO_DOWNLOADS_CONFIG} if tier >= 2 else {}


def registry_api(root: str) -> str:
    """The registry service's API under ``root`` (the proxy, or the service's socket)."""
    return f"{root}/services/{REGISTRY_SERVICE}/api"


def registry_settings(sandbox: Sandbox, inputs: HubInputs) -> RegistrySettings:
    """What the registry service needs: who has which role, and the catalog."""
    roles: dict[str, set[str]] = {user: set() for user in sandbox.users}
    for group in sandbox.groups:
        for member in group.member_names:
            roles[member].add(group.role)
    for admin in sandbox.admins:
        roles[admin].add("admin")
    granted = {
        user: sorted({g.dataset for group in sandbox.groups_of(user) for g in group.grants})
        for user in sandbox.users
    }
    teams = {
        user: [g.name for g in sandbox.groups_of(user) if g.role == "analyst"]
        for user in sandbox.users
    }
    return {
        "sandbox": sandbox.name,
        "lang": sandbox.lang,
        "organisation": inputs.organisation,
        "teams": teams,
        # oidc, ldap: a sandbox group -> the role its members have, as of their last login
        "group_roles": {g.name: g.role for g in sandbox.groups} if sandbox.auth.maps_groups else {},
        "socket": str(inputs.layout.registry_socket(sandbox.name)),
        "registry_url": inputs.registry_url,
        "witness_file": str(inputs.layout.witness_file()),
        "roles": {user: sorted(r) for user, r in roles.items()},
        "catalog": {
            "datasets": list(inputs.catalog),
            "granted": granted,
            "team_folders": derived_stores(sandbox, inputs.catalog),
            # who comes from another organisation (the page says whether each still may)
            "partners": partner_listing(sandbox, dt.date.min),
        },
        "airlock": airlock_settings(sandbox, inputs),
    }


def derived_stores(sandbox: Sandbox, catalog: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The team folders, as the catalog lists them: derived data, at the highest
    tier of the datasets their group is granted."""
    tiers = {card["id"]: int(card["tier"]) for card in catalog}
    stores = []
    for group in sandbox.groups:
        if not group.shared_folder:
            continue
        sources = sorted({g.dataset for g in group.grants})
        stores.append(
            {
                "group": group.name,
                "folder": names.team_mount(group.name),
                "tier": max((tiers.get(d, 0) for d in sources), default=0),
                "derived_from": sources,
                "members": group.member_names,
            }
        )
    return stores


def airlock_settings(sandbox: Sandbox, inputs: HubInputs) -> dict[str, Any]:
    """The sandbox's output airlock (``outputs.Airlock.from_settings``): its
    folders, rules, and the pii columns of every dataset granted in it."""
    granted = {g.dataset for group in sandbox.groups for g in group.grants}
    pii = sorted(
        {
            column.lower()
            for card in inputs.catalog
            if card["id"] in granted
            for column in card.get("pii_columns", [])
        }
    )
    rules = sandbox.airlock
    return {
        "sandbox": sandbox.name,
        "tier": inputs.tier,
        "copies": str(inputs.layout.airlock_dir(sandbox.name)),
        "outbox": str(inputs.layout.outbox_dir(sandbox.name)),
        "max_bytes": rules.max_bytes,
        "rules": {
            "threshold": rules.threshold,
            "p_ratio": rules.p_ratio,
            "nk_n": rules.nk[0],
            "nk_k": rules.nk[1],
        },
        "pii_columns": pii,
        # where the service finds a requester's home on this host
        "homes_dir": str(inputs.layout.homes_dir(sandbox.name))
        if sandbox.spawner == "local"
        else "",
        "home_volume_prefix": names.home_volume_prefix(sandbox.name),
        # a swarm server's home is on the node that runs it
        "swarm": sandbox.spawner == "swarm",
    }


def staged_node_label(sandbox: Sandbox, staged: dict[str, StagedDataset]) -> tuple[str, str]:
    """The label (key, value) of a swarm node that staged and verified the
    sandbox's dataset versions: the playbook sets it, servers are placed by it."""
    return names.staged_label(sandbox.name), names.staged_digest(
        str(s.path) for s in staged.values()
    )


def _swarm_settings(
    sandbox: Sandbox, staged: dict[str, StagedDataset], labels: dict[str, str], user: str
) -> dict[str, Any]:
    """A swarm server is a service on any node whose staged datasets match
    (the node label the playbook sets), alone on its own overlay network with
    its relay on the hub's node; the hub reaches it through that relay's
    socket (docs/swarm.md). Docker's service API has no no-new-privileges or
    tmpfs mount options."""
    label, digest = staged_node_label(sandbox, staged)
    return {
        "network_name": "",  # each server gets its own (SandboxSwarmSpawner)
        "use_internal_ip": True,  # never a published port
        "egress": sandbox.network.egress,
        "relay_script": relay.__file__,
        "hub_connect_url": f"http://{RELAY_ALIAS}:{RELAY_HUB_PORT}",
        "port": SERVER_PORT,
        "extra_container_spec": {
            "user": user,
            "cap_drop": ["ALL"],
            "labels": labels,
            "read_only": True,
        },
        "extra_task_spec": {
            "log_driver": {"Name": "json-file", "Options": dict(LOG_OPTIONS)},
            # a server whose node died stays stopped: the hub sees it at its next
            # poll, and the user's next start lands on a live node
            "restart_policy": {"Condition": "none", "MaxAttempts": 0},
        },
        # no IPVS needed: the relay finds the task by DNS
        "extra_endpoint_spec": {"mode": "dnsrr"},
        "extra_create_kwargs": {"labels": labels},
        "pids_limit": sandbox.resources.pids,
        "tmpfs": TMPFS,
        "extra_placement_spec": {"constraints": [f"node.labels.{label} == {digest}"]},
    }


def _container_settings(
    sandbox: Sandbox, staged: dict[str, StagedDataset], inputs: HubInputs
) -> dict[str, Any]:
    name, layout = sandbox.name, inputs.layout
    labels = {names.LABEL_SANDBOX: name, names.LABEL_USER: names.USERNAME}
    user = f"{CONTAINER_UID}:{CONTAINER_UID}"
    settings: dict[str, Any] = {
        "image": inputs.image,
        "pull_policy": "never",
        "remove": True,
        "name_template": names.container_name(name, names.USERNAME),
        "volumes": {names.home_volume(name, names.USERNAME): HOME},
        "notebook_dir": HOME,
        "mem_limit": sandbox.resources.memory_bytes,
        "cpu_limit": sandbox.resources.cpus,
        "network_name": network_name(sandbox),
        **governance_settings(sandbox, staged, inputs),
        **team_folder_settings(sandbox),
        "state_dir": str(layout.root),
        "socket_owner": CONTAINER_UID,
        "hub_connect_url": socket_url(CONTAINER_HUB_SOCKETS / layout.hub_socket(name).name),
    }
    if sandbox.spawner == "swarm":
        del settings["remove"]  # a service is always removed; SwarmSpawner has no such option
        settings.update(_swarm_settings(sandbox, staged, labels, user))
        return settings
    settings["extra_create_kwargs"] = {"user": user, "labels": labels}
    settings["extra_host_config"] = {
        # removed by the spawner when the server stops, never by Docker itself:
        # a dockerd restart (live-restore) kills and drops AutoRemove containers
        "auto_remove": False,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "pids_limit": sandbox.resources.pids,
        "privileged": False,
        "read_only": True,
        "tmpfs": {
            path: f"rw,noexec,nosuid,nodev,size={t['size']},mode={t['mode']:o}"
            for path, t in TMPFS.items()
        },
        "log_config": {"type": "json-file", "config": dict(LOG_OPTIONS)},
    }
    return settings
