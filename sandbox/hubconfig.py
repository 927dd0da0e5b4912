"""The hub configuration as a pure function of the model.

``hub_settings`` returns plain JSON data: traitlets sections and values, plus
the names of secret files the hub reads at start. Ansible writes it to
``hub.json``; ``sandbox/hub/jupyterhub_config.py`` applies it. No secret value
ever appears here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .catalog import StagedDataset
from .hubpages import template_vars
from .layout import Layout
from .model import Sandbox

SPAWNERS = {
    "docker": "sandbox.spawner.SandboxDockerSpawner",
    "swarm": "sandbox.spawner.SandboxSwarmSpawner",
    "local": "sandbox.spawner.SandboxLocalSpawner",
}
AUTHENTICATORS = {
    "shared-password": "shared-password",
    "native": "nativeauthenticator.NativeAuthenticator",
    "oidc": "oauthenticator.generic.GenericOAuthenticator",
    "ldap": "ldapauthenticator.LDAPAuthenticator",
}
AUTH_SECTIONS = {
    "shared-password": "SharedPasswordAuthenticator",
    "native": "NativeAuthenticator",
    "oidc": "GenericOAuthenticator",
    "ldap": "LDAPAuthenticator",
}
HOME = "/home/jovyan"
CLI_SERVICE = "sandbox-cli"
CULLER_SERVICE = "idle-culler"
REGISTRY_SERVICE = "registry"
TMP_SIZE_BYTES = 512 * 1024**2


@dataclass(frozen=True)
class HubInputs:
    """What the hub config depends on besides the sandbox model."""

    layout: Layout  # the state directory on the host that runs the hub
    image: str  # notebook image tag
    python: str  # interpreter of the hub's venv
    proxy_command: str  # configurable-http-proxy executable
    network_mode: str = "bridge"  # bridge | loopback (host networking on 127.0.0.1)
    registry_url: str = ""  # access log database
    clock_file: str = ""  # tests and drills only: a file holding "today"
    organisation: str = ""
    catalog: tuple[dict[str, Any], ...] = ()  # every data card, summarised
    tier: int = 0  # highest tier of the datasets granted in the sandbox


def guarded(inputs: HubInputs) -> list[str]:
    """The hub's Python, run so that a service dies with the hub (sandbox.orphanguard)."""
    return [inputs.python, "-m", "sandbox.orphanguard", inputs.python]


def container_prefix(sandbox: str) -> str:
    return f"sandbox-{sandbox}-"


def network_name(sandbox: Sandbox, mode: str) -> str:
    return "host" if mode == "loopback" else f"sandbox-{sandbox.name}"


def user_mounts(sandbox: Sandbox, staged: dict[str, StagedDataset]) -> dict[str, list[dict]]:
    """username -> datasets granted to any of the user's groups (sorted, unique),
    with what the spawner needs to re-check them at every server start."""
    mounts: dict[str, list[dict]] = {}
    for user in sandbox.users:
        purposes: dict[str, set[str]] = {}
        for group in sandbox.groups_of(user):
            for grant in group.grants:
                purposes.setdefault(grant.dataset, set()).add(grant.purpose)
        mounts[user] = [
            _mount(staged[i], sorted(purposes[i])) for i in sorted(purposes) if i in staged
        ]
    return mounts


def _mount(staged: StagedDataset, purposes: list[str]) -> dict[str, Any]:
    until = staged.valid_until
    return {
        "id": staged.id,
        "path": str(staged.path),
        "version": staged.version,
        "digest": staged.digest,
        "valid_until": until.isoformat() if until else None,
        "purposes": purposes,
        "legal_basis": list(staged.legal_basis),
        "files": [{"path": p, "sha256": sha} for p, sha in staged.files],
    }


def governance_settings(
    sandbox: Sandbox, staged: dict[str, StagedDataset], inputs: HubInputs
) -> dict:
    """Spawner settings for the checks at every server start."""
    folder = inputs.layout.sandbox_dir(sandbox.name)
    return {
        "user_datasets": user_mounts(sandbox, staged),
        "sandbox_name": sandbox.name,
        "registry_url": inputs.registry_url,
        "checksum_cache": str(folder / "checksums.json"),
        "notices_dir": str(folder / "notices"),
        "clock_file": inputs.clock_file,
    }


def hub_settings(
    sandbox: Sandbox, staged: dict[str, StagedDataset], inputs: HubInputs
) -> dict[str, Any]:
    layout, name, hub = inputs.layout, sandbox.name, sandbox.hub
    hub_dir = layout.hub_dir(name)
    loopback = inputs.network_mode == "loopback"
    roles: list[dict[str, Any]] = [
        {
            "name": CLI_SERVICE,
            "scopes": ["list:users", "read:users", "read:servers", "read:users:activity"],
            "services": [CLI_SERVICE],
        }
    ]
    services: list[dict[str, Any]] = [
        {"name": CLI_SERVICE},
        {
            "name": REGISTRY_SERVICE,
            "url": f"http://127.0.0.1:{hub.registry_port}",
            "command": [*guarded(inputs), "-m", "sandbox.service", str(hub_dir / "hub.json")],
            "oauth_no_confirm": True,
            "display": True,
        },
    ]
    roles.append(
        {
            "name": "registry-users",
            "scopes": [f"access:services!service={REGISTRY_SERVICE}"],
            "users": sandbox.users,
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
            # bridge: the hub binds the sandbox network's gateway, resolved at hub start
            "hub_ip": "127.0.0.1",
            "hub_port": hub.hub_api_port,
            "db_url": f"sqlite:///{hub_dir / 'jupyterhub.sqlite'}",
            "cookie_secret_file": str(layout.secret(name, "cookie_secret")),
            "authenticator_class": AUTHENTICATORS[sandbox.auth.type],
            "spawner_class": SPAWNERS[sandbox.spawner],
            "cleanup_servers": False,
            "load_groups": {
                g.name: {"users": list(g.members), "properties": {"role": g.role}}
                for g in sandbox.groups
            },
            "load_roles": roles,
            "services": services,
            "template_vars": template_vars(sandbox, inputs.tier),
        },
        "ConfigurableHTTPProxy": {
            "command": [inputs.proxy_command],
            "api_url": f"http://127.0.0.1:{hub.proxy_port}",
            "pid_file": str(hub_dir / "proxy.pid"),
        },
        "Authenticator": {
            "allowed_users": [u for u in sandbox.users if u not in sandbox.admins],
            "admin_users": list(sandbox.admins),
        },
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
            "environment": {"SANDBOX_NAME": name, **registry_environment(sandbox, inputs)},
        },
    }
    if sandbox.spawner != "local":
        traitlets[spawner_section] = _container_settings(sandbox, staged, inputs)
    else:
        traitlets[spawner_section] = {
            **governance_settings(sandbox, staged, inputs),
            "homes_dir": str(layout.sandbox_dir(name) / "homes"),
        }
    bridge_network = (
        network_name(sandbox, inputs.network_mode)
        if sandbox.spawner != "local" and not loopback
        else None
    )
    return {
        "sandbox": name,
        "registry": registry_settings(sandbox, inputs),
        "bridge_network": bridge_network,
        "expires": sandbox.expires.isoformat() if sandbox.expires else None,
        "clock_file": inputs.clock_file,
        "secrets_dir": str(layout.secrets_dir(name)),
        "auth": sandbox.auth.type,
        "traitlets": traitlets,
    }


def registry_environment(sandbox: Sandbox, inputs: HubInputs) -> dict[str, str]:
    """Where the notebook client finds the registry API: containers on loopback
    reach the hub's proxy; on a bridge network the hub sets it at start, to the
    network's gateway (hubruntime.serve_registry_on)."""
    if inputs.network_mode != "loopback" and sandbox.spawner != "local":
        return {}
    return {"SANDBOX_REGISTRY_API": registry_api(f"http://127.0.0.1:{sandbox.hub.port}")}


def registry_api(root: str) -> str:
    """The registry service's API under ``root`` (the proxy, or the service itself)."""
    return f"{root}/services/{REGISTRY_SERVICE}/api"


def registry_settings(sandbox: Sandbox, inputs: HubInputs) -> dict[str, Any]:
    """What the registry service needs: who has which role, and the catalog."""
    roles: dict[str, set[str]] = {user: set() for user in sandbox.users}
    for group in sandbox.groups:
        for member in group.members:
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
        "port": sandbox.hub.registry_port,
        "registry_url": inputs.registry_url,
        "roles": {user: sorted(r) for user, r in roles.items()},
        "catalog": {"datasets": list(inputs.catalog), "granted": granted},
    }


def _container_settings(
    sandbox: Sandbox, staged: dict[str, StagedDataset], inputs: HubInputs
) -> dict[str, Any]:
    name = sandbox.name
    loopback = inputs.network_mode == "loopback"
    labels = {"org.data-sandbox.sandbox": name, "org.data-sandbox.user": "{username}"}
    settings: dict[str, Any] = {
        "image": inputs.image,
        "pull_policy": "never",
        "remove": True,
        "name_template": container_prefix(name) + "{username}",
        "volumes": {f"sandbox-{name}-home-{{username}}": HOME},
        "notebook_dir": HOME,
        "mem_limit": sandbox.resources.memory_bytes,
        "cpu_limit": sandbox.resources.cpus,
        "network_name": network_name(sandbox, inputs.network_mode),
        # loopback: no port bindings (host networking refuses them); see get_ip_and_port
        "use_internal_ip": True,
        **governance_settings(sandbox, staged, inputs),
        "loopback": loopback,
    }
    if loopback:
        settings["ip"] = "127.0.0.1"
    if sandbox.spawner == "swarm":
        # a swarm service takes its hardening in the ContainerSpec; Docker's
        # service API has no no-new-privileges or tmpfs mount options (docs/swarm.md)
        settings["extra_container_spec"] = {
            "user": "1000:1000",
            "cap_drop": ["ALL"],
            "labels": labels,
        }
        settings["extra_create_kwargs"] = {"labels": labels}
        settings["pids_limit"] = sandbox.resources.pids
        settings["tmp_size"] = TMP_SIZE_BYTES
        if loopback:  # servers listen on the loopback of the hub's node
            settings["extra_placement_spec"] = {"constraints": ["node.role == manager"]}
        return settings
    settings["extra_create_kwargs"] = {"user": "1000:1000", "labels": labels}
    settings["extra_host_config"] = {
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "pids_limit": sandbox.resources.pids,
        "privileged": False,
        "tmpfs": {"/tmp": f"rw,noexec,nosuid,size={TMP_SIZE_BYTES}"},
    }
    return settings
