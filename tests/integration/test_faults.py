"""Faults survived: the hub killed, a user container killed, an import killed
halfway, staging on a nearly full filesystem. (dockerd restart: test_teardown.)"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from sandbox.host.daemon import read_pid
from sandbox.host.staging import StagingError, stage
from sandbox.registry import store
from sandbox.registry.db import open_registry_url
from tests.conftest import Deployment, require_docker
from tests.database.test_report_registry import generate
from tests.hubclient import HubUser

pytestmark = pytest.mark.docker


def wait_until(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise AssertionError("condition not met in time")


def hub_child(deployment: Deployment) -> int:
    supervisor = read_pid(
        deployment.state / "sandboxes" / deployment.name / "hub" / "jupyterhub.pid"
    )
    assert supervisor
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == supervisor:
                return int(entry.name)
    raise AssertionError("hub process not found")


def test_killed_hub_comes_back_and_running_servers_survive(deployment: Deployment):
    user = HubUser(deployment.url, "bob", deployment.password("bob"))
    user.spawn()
    container = f"sandbox-{deployment.name}-bob"
    before = subprocess.run(
        ["docker", "inspect", "-f", "{{.Id}}", container], capture_output=True, text=True
    ).stdout
    os.kill(hub_child(deployment), signal.SIGKILL)
    wait_until(lambda: requests.get(f"{deployment.url}/hub/api/", timeout=2).ok, timeout=90)
    after = subprocess.run(
        ["docker", "inspect", "-f", "{{.Id}}", container], capture_output=True, text=True
    ).stdout
    assert before == after and after.strip()  # the same container kept running
    again = HubUser(deployment.url, "bob", deployment.password("bob"))
    model = again.api("GET", "/users/bob").json()
    assert model["servers"][""]["ready"] is True
    server = f"{deployment.url}/user/bob/api/status"
    wait_until(lambda: again.session.get(server, timeout=5).status_code in (200, 403))
    assert json.loads(deployment.sandbox("status", "--json").stdout)["sandboxes"][0]["hub_running"]
    # the registry service died with the old hub and the new hub's one answers
    token = again.api(
        "POST", "/users/bob/tokens", json={"scopes": ["access:services!service=registry"]}
    ).json()["token"]
    me = f"{deployment.url}/services/registry/api/me"
    wait_until(lambda: requests.get(me, headers={"Authorization": f"token {token}"}, timeout=5).ok)
    again.stop()


def test_killed_user_container_is_noticed_and_can_start_again(deployment: Deployment):
    user = HubUser(deployment.url, "dave", deployment.password("dave"))
    user.spawn()
    subprocess.run(
        ["docker", "kill", f"sandbox-{deployment.name}-dave"], check=True, capture_output=True
    )
    # the hub polls the spawner; asking for the user model triggers nothing by
    # itself, so wait for the hub's own poll (JupyterHub polls every 30 s)
    wait_until(lambda: not user.api("GET", "/users/dave").json()["servers"], timeout=120)
    assert user.spawn() > 0
    user.stop()


def test_import_killed_halfway_leaves_nothing(tmp_path: Path):
    experiments, transitions = generate(40_000, seed=3)
    data = tmp_path / "big.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in experiments + transitions) + "\n")
    url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    engine = open_registry_url(url)
    script = (
        "import sys; from pathlib import Path; from sandbox.registry.importer import import_file; "
        "from sandbox.registry.db import open_registry_url; "
        f"import_file(Path({str(data)!r}), open_registry_url({url!r}))"
    )
    killed = 0
    for delay in (0.5, 1.5, 3.0):
        process = subprocess.Popen([sys.executable, "-c", script])
        time.sleep(delay)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        process.wait()
        count = store.count_events(engine)
        assert count in (0, len(experiments) + len(transitions)), count
        if count:
            break
    assert killed >= 1
    assert store.count_events(engine) == 0 or store.listing(engine)


def test_staging_on_a_full_filesystem_fails_clearly_and_keeps_the_old_version(tmp_path: Path):
    require_docker()  # root, as for the other fault drills
    if os.geteuid() != 0:
        pytest.fail("needs root to mount a small tmpfs")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], check=True)
    try:
        source = tmp_path / "src"
        source.mkdir()
        small, large = source / "v1.csv", source / "v2.csv"
        small.write_text("a\n" * 1000)
        large.write_bytes(b"b\n" * 700_000)  # 1.4 MB: does not fit

        def files(path: Path) -> list[dict[str, str]]:
            return [{"path": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}]

        old = disk / "ds" / "1-aaa"
        assert stage(source, old, files(small))
        with pytest.raises((StagingError, OSError)) as failed:
            stage(source, disk / "ds" / "2-bbb", files(large))
        assert "No space left" in str(failed.value)
        assert sorted(p.name for p in (disk / "ds").iterdir()) == ["1-aaa"]
        assert (old / "v1.csv").read_text() == "a\n" * 1000
    finally:
        subprocess.run(["umount", str(disk)], check=False)
