"""Spawners used by the sandbox hubs.

``SandboxDockerSpawner`` mounts, read-only under ``/data/<id>/``, exactly the
datasets granted to the user's groups. With ``loopback`` it runs containers on
the host network bound to 127.0.0.1 on a random port (for single-machine
development and for tests that may only talk to loopback).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dockerspawner import DockerSpawner, SwarmSpawner
from jupyterhub.spawner import SimpleLocalProcessSpawner
from jupyterhub.utils import random_port
from traitlets import Bool, Dict, HasTraits, Unicode


def dataset_binds(datasets: list[dict[str, Any]]) -> dict[str, str]:
    """host path -> /data/<id> for the read-only binds of one user."""
    return {entry["path"]: f"/data/{entry['id']}" for entry in datasets}


class _DatasetMounts(HasTraits):
    user_datasets = Dict(
        config=True, help="username -> list of {id, path, version} granted to that user"
    )

    def granted(self) -> list[dict[str, Any]]:
        return list(self.user_datasets.get(self.user.name, []))  # type: ignore[attr-defined]


class SandboxDockerSpawner(_DatasetMounts, DockerSpawner):
    loopback = Bool(False, config=True, help="host networking on 127.0.0.1, random port")

    async def start(self):
        granted = self.granted()
        self.read_only_volumes = dataset_binds(granted)
        self.environment = {
            **dict(self.environment),  # type: ignore[has-type]
            "SANDBOX_DATASETS": ",".join(entry["id"] for entry in granted),
        }
        if self.loopback:
            self.port = random_port()
        return await super().start()

    async def get_ip_and_port(self):
        if self.loopback:
            return "127.0.0.1", self.port
        return await super().get_ip_and_port()


class SandboxSwarmSpawner(_DatasetMounts, SwarmSpawner):
    async def start(self):
        self.read_only_volumes = dataset_binds(self.granted())
        return await super().start()


class SandboxLocalSpawner(_DatasetMounts, SimpleLocalProcessSpawner):
    """No isolation: only for tier <= 1. Datasets appear as links under ~/data/."""

    homes_dir = Unicode(config=True)

    async def start(self):
        home = Path(self.homes_dir) / self.user.name
        data = home / "data"
        data.mkdir(parents=True, exist_ok=True)
        for entry in self.granted():
            link = data / entry["id"]
            if link.is_symlink() or link.exists():
                link.unlink()
            os.symlink(entry["path"], link)
        self.home_dir = str(home)
        self.notebook_dir = str(home)
        args: list[str] = list(self.args)  # type: ignore[has-type]
        if os.geteuid() == 0 and "--allow-root" not in args:
            # a root hub runs local servers as root; Jupyter refuses unless told
            self.args = [*args, "--allow-root"]
        return await super().start()
