"""Access that ends when it should, against a real hub and real containers:
a grant a group lost, a user removed from every group, an expired sandbox.

The module provisions a sandbox of its own (`ends`, port 18170) from a copy
of the demo configuration, edits that copy as an IT person would, and runs
`sandbox up` again; each test builds on the state the previous one left."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import tarfile
import time
from datetime import date
from pathlib import Path

import pytest
import requests

from sandbox.host.layout import Layout
from sandbox.registry import audit
from sandbox.registry.db import open_registry_url
from tests.conftest import PROJECT, SANDBOX_BIN, Deployment, require_docker
from tests.hubclient import HubUser

pytestmark = pytest.mark.docker

NAME, PORT = "ends", 18170


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory):
    require_docker()
    root = tmp_path_factory.mktemp("ends")
    shutil.copytree(PROJECT / "config", root / "config")
    config = root / "config" / "sandbox.yaml"
    text = config.read_text().replace("- name: demo", f"- name: {NAME}")
    config.write_text(text.replace("port: 8000", f"port: {PORT}"))
    clock = root / "today"
    clock.write_text(date.today().isoformat())
    env = {
        **os.environ,
        "SANDBOX_CONFIG": str(config),
        "SANDBOX_STATE_DIR": str(root / "state"),
        "SANDBOX_CLOCK_FILE": str(clock),
        "COLUMNS": "200",
    }
    first = subprocess.run(
        [SANDBOX_BIN, "up"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    deployment = Deployment(config, root / "state", env, first, clock, PORT, NAME)
    try:
        if first.returncode != 0:
            pytest.fail(f"sandbox up failed:\n{first.stdout}\n{first.stderr}", pytrace=False)
        yield deployment
    finally:
        deployment.sandbox("down", "--purge", "--yes", check=False)


def edit(deployment: Deployment, old: str, new: str) -> None:
    text = deployment.config.read_text()
    assert old in text
    deployment.config.write_text(text.replace(old, new, 1))


def login(deployment: Deployment, user: str) -> HubUser:
    return HubUser(deployment.url, user, deployment.password(user))


def container(user: str) -> str:
    return f"sandbox-{NAME}-{user}"


def running(user: str) -> bool:
    found = subprocess.run(
        ["docker", "ps", "-q", "--filter", f"name=^{container(user)}$"],
        capture_output=True,
        text=True,
        check=True,
    )
    return bool(found.stdout.strip())


def mounted(user: str) -> set[str]:
    info = subprocess.run(
        ["docker", "inspect", container(user)], capture_output=True, text=True, check=True
    )
    return {m["Destination"] for m in json.loads(info.stdout)[0]["Mounts"]}


def hub_users(deployment: Deployment) -> list[str]:
    answer = requests.get(
        f"{deployment.url}/hub/api/users",
        headers={"Authorization": f"token {deployment.secret('cli_token')}"},
        timeout=10,
    )
    answer.raise_for_status()
    return [u["name"] for u in answer.json()]


def revoked_rows(deployment: Deployment, user: str) -> list[dict]:
    out = deployment.sandbox("datasets", "access-log", "--user", user, "--json").stdout
    return [row for row in json.loads(out) if row["decision"] == "revoked"]


def timed_up(deployment: Deployment) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = deployment.sandbox("up")
    return result, time.monotonic() - started


def in_container(user: str, script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "exec", container(user), "sh", "-c", script], capture_output=True, text=True
    )


def test_a_team_folder_is_read_write_for_its_members_and_absent_for_others(deployed):
    for user in ("alice", "bob", "dave"):
        login(deployed, user).spawn()
    wrote = in_container("alice", "echo from-alice > /shared/belastingen/notes.txt")
    assert wrote.returncode == 0, wrote.stderr
    # bob reads alice's file, changes it, adds his own; the folder is in his home's browser too
    both = in_container(
        "bob",
        "cat /shared/belastingen/notes.txt && echo from-bob >> ~/shared/belastingen/notes.txt"
        " && mkdir /shared/belastingen/model && echo x > /shared/belastingen/model/w.bin",
    )
    assert both.returncode == 0 and both.stdout == "from-alice\n", both.stderr
    read = in_container("alice", "cat /shared/belastingen/notes.txt; ls /shared")
    assert read.stdout.split() == ["from-alice", "from-bob", "belastingen"]
    # dave (leefomgeving) has his own team's folder and no trace of belastingen's
    assert "/shared/belastingen" not in mounted("dave")
    assert "/shared/leefomgeving" in mounted("dave")
    assert in_container("dave", "ls /shared").stdout.split() == ["leefomgeving"]
    looked = in_container("dave", "ls /shared/belastingen")
    assert looked.returncode != 0 and "No such file" in looked.stderr
    volume = json.loads(
        subprocess.run(
            ["docker", "volume", "inspect", f"sandbox-{NAME}-shared-belastingen"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )[0]
    assert volume["Labels"]["org.data-sandbox.group"] == "belastingen"
    erin = login(deployed, "erin").session
    catalog = erin.get(f"{deployed.url}/services/registry/catalog", timeout=30)
    assert "<table id='team-folders'>" in catalog.text
    assert "<tr data-group='belastingen' data-tier='2'>" in catalog.text


def test_a_lost_grant_stops_the_server_and_the_next_start_lacks_the_dataset(deployed):
    alice = login(deployed, "alice")
    alice.spawn()
    assert "/data/woz-2024" in mounted("alice")
    edit(
        deployed,
        "          - dataset: woz-2024\n            purpose: policy-research\n",
        "",
    )
    plan = deployed.sandbox("plan").stdout
    assert "- revoke alice: woz-2024 (server will be stopped)" in plan
    assert "- revoke bob: woz-2024 (server will be stopped)" in plan
    up, seconds = timed_up(deployed)
    print(f"up with a lost grant: {seconds:.1f} s\n{up.stdout}")
    assert not running("alice")  # gone within that up
    assert "revoked alice: woz-2024 (server stopped" in up.stdout
    assert [r["dataset"] for r in revoked_rows(deployed, "alice")] == ["woz-2024"]
    alice.spawn()  # her login still works; the next start mounts what is still granted
    assert "/data/woz-2024" not in mounted("alice")
    assert "/data/cbs-wijken-2024" in mounted("alice")


def test_a_user_removed_from_every_group_loses_server_login_and_hub_account(deployed):
    assert running("alice")
    edit(deployed, "members: [alice, bob]", "members: [bob]")
    assert "- revoke alice: cbs-wijken-2024, login (server will be stopped)" in (
        deployed.sandbox("plan").stdout
    )
    up, seconds = timed_up(deployed)
    print(f"up removing a user: {seconds:.1f} s\n{up.stdout}")
    assert not running("alice")
    assert "alice" not in hub_users(deployed)
    assert login(deployed, "alice").login_status != 302  # refused
    assert login(deployed, "bob").login_status == 302
    rows = revoked_rows(deployed, "alice")
    assert [(r["dataset"], r["reason"]) for r in rows][-1] == (
        "cbs-wijken-2024",
        "removed from every group of the sandbox",
    )
    assert "revoke" not in deployed.sandbox("plan").stdout  # done: not planned again


def test_an_expired_sandbox_stops_running_servers(deployed):
    bob = login(deployed, "bob")
    bob.spawn()
    deployed.clock.write_text("2028-01-01")  # the demo sandbox expires on 2027-12-31
    started = time.monotonic()
    while (running("bob") or running("dave")) and time.monotonic() - started < 60:
        time.sleep(0.2)
    print(f"expired: servers gone {time.monotonic() - started:.1f} s after the clock moved")
    assert not running("bob") and not running("dave")  # dave's since the team folder test
    status = json.loads(deployed.sandbox("status", "--json").stdout)["sandboxes"][0]
    assert status["expired"] is True and status["servers"] == []
    assert "2027-12-31 (expired)" in deployed.sandbox("status").stdout
    rows = revoked_rows(deployed, "bob")
    assert rows[-1]["reason"] == "the sandbox expired on 2027-12-31"


def offboard_records(deployed: Deployment) -> list[dict]:
    engine = open_registry_url(f"sqlite:///{Layout(deployed.state).registry_db}")
    return [e["details"] | {"subject": e["subject"]} for e in audit.entries(engine, "offboard")]


def volume_exists(name: str) -> bool:
    found = subprocess.run(["docker", "volume", "inspect", name], capture_output=True)
    return found.returncode == 0


def test_a_removed_users_home_is_archived_once_the_grace_period_is_over(deployed):
    layout = Layout(deployed.state)
    assert json.loads(layout.offboarding_pending(NAME).read_text()) == {
        "alice": date.today().isoformat()
    }  # removed by the second test; the clock now says 2028-01-01, past P30D
    # files alice made unreadable (to herself too) are archived all the same
    image = json.loads(layout.applied(NAME).read_text())["image"]
    subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--user", "1000:100",
         "--entrypoint", "sh", "-v", f"sandbox-{NAME}-home-alice:/home/jovyan", image, "-c",
         "mkdir -p /home/jovyan/locked && cd /home/jovyan/locked && "
         "for i in $(seq 2000); do echo secret > f$i; chmod 000 f$i; done && "
         "echo secret > ../x && chmod 000 ../x . "],
        check=True,
        capture_output=True,
    )  # fmt: skip
    edit(deployed, "    admins: [admin]\n", "    admins: [admin]\n"
         "    offboarding: {homes: archive, grace: P30D}\n")  # fmt: skip
    up = deployed.sandbox("up").stdout
    assert "home of alice archived" in up
    [archive] = layout.offboarding_dir(NAME).glob("alice-*.tar.gz")
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    [record] = offboard_records(deployed)
    assert record["subject"] == f"{NAME}/alice" and record["what"] == "archived"
    assert record["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    with tarfile.open(archive) as packed:
        assert any(name.startswith("./") for name in packed.getnames())
        assert "./x" in packed.getnames() and "./locked/f2000" in packed.getnames()
        unreadable = packed.extractfile("./x")
        assert unreadable is not None and unreadable.read() == b"secret\n"
    assert not volume_exists(f"sandbox-{NAME}-home-alice")


def test_retention_apply_destroys_a_version_past_its_period_and_records_it(deployed):
    deployed.clock.write_text("2029-02-02")  # meldingen: P5Y destroy from issued 2024-02-01
    # leefomgeving's team folder: a file derived in 2020, one of today
    image = json.loads(Layout(deployed.state).applied(NAME).read_text())["image"]
    subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--user", "1000:1000",
         "--entrypoint", "sh", "-v", f"sandbox-{NAME}-shared-leefomgeving:/shared", image, "-c",
         "echo old > /shared/old.csv && touch -d 2020-01-01 /shared/old.csv && "
         "echo new > /shared/new.csv"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    listed = json.loads(deployed.sandbox("datasets", "retention", "--json").stdout)
    staged = [r for r in listed if r["kind"] == "staged-version"]
    assert [(r["dataset"], r["until"]) for r in staged] == [
        ("meldingen-openbare-ruimte-2024", "2029-02-01")
    ]
    [team] = [r for r in listed if r["kind"] == "team-folder"]
    # derived from meldingen (P5Y destroy), counted from the file's last change
    assert (team["group"], team["period"]) == ("leefomgeving", "P5Y")
    assert [(f["path"], f["until"]) for f in team["files"]] == [("old.csv", "2025-01-01")]
    copy = Path(staged[0]["path"])
    assert copy.is_dir()
    deployed.sandbox("datasets", "retention", "--apply")
    assert not copy.exists()
    records = json.loads(deployed.sandbox("audit", "list", "--kind", "retention").stdout)
    assert [r["subject"] for r in records] == [
        f"meldingen-openbare-ruimte-2024/{copy.name}",
        f"{NAME}/shared/leefomgeving",
    ]
    assert records[0]["details"]["done"] == "destroyed"
    assert records[0]["details"]["manifest_sha256"]
    [removed] = records[1]["details"]["files"]
    assert removed["sha256"] == hashlib.sha256(b"old\n").hexdigest()
    left = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--entrypoint", "ls", "-v",
         f"sandbox-{NAME}-shared-leefomgeving:/shared:ro", image, "/shared"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert left.stdout.split() == ["new.csv"]


def backup_file(deployed: Deployment) -> Path:
    return deployed.state.parent / "backup.tar.gz"


def test_a_backup_holds_the_team_folders(deployed):
    said = deployed.sandbox("backup", "-o", str(backup_file(deployed))).stdout
    assert f"team folders: {NAME}/belastingen, {NAME}/leefomgeving" in said
    with tarfile.open(backup_file(deployed)) as packed:
        inner = packed.extractfile(f"backup/sandboxes/{NAME}/team-folders/belastingen.tar")
        assert inner is not None
        with tarfile.open(fileobj=inner) as team:
            notes = team.extractfile("./notes.txt")
            assert notes is not None and notes.read() == b"from-alice\nfrom-bob\n"
            assert team.getmember("./model/w.bin").uid == 1000


def test_down_purge_leaves_no_staged_copy_hub_database_or_secret(deployed):
    layout = Layout(deployed.state)
    used = json.loads(layout.applied(NAME).read_text())["datasets"]
    copies = [layout.dataset_version_dir(i, key) for i, key in used.items()]
    assert copies  # meldingen's was destroyed by retention already
    assert layout.hub_database(NAME).is_file() and layout.secret(NAME, "cli_token").is_file()
    deployed.sandbox("down", NAME, "--purge", "--yes")
    left = sorted(str(p.relative_to(deployed.state)) for p in deployed.state.rglob("*"))
    print("state dir after down --purge:", *left, sep="\n  ")
    assert not [p for p in left if p.startswith((f"sandboxes/{NAME}", f"sockets/{NAME}"))]
    for copy in copies:
        assert str(copy.relative_to(deployed.state)) not in left
    # nor woz-2024's copy, which no sandbox used after the first test; nor card files
    assert not [p for p in left if p.startswith(("datasets/", "uploads/"))]
    volumes = subprocess.run(
        ["docker", "volume", "ls", "-q", "--filter", f"name=^sandbox-{NAME}-"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert volumes.stdout.strip() == ""
    # homes and team folders follow the policy: archived, alice's from before kept
    archives = sorted(p.name.rsplit("-", 1)[0] for p in layout.offboarding_dir(NAME).iterdir())
    assert archives == [
        "alice",
        "bob",
        "dave",
        "shared-belastingen",
        "shared-leefomgeving",
    ]
    records = offboard_records(deployed)
    assert [(r["subject"], r["what"], r["reason"]) for r in records][-4:] == [
        (f"{NAME}/{subject}", "archived", "down --purge")
        for subject in ("bob", "dave", "shared/belastingen", "shared/leefomgeving")
    ]
    [team] = [r for r in records if r["subject"] == f"{NAME}/shared/belastingen"]
    with tarfile.open(team["archive"]) as packed:
        notes = packed.extractfile("./notes.txt")
        assert notes is not None and notes.read() == b"from-alice\nfrom-bob\n"


def test_a_restore_makes_the_team_folders_again(deployed, tmp_path):
    volume = f"sandbox-{NAME}-shared-belastingen"
    assert not volume_exists(volume)  # purged
    env = {**deployed.env, "SANDBOX_STATE_DIR": str(tmp_path / "restored")}
    env.pop("SANDBOX_REGISTRY_URL", None)
    restored = subprocess.run(
        [SANDBOX_BIN, "restore", str(backup_file(deployed))],
        env=env,
        capture_output=True,
        text=True,
    )
    try:
        assert restored.returncode == 0, restored.stderr
        image = json.loads(
            subprocess.run(
                ["docker", "volume", "inspect", volume], capture_output=True, text=True, check=True
            ).stdout
        )[0]
        assert image["Labels"]["org.data-sandbox.group"] == "belastingen"
        files = subprocess.run(
            ["docker", "run", "--rm", "--network", "none", "--entrypoint", "sh", "-v",
             f"{volume}:/shared:ro", "sandbox-base:bookworm", "-c",
             "cat /shared/notes.txt && stat -c '%u %a' /shared /shared/model/w.bin"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert files.stdout.splitlines() == ["from-alice", "from-bob", "1000 770", "1000 644"]
    finally:
        for group in ("belastingen", "leefomgeving"):
            subprocess.run(["docker", "volume", "rm", "-f", f"sandbox-{NAME}-shared-{group}"])
