"""``sandbox doctor``: what this machine needs before `up`, checked in one go.

Each check is a plain function of the environment (and the config, when one
loads) returning a ``Check``; nothing here changes anything."""

from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..config.loader import LoadedConfig
from .context import Context
from .ports import port_problem

OK, WARN, FAIL = "ok", "warn", "fail"
MIN_FREE_BYTES = 5 * 1024**3  # an image build and a few dataset versions
# the Python package each authenticator needs in the hub's environment
AUTH_MODULES = {"oidc": "oauthenticator", "ldap": "ldapauthenticator"}


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def docker_engine() -> Check:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        import docker

        version = docker.from_env(timeout=5).version()
    except Exception as exc:  # any failure to reach the engine is the finding
        return Check("docker", FAIL, f"no Docker engine at {host}: {exc}")
    return Check("docker", OK, f"Docker {version.get('Version', '?')} at {host}")


def proxy(env: Context) -> Check:
    command = env.proxy_command
    if Path(command).exists() or shutil.which(command):
        return Check("proxy", OK, f"configurable-http-proxy: {command}")
    return Check(
        "proxy", WARN, "configurable-http-proxy not found: `make` installs it (npm), or `up` does"
    )


def disk(env: Context) -> Check:
    root = env.layout.root
    probe = next((p for p in (root, *root.parents) if p.exists()), Path("/"))
    free = shutil.disk_usage(probe).free
    status = OK if free >= MIN_FREE_BYTES else WARN
    return Check("disk", status, f"{free / 1024**3:.1f} GiB free under {probe}")


def clock(env: Context, now: datetime | None = None) -> Check:
    moment = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    if env.clock_file:
        return Check("clock", WARN, f"{moment}; dates pinned to {env.today()} by {env.clock_file}")
    return Check("clock", OK, f"{moment} (expiry and agreements use {env.today()})")


def ports(loaded: LoadedConfig, env: Context) -> list[Check]:
    checks = []
    for sandbox in loaded.config.sandboxes:
        problem = port_problem(sandbox, env.layout)
        where = f"{sandbox.hub.ip or '0.0.0.0'}:{sandbox.hub.port}"
        checks.append(
            Check(f"port {sandbox.name}", FAIL if problem else OK, problem or f"{where} is free")
        )
    return checks


def authenticators(loaded: LoadedConfig) -> list[Check]:
    checks = []
    for sandbox in loaded.config.sandboxes:
        module = AUTH_MODULES.get(sandbox.auth.type)
        if module is None:
            continue
        found = importlib.util.find_spec(module) is not None
        detail = f"{module} for auth {sandbox.auth.type}" + (
            "" if found else ": not installed here (`up` installs it into the hub's venv)"
        )
        checks.append(Check(f"auth {sandbox.name}", OK if found else WARN, detail))
    return checks


def diagnose(env: Context, loaded: LoadedConfig | None, config_problem: str = "") -> list[Check]:
    """Every check; the config's own (ports, authenticators) when it loads."""
    checks = [docker_engine(), proxy(env), disk(env), clock(env)]
    if loaded is None:
        checks.append(Check("config", FAIL, config_problem or "no config"))
        return checks
    checks.append(Check("config", OK, f"{loaded.path}: valid"))
    return checks + ports(loaded, env) + authenticators(loaded)
