"""`sandbox datasets retention [--apply]` and `datasets prune [--dry-run]`
over a state directory holding staged copies as `up` leaves them: a version
past its period is destroyed (or marked for transfer) and recorded; a version
no sandbox uses is pruned."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.config.loader import load_config
from sandbox.errors import InvalidInput
from sandbox.governance.catalog import staged_dataset
from sandbox.host.layout import Layout
from sandbox.provisioning import plan as planning
from sandbox.provisioning.context import Context


def stage(copy: Path, retention: dict, staged_at: str) -> None:
    copy.mkdir(parents=True)
    package = {"sandbox:governance": {"retention": retention}}
    (copy / "datapackage.json").write_text(json.dumps(package))
    (copy / ".staged").write_text(json.dumps({"files": [], "staged_at": staged_at}))
    os.chmod(copy, 0o555)


@pytest.fixture
def state(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, demo_copy: Path, monkeypatch):
    # short: the sockets under the state dir must fit in 107 bytes
    layout = Layout(tmp_path_factory.mktemp("s"))
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(layout.root))
    monkeypatch.setenv("SANDBOX_CLOCK_FILE", str(tmp_path / "today"))
    loaded = load_config(demo_copy, verify_checksums=False)
    destroy = {"period": "P7Y", "action": "destroy", "basis": "Selectielijst 1.1.1"}
    current = staged_dataset(loaded, "woz-2024", layout).path  # issued 2024-03-01
    stage(current, destroy, "2026-01-05T10:00:00+00:00")
    old = layout.dataset_version_dir("woz-2024", "2023.1-0123456789ab")
    stage(old, destroy, "2020-01-02T10:00:00+00:00")  # not this card's version: from staging
    cbs = staged_dataset(loaded, "cbs-wijken-2024", layout).path  # P10Y transfer from 2024-07-01
    stage(cbs, {"period": "P10Y", "action": "transfer", "basis": "1.2"}, "2026-01-05T10:00:00Z")
    return {"layout": layout, "config": demo_copy, "current": current, "old": old, "cbs": cbs,
            "clock": tmp_path / "today"}  # fmt: skip


def sandbox(state, *args: str):
    result = CliRunner().invoke(cli, ["-c", str(state["config"]), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_retention_lists_versions_past_their_period_by_issued_or_staging_date(state):
    state["clock"].write_text("2027-01-02")
    rows = json.loads(sandbox(state, "datasets", "retention", "--json").stdout)
    assert [(r["version"], r["from"], r["until"]) for r in rows] == [
        ("2023.1-0123456789ab", "staged 2020-01-02", "2027-01-02")
    ]
    state["clock"].write_text("2027-01-01")
    assert json.loads(sandbox(state, "datasets", "retention", "--json").stdout) == []
    state["clock"].write_text("2031-03-01")  # the configured card's version: from issued
    rows = json.loads(sandbox(state, "datasets", "retention", "--json").stdout)
    assert [(r["from"], r["until"], r["used_by"]) for r in rows][-1] == (
        "issued 2024-03-01",
        "2031-03-01",
        ["demo"],
    )


def test_apply_destroys_a_destroy_version_and_marks_a_transfer_one_with_records(state):
    state["clock"].write_text("2034-07-01")
    out = sandbox(state, "datasets", "retention", "--apply").stdout
    assert "woz-2024 2023.1-0123456789ab: P7Y from staged 2020-01-02" in out
    assert "used by demo" in out  # the current woz version: destroyed although mounted
    assert not state["old"].exists() and not state["current"].exists()
    assert state["cbs"].is_dir() and Path(str(state["cbs"]) + ".transfer").is_file()
    records = json.loads(sandbox(state, "audit", "list", "--kind", "retention").stdout)
    assert sorted((r["subject"], r["details"]["done"]) for r in records) == [
        (f"cbs-wijken-2024/{state['cbs'].name}", "marked for transfer"),
        ("woz-2024/2023.1-0123456789ab", "destroyed"),
        (f"woz-2024/{state['current'].name}", "destroyed"),
    ]
    assert all(len(r["details"]["manifest_sha256"]) == 64 for r in records)
    sandbox(state, "datasets", "retention", "--apply")  # marked once, not again
    assert len(json.loads(sandbox(state, "audit", "list", "--kind", "retention").stdout)) == 3


def test_prune_removes_only_versions_no_sandbox_uses(state):
    dry = json.loads(sandbox(state, "datasets", "prune", "--dry-run", "--json").stdout)
    assert [r["version"] for r in dry] == ["2023.1-0123456789ab"] and state["old"].exists()
    sandbox(state, "datasets", "prune")
    assert not state["old"].exists() and state["current"].is_dir() and state["cbs"].is_dir()
    records = json.loads(sandbox(state, "audit", "list", "--kind", "prune").stdout)
    assert [r["subject"] for r in records] == ["woz-2024/2023.1-0123456789ab"]


def test_a_destroyed_version_is_not_staged_again_by_the_next_plan_or_up(state):
    state["clock"].write_text("2034-07-01")
    sandbox(state, "datasets", "retention", "--apply")
    destroyed = json.loads(state["layout"].retention_destroyed().read_text())
    assert destroyed[f"woz-2024/{state['current'].name}"]["destroyed_on"] == "2034-07-01"
    loaded = load_config(state["config"], verify_checksums=False)
    env = Context(layout=state["layout"])
    with pytest.raises(InvalidInput, match=r"woz-2024 version .* was destroyed on 2034-07-01"):
        planning.plan(loaded, env, "demo")


def test_a_version_not_removed_completely_is_not_recorded_as_destroyed(state, monkeypatch):
    from sandbox.provisioning import retention

    monkeypatch.setattr(retention, "remove", lambda paths: [])  # as if rmtree failed silently
    state["clock"].write_text("2034-07-01")
    result = CliRunner().invoke(
        cli, ["-c", str(state["config"]), "datasets", "retention", "--apply"]
    )
    assert result.exit_code != 0 and "not removed completely" in result.output
    records = json.loads(sandbox(state, "audit", "list", "--kind", "retention").stdout)
    assert [r["details"]["done"] for r in records if "woz" in r["subject"]] == []
    assert not state["layout"].retention_destroyed().exists()
