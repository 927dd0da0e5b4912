"""Where things live in the state directory of a host (controller or target)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from .names import STAGED_MARKER

STATE_ENV = "SANDBOX_STATE_DIR"
SERVER_SOCKET = "jupyter.sock"
MAX_SOCKET_PATH = 107  # bytes in sockaddr_un.sun_path, less the final NUL
PROXY = "configurable-http-proxy"
NPM_BIN = Path("node_modules", ".bin")  # where npm puts a package's executables


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
    """Every path inside the state directory, built here and nowhere else:
    Python calls these methods, and the playbooks receive the paths as
    extravars (``sandbox/provisioning/ansible.py``)."""

    root: Path

    # sandboxes/<name>/: one folder per sandbox

    def sandboxes_dir(self) -> Path:
        return self.root / "sandboxes"

    def sandbox_dir(self, sandbox: str) -> Path:
        return self.sandboxes_dir() / sandbox

    def applied(self, sandbox: str) -> Path:
        """What the last ``up`` applied; ``plan`` compares against it."""
        return self.sandbox_dir(sandbox) / "applied.json"

    def retention_destroyed(self) -> Path:
        """Dataset versions destroyed at the end of their retention period
        (``<id>/<version key>`` -> when); `plan` and `up` refuse to stage them again."""
        return self.root / "retention-destroyed.json"

    def access_kept(self, sandbox: str) -> Path:
        """Who had which datasets at the last ``up``, kept by a plain ``down``
        (which removes applied.json) so the next ``up`` still revokes."""
        return self.sandbox_dir(sandbox) / "access.json"

    def hub_checksum_cache(self, sandbox: str) -> Path:
        """The hub's cache of staged files' checksums (checks at server start)."""
        return self.sandbox_dir(sandbox) / "checksums.json"

    def notices_dir(self, sandbox: str) -> Path:
        """Per-user NOTICE.md files about datasets that were not mounted."""
        return self.sandbox_dir(sandbox) / "notices"

    def homes_dir(self, sandbox: str) -> Path:
        """Users' homes of a ``spawner: local`` sandbox."""
        return self.sandbox_dir(sandbox) / "homes"

    def revocations_done(self, sandbox: str) -> Path:
        """Revocations an ``up`` carried out and recorded before it failed: the
        next ``up`` plans them again (applied.json did not move on) but does not
        record them twice."""
        return self.sandbox_dir(sandbox) / "revoked.json"

    def offboarding_pending(self, sandbox: str) -> Path:
        """Users removed from the sandbox whose homes wait out the grace period."""
        return self.sandbox_dir(sandbox) / "offboarding.json"

    def offboarding_dir(self, sandbox: str) -> Path:
        """Archived homes of the sandbox's former users (0700, files 0600); kept
        outside the sandbox's folder, so ``down --purge`` leaves them."""
        return self.root / "offboarding" / sandbox

    # sandboxes/<name>/hub/: the hub's files

    def hub_dir(self, sandbox: str) -> Path:
        return self.sandbox_dir(sandbox) / "hub"

    def secrets_dir(self, sandbox: str) -> Path:
        return self.hub_dir(sandbox) / "secrets"

    def secret(self, sandbox: str, name: str) -> Path:
        return self.secrets_dir(sandbox) / name

    def hub_settings(self, sandbox: str) -> Path:
        return self.hub_dir(sandbox) / "hub.json"

    def hub_loader(self, sandbox: str) -> Path:
        """The copy of ``sandbox/hub/jupyterhub_config.py`` the hub starts with
        (it reads ``hub.json`` beside itself)."""
        return self.hub_dir(sandbox) / "jupyterhub_config.py"

    def hub_database(self, sandbox: str) -> Path:
        return self.hub_dir(sandbox) / "jupyterhub.sqlite"

    def pidfile(self, sandbox: str) -> Path:
        return self.hub_dir(sandbox) / "jupyterhub.pid"

    def logfile(self, sandbox: str) -> Path:
        return self.hub_dir(sandbox) / "jupyterhub.log"

    def hub_logs(self) -> list[Path]:
        """The log of every hub this state directory holds."""
        if not self.sandboxes_dir().is_dir():
            return []
        logs = (self.logfile(folder.name) for folder in sorted(self.sandboxes_dir().iterdir()))
        return [log for log in logs if log.is_file()]

    def airlock_dir(self, sandbox: str) -> Path:
        """Copies of requested outputs, under review (the hub's; no container mounts it)."""
        return self.sandbox_dir(sandbox) / "airlock"

    def outbox_dir(self, sandbox: str) -> Path:
        """Released outputs, read-only, with their release manifests."""
        return self.sandbox_dir(sandbox) / "outbox"

    def witness_file(self) -> Path:
        """Heads of the audit chain, witnessed outside the database (0600)."""
        return self.root / "audit" / "heads.jsonl"

    def proxy_pidfile(self, sandbox: str) -> Path:
        return self.hub_dir(sandbox) / "proxy.pid"

    # sockets/<name>/: kept short, near the root

    def sockets_root(self) -> Path:
        return self.root / "sockets"

    def sockets_dir(self, sandbox: str) -> Path:
        """A sandbox's unix sockets, kept short: a socket's path holds at most
        107 bytes, so they live near the root of the state directory."""
        return self.sockets_root() / sandbox

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

    # datasets/<id>/<version>-<digest>/: staged copies

    def datasets_dir(self) -> Path:
        return self.root / "datasets"

    def dataset_version_dir(self, dataset: str, version_key: str) -> Path:
        return self.datasets_dir() / dataset / version_key

    def staged_marker(self, dataset: str, version_key: str) -> Path:
        """Present once the version is completely staged (see ``host.staging``)."""
        return self.dataset_version_dir(dataset, version_key) / STAGED_MARKER

    def uploads_dir(self) -> Path:
        """Where remote hosts receive datasets' source files before staging."""
        return self.root / "uploads"

    def upload_dir(self, dataset: str) -> Path:
        return self.uploads_dir() / dataset

    def upload_extras(self, dataset: str) -> Path:
        """The generated data card files of a dataset, as JSON, for staging."""
        return self.uploads_dir() / f"{dataset}-extras.json"

    def verify_cache(self) -> Path:
        """``datasets verify``'s cache of staged files' checksums."""
        return self.root / "checksums.json"

    # the host's own tools

    def dockerd_pidfile(self) -> Path:
        """A supervised dockerd's (where systemd does not run)."""
        return self.root / "dockerd" / "dockerd.pid"

    def dockerd_logfile(self) -> Path:
        return self.root / "dockerd" / "dockerd.log"

    def proxy_prefix(self) -> Path:
        """The npm prefix configurable-http-proxy is installed into when missing."""
        return self.root / "proxy"

    def proxy_command(self) -> Path:
        return self.proxy_prefix() / NPM_BIN / PROXY

    def cache_dir(self) -> Path:
        """Downloads kept between runs (debootstrap's packages for the local base image)."""
        return self.root / "cache"

    # the registry and restores

    @property
    def registry_db(self) -> Path:
        return self.root / "registry.sqlite"

    def restored_config(self) -> Path:
        """Where ``sandbox restore`` puts the config directory of a backup."""
        return self.root / "restored-config"
