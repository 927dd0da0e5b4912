"""Bridge networking is checked by inspecting what Docker created (tests send
no traffic to bridge addresses): the hub role's network tasks create an
`--internal` network for a no-egress sandbox, and the stop tasks remove it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT, require_docker

pytestmark = pytest.mark.docker

ROLE = PROJECT / "playbooks" / "roles" / "hub" / "tasks"


def run_tasks(tmp_path: Path, tasks: str, network: dict, purge: bool) -> None:
    playbook = tmp_path / f"{tasks}.yml"
    hub = {"name": "nettest", "network": network, "pidfile": str(tmp_path / "none.pid")}
    playbook.write_text(
        json.dumps(
            [
                {
                    "hosts": "localhost",
                    "gather_facts": False,
                    "vars": {"hub": hub, "sandbox_python": sys.executable, "sandbox_purge": purge},
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


def test_no_egress_sandbox_gets_an_internal_network(tmp_path: Path):
    require_docker()
    network = {"name": "sandbox-nettest", "internal": True}
    try:
        run_tasks(tmp_path, "network", network, purge=False)
        created = inspect("sandbox-nettest")
        assert created is not None
        assert created["Internal"] is True
        assert created["Driver"] == "bridge"
        assert created["Labels"]["org.data-sandbox.sandbox"] == "nettest"
        run_tasks(tmp_path, "network", network, purge=False)  # idempotent
        run_tasks(tmp_path, "stop", network, purge=True)
        assert inspect("sandbox-nettest") is None
    finally:
        subprocess.run(["docker", "network", "rm", "sandbox-nettest"], capture_output=True)
