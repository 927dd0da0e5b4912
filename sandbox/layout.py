"""Where things live in the state directory of a host (controller or target)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

STATE_ENV = "SANDBOX_STATE_DIR"


def default_state_dir() -> Path:
    if os.environ.get(STATE_ENV):
        return Path(os.environ[STATE_ENV]).expanduser().resolve()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "data-sandbox"


@dataclass(frozen=True)
class Layout:
    root: Path

    def sandbox_dir(self, sandbox: str) -> Path:
        return self.root / "sandboxes" / sandbox

    def hub_dir(self, sandbox: str) -> Path:
        return self.sandbox_dir(sandbox) / "hub"

    def secrets_dir(self, sandbox: str) -> Path:
        return self.hub_dir(sandbox) / "secrets"

    def secret(self, sandbox: str, name: str) -> Path:
        return self.secrets_dir(sandbox) / name

    def hub_settings(self, sandbox: str) -> Path:
        return self.hub_dir(sandbox) / "hub.json"

    def pidfile(self, sandbox: str) -> Path:
        return self.hub_dir(sandbox) / "jupyterhub.pid"

    def logfile(self, sandbox: str) -> Path:
        return self.hub_dir(sandbox) / "jupyterhub.log"

    def applied(self, sandbox: str) -> Path:
        return self.sandbox_dir(sandbox) / "applied.json"

    def datasets_dir(self) -> Path:
        return self.root / "datasets"

    def dataset_version_dir(self, dataset: str, version_key: str) -> Path:
        return self.datasets_dir() / dataset / version_key

    @property
    def registry_db(self) -> Path:
        return self.root / "registry.sqlite"


SECRET_NAMES = ("cookie_secret", "proxy_token", "cli_token", "user_password", "admin_password")
