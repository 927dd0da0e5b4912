"""Applied inside the hub process by ``jupyterhub_config.py``.

Reads ``hub.json`` (rendered by ``hubconfig.hub_settings``) and the secret
files it names, and installs the pre-spawn check.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from tornado import web

from .hubconfig import REGISTRY_SERVICE, registry_api


def read_secret(secrets_dir: Path, name: str) -> str:
    return (secrets_dir / name).read_text(encoding="utf-8").strip()


def configure(c: Any, settings_path: str | Path) -> dict[str, Any]:
    settings = json.loads(Path(settings_path).read_text(encoding="utf-8"))
    for section, values in settings["traitlets"].items():
        for key, value in values.items():
            c[section][key] = value
    secrets = Path(settings["secrets_dir"])
    os.environ["CONFIGPROXY_AUTH_TOKEN"] = read_secret(secrets, "proxy_token")
    services = c.JupyterHub.services
    for service in services:
        if service["name"] == "sandbox-cli":
            service["api_token"] = read_secret(secrets, "cli_token")
    if settings["auth"] == "shared-password":
        c.SharedPasswordAuthenticator.user_password = read_secret(secrets, "user_password")
        c.SharedPasswordAuthenticator.admin_password = read_secret(secrets, "admin_password")
    # the sandbox banner and login form; JupyterHub's own templates stay reachable
    # as "templates/page.html" for ours to extend
    c.JupyterHub.template_paths = [str(Path(__file__).parent / "hub" / "templates")]
    c.Spawner.pre_spawn_hook = make_pre_spawn_hook(settings, clock(settings.get("clock_file")))
    if settings.get("bridge_network"):
        gateway = network_gateway(settings["bridge_network"])
        # containers reach the hub on their network's gateway, an address of
        # this host that the outside world cannot route to
        c.JupyterHub.hub_ip = gateway
        c.JupyterHub.hub_connect_ip = gateway
        serve_registry_on(c, gateway)
    return settings


def serve_registry_on(c: Any, address: str) -> None:
    """Bridge networks: the proxy listens on the host's loopback, out of the
    containers' reach, so the registry service listens on the network's gateway
    and notebook clients call it there (with their server token, as ever)."""
    for service in c.JupyterHub.services:
        if service["name"] == REGISTRY_SERVICE and service.get("url"):
            port = service["url"].rsplit(":", 1)[1]
            service["url"] = f"http://{address}:{port}"
            environment = dict(c.Spawner.environment)
            environment["SANDBOX_REGISTRY_API"] = registry_api(service["url"])
            c.Spawner.environment = environment


def network_gateway(name: str, client: Any = None) -> str:
    if client is None:
        import docker

        client = docker.from_env()
    network = client.networks.get(name)
    for entry in network.attrs.get("IPAM", {}).get("Config") or []:
        if entry.get("Gateway"):
            return str(entry["Gateway"])
    raise RuntimeError(f"Docker network {name} has no gateway address")


def clock(clock_file: str | None) -> Callable[[], date]:
    """Today's date; tests and drills may pin it in a file."""
    if clock_file:
        return lambda: date.fromisoformat(Path(clock_file).read_text().strip())
    return lambda: datetime.now(UTC).date()


def make_pre_spawn_hook(settings: dict[str, Any], today: Callable[[], date] = date.today):
    expires = date.fromisoformat(settings["expires"]) if settings.get("expires") else None

    def pre_spawn_hook(spawner: Any) -> None:
        if expires and today() > expires:
            raise web.HTTPError(
                403,
                f"Sandbox {settings['sandbox']} expired on {expires.isoformat()}: "
                "no new servers start (rule 7).",
            )

    return pre_spawn_hook
