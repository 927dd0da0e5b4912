"""The hub role's network tasks, run alone: a sandbox with egress gets its own
bridge without traffic between containers, made again when it was made to
another design, kept as it is otherwise; the stop tasks remove it.
(What containers can reach on it is attacked in test_isolation.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.config.loader import load_config
from sandbox.config.scaffold import scaffold
from sandbox.host import names
from sandbox.hub.settings import network_spec
from tests.conftest import PROJECT, require_docker

pytestmark = pytest.mark.docker

ROLE = PROJECT / "playbooks" / "roles" / "hub" / "tasks"


def run_tasks(tmp_path: Path, tasks: str, network: dict, purge: bool) -> None:
    playbook = tmp_path / f"{tasks}.yml"
    hub = {
        "name": "nettest",
        "network": network,
        "pidfile": str(tmp_path / "none.pid"),
        "proxy_pidfile": str(tmp_path / "none-proxy.pid"),
        "sockets_dir": str(tmp_path / "sockets"),
        "home_volume_prefix": names.home_volume_prefix("nettest"),
    }
    playbook.write_text(
        json.dumps(
            [
                {
                    "hosts": "localhost",
                    "gather_facts": False,
                    "vars": {
                        "hub": hub,
                        "sandbox_python": sys.executable,
                        "sandbox_host_python": sys.executable,
                        "hub_runs_here": True,  # the role's vars/main.yml, not loaded here
                        "sandbox_purge": purge,
                        "sandbox_labels": names.LABELS,
                    },
                    "tasks": [{"ansible.builtin.include_tasks": str(ROLE / f"{tasks}.yml")}],
                }
            ]
        )
    )
    subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            str(playbook),
        ],
        check=True,
        capture_output=True,
        text=True,
    )


def inspect(name: str) -> dict | None:
    result = subprocess.run(["docker", "network", "inspect", name], capture_output=True, text=True)
    return json.loads(result.stdout)[0] if result.returncode == 0 else None


def test_egress_sandbox_gets_a_bridge_without_icc(tmp_path: Path):
    require_docker()
    scaffolded = scaffold(tmp_path / "config")[0]
    sandbox = load_config(scaffolded).config.sandboxes[0].model_copy(update={"name": "nettest"})
    network = network_spec(sandbox)
    assert network and network["name"] == "sandbox-nettest"
    try:
        # made by hand, to another design: icc on
        subprocess.run(["docker", "network", "create", "sandbox-nettest"], check=True)
        run_tasks(tmp_path, "network", network, purge=False)
        created = inspect("sandbox-nettest")
        assert created is not None
        assert created["Options"]["com.docker.network.bridge.enable_icc"] == "false"
        assert created["Driver"] == "bridge" and created["Internal"] is False
        assert created["Labels"]["org.data-sandbox.sandbox"] == "nettest"
        assert created["Labels"]["org.data-sandbox.design"] == network["design"]
        run_tasks(tmp_path, "network", network, purge=False)  # idempotent
        assert inspect("sandbox-nettest")["Id"] == created["Id"]  # type: ignore[index]
        run_tasks(tmp_path, "stop", network, purge=True)
        assert inspect("sandbox-nettest") is None
    finally:
        subprocess.run(["docker", "network", "rm", "sandbox-nettest"], capture_output=True)
