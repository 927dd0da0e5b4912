"""`sandbox up` of the demo organisation against a real Docker engine and hub."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests

from tests.conftest import Deployment
from tests.hubclient import HubUser

pytestmark = pytest.mark.docker

GRANTS = {
    "alice": {"woz-2024", "cbs-wijken-2024"},
    "bob": {"woz-2024", "cbs-wijken-2024"},
    "dave": {"meldingen-openbare-ruimte-2024", "cbs-wijken-2024"},
    "carol": set(),
    "erin": set(),
    "admin": set(),
}
ALL_DATASETS = {"woz-2024", "cbs-wijken-2024", "meldingen-openbare-ruimte-2024"}


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout


def in_container(container: str, script: str) -> str:
    return docker("exec", container, "sh", "-c", script)


@pytest.fixture(scope="module")
def running(deployment: Deployment):
    """alice and dave each have a running server."""
    users = {name: HubUser(deployment.url, name, deployment.password(name)) for name in GRANTS}
    for user in users.values():
        assert user.login_status == 302
        user.spawn()
    yield users
    for user in users.values():
        user.stop()


def test_first_up_reports_each_task_and_its_changes(deployment: Deployment):
    out = deployment.first_up.stdout
    assert "Start hub itest" in out
    assert "Stage woz-2024 read-only and verify its checksums" in out
    assert "change(s) applied" in out


def test_hub_api_answers(deployment: Deployment):
    answer = requests.get(f"{deployment.url}/hub/api/", timeout=10)
    assert answer.status_code == 200
    assert answer.json()["version"].startswith("6.")


def test_second_up_changes_nothing(deployment: Deployment):
    result = deployment.sandbox("up")
    assert "up: no changes" in result.stdout
    assert " ok " not in result.stdout  # all in place: the playbook was skipped
    plan = json.loads(deployment.sandbox("plan", "--json").stdout)
    assert plan["sandboxes"][0]["changes"] == []
    full = deployment.sandbox("up", "--full")
    assert "up: no changes" in full.stdout
    assert " ok Hub itest settings" in full.stdout and " changed " not in full.stdout


def test_up_repairs_what_drifted_although_the_plan_is_unchanged(deployment: Deployment):
    hub_json = deployment.state / "sandboxes" / deployment.name / "hub" / "hub.json"
    original = hub_json.read_text()
    hub_json.write_text(original.replace('"start_timeout": 120', '"start_timeout": 5'))
    assert json.loads(deployment.sandbox("plan", "--json").stdout)["sandboxes"][0]["changes"] == []
    repaired = deployment.sandbox("up")
    assert "changed Hub itest settings" in repaired.stdout, repaired.stdout
    assert hub_json.read_text() == original
    assert " ok " not in deployment.sandbox("up").stdout


def test_up_through_an_inventory_uses_the_same_playbook(deployment: Deployment, tmp_path):
    inventory = tmp_path / "hosts.ini"
    host = (
        f"localhost ansible_connection=local ansible_python_interpreter={sys.executable} "
        f"host_tools_venv={tmp_path / 'venv'}"
    )
    inventory.write_text(f"[sandbox]\n{host}\n")
    # the first run puts the project's wheel into the node's venv; then nothing changes
    deployment.sandbox("up", "-i", str(inventory))
    result = deployment.sandbox("up", "-i", str(inventory))
    assert "up: no changes" in result.stdout


@pytest.mark.parametrize("user", sorted(GRANTS))
def test_user_sees_exactly_the_granted_datasets(deployment: Deployment, running, user: str):
    container = f"sandbox-{deployment.name}-{user}"
    listed = set(in_container(container, "ls /data").split())
    assert listed == GRANTS[user]  # mounted exactly when a group of the user is granted it
    for absent in ALL_DATASETS - GRANTS[user]:
        assert absent not in listed
    for dataset in GRANTS[user]:
        head = in_container(container, f"head -c 200 /data/{dataset}/*.csv")
        assert "," in head
        card = in_container(container, f"cat /data/{dataset}/DATACARD.md")
        assert "| Purposes (doelbinding) |" in card and "## Quality" in card
        package = json.loads(in_container(container, f"cat /data/{dataset}/datapackage.json"))
        assert package["name"] == dataset and "sandbox:governance" in package


@pytest.mark.parametrize("user", sorted(GRANTS))
def test_datasets_are_read_only(deployment: Deployment, running, user: str):
    container = f"sandbox-{deployment.name}-{user}"
    for dataset in GRANTS[user]:
        result = subprocess.run(
            ["docker", "exec", container, "sh", "-c", f"echo x >> /data/{dataset}/new.txt"],
            capture_output=True,
            text=True,
        )
        assert result.returncode != 0
        assert "Read-only file system" in result.stderr


def test_container_is_hardened(deployment: Deployment, running):
    container = f"sandbox-{deployment.name}-alice"
    assert in_container(container, "id -u").strip() == "1000"
    status = in_container(
        container, "grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs)' /proc/self/status"
    )
    fields = dict(line.split(":\t") for line in status.strip().splitlines())
    assert fields["CapEff"] == fields["CapPrm"] == fields["CapBnd"] == "0000000000000000"
    assert fields["NoNewPrivs"] == "1"
    info = json.loads(docker("inspect", container))[0]
    host = info["HostConfig"]
    assert host["CapDrop"] == ["ALL"]
    assert "no-new-privileges" in host["SecurityOpt"]
    assert host["Privileged"] is False
    assert host["PidsLimit"] == 512
    assert host["Memory"] == 2 * 1024**3
    assert host["CpuQuota"] == 100_000
    mounts = {m["Destination"]: m for m in info["Mounts"]}
    assert mounts["/home/jovyan"]["RW"] is True
    data = [m for d, m in mounts.items() if d.startswith("/data/")]
    assert data and all(m["RW"] is False for m in data)
    assert not any("docker.sock" in m.get("Source", "") for m in info["Mounts"])
    assert host["ReadonlyRootfs"] is True and host["NetworkMode"] == "none"


def test_status_lists_running_servers(deployment: Deployment, running):
    status = json.loads(deployment.sandbox("status", "--json").stdout)["sandboxes"][0]
    assert status["hub_version"].startswith("6.")
    assert set(status["servers"]) >= set(GRANTS)
    assert status["expires"] == "2027-12-31"


def test_secrets_are_private_files(deployment: Deployment):
    secrets = deployment.state / "sandboxes" / deployment.name / "hub" / "secrets"
    assert oct(secrets.stat().st_mode & 0o777) == "0o700"
    for path in secrets.iterdir():
        assert oct(path.stat().st_mode & 0o777) == "0o600", path
    log = (secrets.parent / "jupyterhub.log").read_text()
    for path in secrets.iterdir():
        assert path.read_text().strip() not in log, f"{path.name} leaked into the hub log"


def test_servers_do_not_import_the_slow_rfc3987_grammar(deployment: Deployment, running):
    # the Dockerfile removes it: it cost 1.1 s of CPU at every server start
    container = f"sandbox-{deployment.name}-alice"
    probe = "import importlib.util as u; print(u.find_spec('rfc3987_syntax') is None)"
    assert in_container(container, f'python -c "{probe}"').strip() == "True"


def test_up_witnesses_the_audit_chain_outside_the_database(deployment: Deployment):
    witness = deployment.state / "audit" / "heads.jsonl"
    assert oct(witness.stat().st_mode & 0o777) == "0o600"
    heads = [json.loads(line) for line in witness.read_text().splitlines()]
    assert heads[-1]["by"] == "up"
    log = (deployment.state / "sandboxes" / deployment.name / "hub" / "jupyterhub.log").read_text()
    assert f"[audit] head seq={heads[-1]['seq']} hash={heads[-1]['hash']}" in log
    verified = deployment.sandbox("audit", "verify")
    assert "chain intact" in verified.stdout
    assert "witnessed head(s)" in verified.stdout
