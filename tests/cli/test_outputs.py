"""`sandbox outputs ...` through CliRunner: stewards on the host review and
release what analysts requested; the rules hold here as in the service."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.host.layout import Layout
from sandbox.registry import outputs
from sandbox.registry.db import open_registry_url

CROSSTAB = "wijk,klasse,aantal\nA,<1945,12\nA,>1945,3\nB,<1945,40\n"


@pytest.fixture
def state(tmp_path: Path, monkeypatch) -> Layout:
    """A provisioned tier-2 sandbox `demo` as its hub.json says, with one
    request of alice's (a crosstab with a cell of 3)."""
    layout = Layout(tmp_path / "state")
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(layout.root))
    airlock = {
        "sandbox": "demo",
        "tier": 2,
        "copies": str(layout.airlock_dir("demo")),
        "outbox": str(layout.outbox_dir("demo")),
        "max_bytes": 1024**2,
        "rules": {"threshold": 10, "p_ratio": 0.1, "nk_n": 2, "nk_k": 0.9},
        "pii_columns": [],
        "homes_dir": "",
        "home_volume_prefix": "x",
    }
    roles = {"alice": ["analyst"], "erin": ["steward"], "frank": ["steward"], "carol": ["manager"]}
    settings = layout.hub_settings("demo")
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"registry": {"airlock": airlock, "roles": roles}}))
    home = tmp_path / "home"
    home.mkdir()
    (home / "t.csv").write_text(CROSSTAB)
    engine = open_registry_url(f"sqlite:///{layout.registry_db}")
    lock = outputs.Airlock.from_settings(airlock)
    outputs.request(engine, lock, home, "alice", "t.csv", "for the council")
    return layout


def sandbox(monkeypatch, actor: str, *args: str):
    monkeypatch.setenv("SANDBOX_ACTOR", actor)
    return CliRunner().invoke(cli, list(args))


def test_list_and_show_say_what_the_checks_found(state, monkeypatch):
    listed = sandbox(monkeypatch, "erin", "outputs", "list")
    assert listed.exit_code == 0
    assert "OUT-0001" in listed.output and "checked" in listed.output and "fail" in listed.output
    shown = json.loads(sandbox(monkeypatch, "erin", "outputs", "show", "OUT-0001", "--json").output)
    assert shown["checks"]["files"][0]["findings"][0]["cells"] == [["A", ">1945", "aantal"]]


def test_two_stewards_with_override_reasons_release_it(state, monkeypatch):
    refused = sandbox(monkeypatch, "erin", "outputs", "approve", "OUT-0001", "--reason", "ok")
    assert refused.exit_code == 2 and "override" in refused.output
    assert "Traceback" not in refused.output
    first = sandbox(
        monkeypatch, "erin", "outputs", "approve", "OUT-0001", "--override", "--reason", "public"
    )
    assert first.exit_code == 0 and "checked (1/2 approvals)" in first.output
    second = sandbox(
        monkeypatch, "frank", "outputs", "approve", "OUT-0001", "--override", "--reason", "agreed"
    )
    assert second.exit_code == 0 and "released (2/2 approvals)" in second.output
    released = state.outbox_dir("demo") / "OUT-0001" / "t.csv"
    assert released.read_text() == CROSSTAB
    log = json.loads(sandbox(monkeypatch, "carol", "outputs", "log", "--json").output)
    assert [line["kind"] for line in log] == ["request", "approve", "approve", "release"]


def test_only_stewards_review(state, monkeypatch):
    for actor in ("alice", "carol", "mallory"):
        answer = sandbox(monkeypatch, actor, "outputs", "reject", "OUT-0001", "--reason", "no")
        assert answer.exit_code == 2, actor
        assert "is not a steward" in answer.output
    rejected = sandbox(
        monkeypatch, "erin", "outputs", "reject", "OUT-0001", "--reason", "cell of 3"
    )
    assert rejected.exit_code == 0 and "rejected" in rejected.output
    again = sandbox(monkeypatch, "frank", "outputs", "approve", "OUT-0001", "--reason", "ok")
    assert again.exit_code == 2 and "already rejected" in again.output


def test_list_by_state(state, monkeypatch):
    def ids(*args: str) -> list[str]:
        answer = sandbox(monkeypatch, "erin", "outputs", "list", *args, "--json")
        assert answer.exit_code == 0, answer.output
        return [r["id"] for r in json.loads(answer.output)]

    assert ids("--state", "checked") == ["OUT-0001"]
    assert ids("--state", "rejected") == []
    sandbox(monkeypatch, "erin", "outputs", "reject", "OUT-0001", "--reason", "cell of 3")
    assert ids("--state", "rejected") == ["OUT-0001"]
    assert ids("--state", "checked") == []
    wrong = sandbox(monkeypatch, "erin", "outputs", "list", "--state", "pending")
    assert wrong.exit_code == 2 and "state must be one of requested, checked" in wrong.output
    assert "Traceback" not in wrong.output


def test_an_approval_needs_a_reason(state, monkeypatch):
    answer = sandbox(monkeypatch, "erin", "outputs", "approve", "OUT-0001", "--override")
    assert answer.exit_code == 2 and "--reason" in answer.output
    shown = json.loads(sandbox(monkeypatch, "erin", "outputs", "show", "OUT-0001", "--json").output)
    assert shown["events"] == []


def test_a_sandbox_not_provisioned_here_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(tmp_path / "empty"))
    answer = sandbox(monkeypatch, "erin", "outputs", "approve", "OUT-0009", "--reason", "ok")
    assert answer.exit_code == 2 and "unknown output request" in answer.output


def test_a_failed_release_says_so_and_a_steward_releases_it_again(state, monkeypatch):
    outbox = state.outbox_dir("demo")
    outbox.parent.mkdir(parents=True, exist_ok=True)
    outbox.write_text("a file where the outbox folder should be")  # the release cannot copy
    for actor in ("erin", "frank"):
        answer = sandbox(
            monkeypatch, actor, "outputs", "approve", "OUT-0001", "--override", "--reason", "ok"
        )
    assert answer.exit_code == 1 and "approved (2/2 approvals)" in answer.output
    assert "its release failed" in answer.output
    assert "sandbox outputs release OUT-0001" in answer.output
    assert "Traceback" not in answer.output
    not_steward = sandbox(monkeypatch, "alice", "outputs", "release", "OUT-0001")
    assert not_steward.exit_code == 2 and "is not a steward" in not_steward.output
    again = sandbox(monkeypatch, "erin", "outputs", "release", "OUT-0001")
    assert again.exit_code == 1 and "failed again" in again.output
    outbox.unlink()
    released = sandbox(monkeypatch, "erin", "outputs", "release", "OUT-0001")
    assert released.exit_code == 0 and "OUT-0001: released" in released.output
    assert (outbox / "OUT-0001" / "t.csv").read_text() == CROSSTAB
    log = json.loads(sandbox(monkeypatch, "carol", "outputs", "log", "--json").output)
    assert [line["kind"] for line in log][-3:] == ["release-failed", "release-failed", "release"]
    done = sandbox(monkeypatch, "erin", "outputs", "release", "OUT-0001")
    assert done.exit_code == 2 and "is released" in done.output
