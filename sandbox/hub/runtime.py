"""Applied inside the hub process by ``jupyterhub_config.py``.

Reads ``hub.json`` (rendered by ``sandbox.hub.settings.hub_settings``) and the secret
files it names, and installs the pre-spawn check.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from jupyterhub.utils import random_port
from tornado import web

from ..host.daemon import forget_foreign
from ..host.layout import PROXY
from .identity import configure_identity
from .pages import TEMPLATES
from .settings import PICK_PORT, HubSettings


def read_secret(secrets_dir: Path, name: str) -> str:
    return (secrets_dir / name).read_text(encoding="utf-8").strip()


def configure(c: Any, settings_path: str | Path) -> HubSettings:
    # the hub's database, the proxy's and services' files are for root's eyes
    # only; the proxy and the services inherit this from the hub
    os.umask(0o077)
    settings: HubSettings = json.loads(Path(settings_path).read_text(encoding="utf-8"))
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
    if settings["auth"] == "per-user-password":
        c.PerUserPasswordAuthenticator.passwords_dir = str(secrets)
    configure_identity(
        c,
        settings["auth"],
        lambda name: read_secret(secrets, name) if (secrets / name).is_file() else None,
    )
    # the sandbox banner and login form; JupyterHub's own templates stay reachable
    # as "templates/page.html" for ours to extend
    c.JupyterHub.template_paths = [str(TEMPLATES)]
    c.Spawner.pre_spawn_hook = make_pre_spawn_hook(
        settings["sandbox"], settings["expires"], clock(settings.get("clock_file"))
    )
    pick_service_ports(c.JupyterHub.services)
    pass_docker_host(c.JupyterHub.services, os.environ.get("DOCKER_HOST", ""))
    proxy_pidfile = settings["traitlets"].get("ConfigurableHTTPProxy", {}).get("pid_file")
    if proxy_pidfile:
        forget_foreign(Path(proxy_pidfile), PROXY)
    return settings


def pick_service_ports(services: list[dict[str, Any]]) -> None:
    """Services whose URL has port 0 get a free loopback port, so a sandbox
    holds one fixed TCP port only (the proxy's)."""
    for service in services:
        url = service.get("url", "")
        if url.endswith(f":{PICK_PORT}"):
            service["url"] = url.rsplit(":", 1)[0] + f":{random_port()}"


def pass_docker_host(services: list[dict[str, Any]], docker_host: str) -> None:
    """Services the hub runs get only the environment it gives them: the
    engine the hub's spawner uses (a node's ``sandbox_docker_host``) is the
    one the registry service must read homes from."""
    if not docker_host:
        return
    for service in services:
        if service.get("command"):
            service["environment"] = {**service.get("environment", {}), "DOCKER_HOST": docker_host}


def clock(clock_file: str | None) -> Callable[[], date]:
    """Today's date; tests and drills may pin it in a file."""
    if clock_file:
        return lambda: date.fromisoformat(Path(clock_file).read_text().strip())
    return lambda: datetime.now(UTC).date()


def make_pre_spawn_hook(
    sandbox: str, expires_on: str | None, today: Callable[[], date] = date.today
):
    expires = date.fromisoformat(expires_on) if expires_on else None

    def pre_spawn_hook(spawner: Any) -> None:
        if expires and today() > expires:
            raise web.HTTPError(
                403,
                f"Sandbox {sandbox} expired on {expires.isoformat()}: "
                "no new servers start (rule 7).",
            )

    return pre_spawn_hook
