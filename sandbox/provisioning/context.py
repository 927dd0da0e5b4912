"""Facts about where and how provisioning runs, gathered in one place."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from datetime import date
from importlib.metadata import version
from pathlib import Path

from ..errors import InvalidInput
from ..host.layout import NPM_BIN, PROXY, Layout, default_state_dir

CA_BUNDLE_ENV = "SANDBOX_CA_BUNDLE"
# Image builds trust what this host trusts unless told otherwise, so builds
# behind a TLS-inspecting proxy work when the host is set up for it.
SYSTEM_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def project_dir() -> Path:
    """The folder holding playbooks/ and images/ (a source checkout)."""
    if os.environ.get("SANDBOX_PROJECT_DIR"):
        return Path(os.environ["SANDBOX_PROJECT_DIR"]).resolve()
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Context:
    layout: Layout
    project: Path = field(default_factory=project_dir)
    python: str = sys.executable
    ca_bundle: Path | None = None
    inventory: Path | None = None
    allow_docker_install: bool = True
    registry_override: str | None = None
    clock_file: str = ""  # tests and drills: hubs read "today" from this file

    @classmethod
    def from_env(
        cls,
        state_dir: Path | None = None,
        inventory: Path | None = None,
        ca_bundle: Path | None = None,
        registry: str | None = None,
    ) -> Context:
        bundle = ca_bundle or (
            Path(os.environ[CA_BUNDLE_ENV]) if os.environ.get(CA_BUNDLE_ENV) else None
        )
        if bundle is None and SYSTEM_CA_BUNDLE.is_file():
            bundle = SYSTEM_CA_BUNDLE
        if bundle is not None and not bundle.is_file():
            raise InvalidInput(f"CA bundle not found: {bundle}")
        if inventory is not None and not inventory.is_file():
            raise InvalidInput(f"inventory not found: {inventory}")
        return cls(
            layout=Layout(state_dir or default_state_dir()),
            ca_bundle=bundle.resolve() if bundle else None,
            inventory=inventory.resolve() if inventory else None,
            registry_override=registry or os.environ.get("SANDBOX_REGISTRY_URL") or None,
            clock_file=os.environ.get("SANDBOX_CLOCK_FILE", ""),
        )

    def today(self) -> date:
        """Today, or the date pinned in the clock file (tests and drills)."""
        if self.clock_file:
            return date.fromisoformat(Path(self.clock_file).read_text().strip())
        return date.today()

    @property
    def playbooks(self) -> Path:
        return self.project / "playbooks"

    @property
    def images(self) -> Path:
        return self.project / "images"

    @property
    def proxy_command(self) -> str:
        """configurable-http-proxy: the project's npm install, else one on PATH,
        else the copy the hub role installs into the state directory."""
        local = self.project / NPM_BIN / PROXY
        if local.exists():
            return str(local)
        found = shutil.which(PROXY)
        if found:
            return found
        return str(self.layout.proxy_command())

    @property
    def base_image_script(self) -> Path:
        """Builds the local base image with debootstrap where no registry is reachable."""
        return self.images / "base" / "build-base.sh"

    @property
    def hub_loader(self) -> Path:
        """The hub's fixed configuration loader, copied beside each hub's hub.json."""
        return self.project / "sandbox" / "hub" / "jupyterhub_config.py"

    @property
    def registry_url(self) -> str:
        return self.registry_override or f"sqlite:///{self.layout.registry_db}"

    def witness_head(self, by: str) -> None:
        """Keep the audit chain's head outside the database: in the state
        directory's witness file and in the log of every hub here. (Here, not in
        actions: an import witnesses too and should not load the whole library.)"""
        from ..registry import audit
        from ..registry.db import open_registry_url

        head = audit.witness(open_registry_url(self.registry_url), self.layout.witness_file(), by)
        if head is None:
            return
        line = f"[audit] head seq={head.seq} hash={head.hash} at={head.at} witnessed by {by}\n"
        for log in self.layout.hub_logs():
            with log.open("a", encoding="utf-8") as handle:
                handle.write(line)

    @property
    def jupyterhub_version(self) -> str:
        return version("jupyterhub")
