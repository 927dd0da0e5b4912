"""Where things live in the state directory of a host (controller or target)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

STATE_ENV = "SANDBOX_STATE_DIR"
SERVER_SOCKET = "jupyter.sock"
MAX_SOCKET_PATH = 107  # bytes in sockaddr_un.sun_path, less the final NUL


def default_state_dir() -> Path:
    if os.environ.get(STATE_ENV):
        return Path(os.environ[STATE_ENV]).expanduser().resolve()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "data-sandbox"


def private_dir(path: Path) -> Path:
    """Create PATH (and parents) if missing; make it 0700 either way."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """Create PATH empty if missing; make it 0600 either way (when it is ours)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    if path.stat().st_uid == os.geteuid():
        os.chmod(path, 0o600)
    return path


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

    def sockets_dir(self, sandbox: str) -> Path:
        """A sandbox's unix sockets, kept short: a socket's path holds at most
        107 bytes, so they live near the root of the state directory."""
        return self.root / "sockets" / sandbox

    def user_sockets(self, sandbox: str, user: str) -> Path:
        # a fixed-length name, so the path fits whatever the user name's length
        return self.sockets_dir(sandbox) / hashlib.sha256(user.encode()).hexdigest()[:12]

    def server_socket(self, sandbox: str, user: str) -> Path:
        return self.user_sockets(sandbox, user) / SERVER_SOCKET

    def hub_sockets(self, sandbox: str) -> Path:
        return self.sockets_dir(sandbox) / "hub"

    def hub_socket(self, sandbox: str) -> Path:
        return self.hub_sockets(sandbox) / "hub.sock"

    def registry_socket(self, sandbox: str) -> Path:
        return self.hub_sockets(sandbox) / "registry.sock"

    def proxy_api_socket(self, sandbox: str) -> Path:
        # beside the folders containers mount, never inside one
        return self.sockets_dir(sandbox) / "proxy.sock"

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
