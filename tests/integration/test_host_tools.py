"""`up -i` on targets without a checkout: a real Ansible run against an
inventory of two hosts, both this machine (ansible_connection=local), each
with a venv of its own (host_tools_venv). Each venv gets the project's wheel
(without dependencies), the helpers run with that venv's Python, a second
`up` changes nothing, and `datasets verify -i` reports per node; a tampered
staged copy fails it on both nodes (they share this filesystem). Local
spawner: no Docker needed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.config.scaffold import scaffold
from tests.conftest import SANDBOX_BIN

PORT = 18410
NODES = ("node-a", "node-b")


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("ht")  # short: socket paths under it must fit 107 bytes
    scaffold(root / "config", port=PORT)
    config = root / "config" / "sandbox.yaml"
    config.write_text(config.read_text().replace("spawner: docker", "spawner: local"))
    venvs = {node: root / f"venv-{node}" for node in NODES}
    inventory = root / "hosts.ini"
    lines = [
        f"{node} ansible_connection=local ansible_python_interpreter={sys.executable}"
        f" host_tools_venv={venv}"
        for node, venv in venvs.items()
    ]
    # node-b makes its venv with the interpreter this venv was made from
    lines[1] += f" host_tools_python3={sys._base_executable}"
    inventory.write_text("[nodes]\n" + "\n".join(lines) + "\n")
    env = {
        **os.environ,
        "SANDBOX_CONFIG": str(config),
        "SANDBOX_STATE_DIR": str(root / "state"),
        "COLUMNS": "200",
        # both hosts are this machine, with one state directory and one hub
        # port: one host at a time, as two machines would not need
        "ANSIBLE_FORKS": "1",
        # every task's result, with its command line, in a log to read
        "ANSIBLE_LOG_PATH": str(root / "ansible.log"),
        "ANSIBLE_VERBOSITY": "1",
    }

    def sandbox(*args: str) -> subprocess.CompletedProcess[str]:
        # run from a folder that holds no checkout: `python -m` looks there first
        return subprocess.run(
            [SANDBOX_BIN, *args], env=env, cwd=root, capture_output=True, text=True, timeout=900
        )

    up = sandbox("up", "-i", str(inventory))
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield root, inventory, venvs, up, sandbox
    finally:
        down = sandbox("down", "-i", str(inventory))
        assert down.returncode == 0, down.stdout + down.stderr


def wheel_of(root: Path) -> Path:
    (wheel,) = (root / "state" / "cache").glob("data_sandbox-*.whl")
    return wheel


def test_each_node_has_the_wheel_in_its_own_venv(deployed):
    root, _, venvs, up, _ = deployed
    wheel = wheel_of(root)
    version = wheel.name.split("-")[1]
    assert re.fullmatch(r"\d+\.\d+\.\d+\+[0-9a-f]{12}", version), version
    assert f"Build the project's wheel {wheel.name}" in up.stdout
    for venv in venvs.values():
        # isolated (-I): the venv's own site-packages, nothing from here
        probe = subprocess.run(
            [
                str(venv_python(venv)),
                "-I",
                "-c",
                "import importlib.metadata as m, sandbox.host.staging as s;"
                "print(m.version('data-sandbox')); print(s.__file__)",
            ],
            capture_output=True,
            text=True,
            cwd="/",
        )
        assert probe.returncode == 0, probe.stderr
        installed, module = probe.stdout.split()
        assert installed == version
        assert Path(module).is_relative_to(venv)
        # without its dependencies: the helpers need none
        assert subprocess.run(
            [str(venv_python(venv)), "-I", "-c", "import pydantic"], capture_output=True
        ).returncode
        assert (venv / wheel.name).is_file()


def test_the_helpers_ran_with_each_nodes_venv(deployed):
    root, _, venvs, _, _ = deployed
    log = (root / "ansible.log").read_text()
    for node, venv in venvs.items():
        for helper in ("sandbox.host.staging", "sandbox.host.daemon"):
            ran = re.findall(rf'\[{node}\] => .*?"cmd": \[\s*"([^"]+)",\s*"-m",\s*"{helper}"', log)
            assert ran and set(ran) == {str(venv_python(venv))}, (node, helper, ran)


def test_a_second_up_changes_nothing(deployed):
    _, inventory, _, _, sandbox = deployed
    again = sandbox("up", "-i", str(inventory))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "up: no changes" in again.stdout, again.stdout
    assert "Reuse the project's wheel" in again.stdout
    assert " changed " not in again.stdout


def test_verify_reports_each_node_and_fails_on_a_tampered_copy(deployed):
    root, inventory, venvs, _, sandbox = deployed
    version = wheel_of(root).name.split("-")[1]
    clean = sandbox("datasets", "verify", "-i", str(inventory), "--json")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    report = json.loads(clean.stdout)
    assert report["ok"] and [n["node"] for n in report["nodes"]] == list(NODES)
    for node in report["nodes"]:
        assert node["ok"] and node["version"] == version
        assert node["python"] == str(venv_python(venvs[node["node"]]))
        (dataset,) = node["datasets"]
        assert dataset["staged"] and dataset["files"] == [{"path": "example.csv", "staged": "ok"}]
    (card,) = report["datasets"]
    assert card["staged"] is None and card["nodes"] == {"node-a": "ok", "node-b": "ok"}
    text = sandbox("datasets", "verify", "-i", str(inventory))
    assert text.returncode == 0 and "ok on 2 node(s)" in text.stdout, text.stdout

    (staged,) = (root / "state" / "datasets" / "example-public").glob("*/example.csv")
    original = staged.read_bytes()
    os.chmod(staged.parent, 0o755)
    os.chmod(staged, 0o644)
    try:
        staged.write_bytes(original.replace(b"1", b"2", 1))  # same size, other bytes
        bad = sandbox("datasets", "verify", "-i", str(inventory), "--json")
        assert bad.returncode == 1, bad.stdout + bad.stderr
        report = json.loads(bad.stdout)
        assert not report["ok"]
        assert {n["node"]: n["ok"] for n in report["nodes"]} == {"node-a": False, "node-b": False}
        for node in NODES:
            assert any(f"staged on {node} {staged}: tampered" in p for p in report["problems"])
        assert "2 bad file(s)" in bad.stderr and "Traceback" not in bad.stderr
        shown = sandbox("datasets", "verify", "-i", str(inventory))
        assert shown.returncode == 1
        assert "1 tampered on 2 node(s)" in shown.stdout, shown.stdout
    finally:
        staged.write_bytes(original)
        os.chmod(staged, 0o444)
        os.chmod(staged.parent, 0o555)


def test_verify_names_a_node_without_the_project(deployed):
    root, inventory, _, _, sandbox = deployed
    other = root / "hosts-more.ini"
    missing = root / "no-venv"
    other.write_text(
        inventory.read_text()
        + f"node-c ansible_connection=local ansible_python_interpreter={sys.executable}"
        f" host_tools_venv={missing}\n"
    )
    result = sandbox("datasets", "verify", "-i", str(other), "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    nodes = {n["node"]: n for n in report["nodes"]}
    assert nodes["node-a"]["ok"] and nodes["node-b"]["ok"]
    assert f"{venv_python(missing)} is missing" in nodes["node-c"]["error"]
    assert "1 node(s) not checked: node-c" in result.stderr


def test_two_installs_into_one_venv_at_once(deployed, tmp_path: Path):
    """Nodes sharing a filesystem install into the same venv at the same time:
    one makes it, the other waits for the lock and finds it done."""
    root = deployed[0]
    wheel = wheel_of(root)
    venv = tmp_path / "shared"
    command = [sys._base_executable, "-m", "sandbox.host.tools", str(venv), str(wheel)]
    env = {**os.environ, "PYTHONPATH": str(wheel)}
    runs = [
        subprocess.Popen(command, env=env, cwd="/", stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    said = sorted(run.communicate(timeout=300)[0].strip() for run in runs)
    assert all(run.returncode == 0 for run in runs)
    version = wheel.name.split("-")[1]
    assert said == ["unchanged", f"venv, data-sandbox {version}"]
