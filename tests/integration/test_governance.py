"""Governance at every server start (rule 7), integrity and the access log,
against the real hub and containers of the `deployment` fixture."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import Deployment
from tests.hubclient import HubUser

pytestmark = pytest.mark.docker


def data_listing(deployment: Deployment, user: str) -> set[str]:
    container = f"sandbox-{deployment.name}-{user}"
    out = subprocess.run(
        ["docker", "exec", container, "ls", "/data"], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def notice(deployment: Deployment, user: str) -> str:
    container = f"sandbox-{deployment.name}-{user}"
    return subprocess.run(
        ["docker", "exec", container, "cat", "/data/NOTICE.md"], capture_output=True, text=True
    ).stdout


@contextmanager
def today_is(deployment: Deployment, day: date) -> Iterator[None]:
    before = deployment.clock.read_text()
    deployment.clock.write_text(day.isoformat())
    try:
        yield
    finally:
        deployment.clock.write_text(before)


def access_log(deployment: Deployment, user: str) -> list[dict]:
    out = deployment.sandbox("datasets", "access-log", "--user", user, "--json").stdout
    return json.loads(out)


def spawn_with_progress(user: HubUser) -> list[str]:
    """Start a server and read the spawn page's progress stream while it is pending."""
    spawning = threading.Thread(target=user.api, args=("POST", f"/users/{user.name}/server"))
    spawning.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        model = user.api("GET", f"/users/{user.name}").json()
        if model.get("pending") == "spawn" or (model.get("servers") or {}).get(""):
            break
        time.sleep(0.05)
    messages = []
    with user.session.get(
        f"{user.base}/hub/api/users/{user.name}/server/progress",
        headers={"X-XSRFToken": user._xsrf, "Accept": "text/event-stream"},
        stream=True,
        timeout=180,
    ) as stream:
        for line in stream.iter_lines(decode_unicode=True):
            if line and line.startswith("data:"):
                event = json.loads(line[5:])
                messages.append(event.get("message", ""))
                if event.get("ready") or event.get("failed"):
                    break
    spawning.join()
    user.spawn()  # already running: returns once ready
    return messages


def test_agreement_expiring_between_two_spawns_stops_the_mount(deployment: Deployment):
    user = HubUser(deployment.url, "bob", deployment.password("bob"))
    user.spawn()
    assert "woz-2024" in data_listing(deployment, "bob")
    user.stop()
    # the woz agreement (GLP-2024-12) runs until 2027-06-30; the sandbox until 2027-12-31
    with today_is(deployment, date(2027, 7, 1)):
        messages = spawn_with_progress(user)
        try:
            listed = data_listing(deployment, "bob")
            assert "woz-2024" not in listed
            assert "cbs-wijken-2024" in listed and "NOTICE.md" in listed
            assert "agreement expired on 2027-06-30" in notice(deployment, "bob")
            assert any("woz-2024 is not mounted" in m for m in messages), messages
        finally:
            user.stop()
    last = [e for e in access_log(deployment, "bob") if e["dataset"] == "woz-2024"][-2:]
    assert [e["decision"] for e in last] == ["granted", "refused"]
    assert "expired" in last[1]["reason"]
    assert last[0]["purpose"] == "policy-research"
    assert last[0]["legal_basis"].startswith("public-task: https://wetten.overheid.nl/")
    assert len(last[0]["trace_id"]) == 32 and last[0]["trace_id"] != last[1]["trace_id"]


def test_sandbox_past_expiry_starts_no_server(deployment: Deployment):
    user = HubUser(deployment.url, "dave", deployment.password("dave"))
    with today_is(deployment, date(2028, 1, 1)):
        answer = user.api("POST", "/users/dave/server")
    assert answer.status_code >= 400
    assert "expired on 2027-12-31" in answer.text


def test_tampered_staged_file_is_detected_and_not_mounted(deployment: Deployment):
    staged = next((deployment.state / "datasets" / "woz-2024").glob("2024.1-*"))
    data = staged / "woz-2024.csv"
    original = data.read_bytes()
    tampered = original.replace(b"260000", b"999000", 1)
    assert tampered != original and len(tampered) == len(original)
    data.write_bytes(tampered)  # root ignores the 0444 mode, as an attacker with root would
    try:
        verify = deployment.sandbox("datasets", "verify", check=False)
        assert verify.returncode == 1
        assert "woz-2024.csv (staged, tampered)" in verify.stderr
        user = HubUser(deployment.url, "alice", deployment.password("alice"))
        user.spawn()
        try:
            assert "woz-2024" not in data_listing(deployment, "alice")
            assert "fail their checksums" in notice(deployment, "alice")
        finally:
            user.stop()
    finally:
        data.write_bytes(original)
    assert deployment.sandbox("datasets", "verify", "woz-2024").returncode == 0


def test_verify_uses_its_cache_unless_full(deployment: Deployment):
    deployment.sandbox("datasets", "verify")
    cached = deployment.sandbox("datasets", "verify").stdout
    assert "0 file(s) read" in cached
    full = deployment.sandbox("datasets", "verify", "--full").stdout
    # --full reads every source file and staged copy again (three datasets)
    read = re.search(r"(\d+) file\(s\) read", full)
    assert read and int(read[1]) >= 3, full


def test_a_missing_staged_file_is_named(deployment: Deployment, tmp_path: Path):
    staged = next((deployment.state / "datasets" / "cbs-wijken-2024").glob("2024.1-*"))
    data = staged / "wijken-2024.csv"
    moved = tmp_path / "wijken.csv"
    staged.chmod(0o755)
    data.rename(moved)
    try:
        verify = deployment.sandbox("datasets", "verify", "cbs-wijken-2024", check=False)
        assert verify.returncode == 1
        assert "wijken-2024.csv (staged, missing)" in verify.stderr
    finally:
        moved.rename(data)
        staged.chmod(0o555)
