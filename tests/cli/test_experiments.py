"""`sandbox experiments ...` through CliRunner against a SQLite registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from tests.conftest import copy_registry


@pytest.fixture
def run(tmp_path: Path, monkeypatch, migrated_registry: Path):
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(tmp_path / "state"))
    copy_registry(migrated_registry, tmp_path / "state" / "registry.sqlite")  # empty, migrated
    monkeypatch.setenv("SANDBOX_ACTOR", "carol")
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


def register(run, *extra: str):
    return run(
        "experiments",
        "register",
        "--title",
        "WOZ-model",
        "--team",
        "belastingen",
        "--sandbox",
        "demo",
        "--purpose",
        "policy-research",
        "--dataset",
        "woz-2024",
        "--personal-data",
        *extra,
    )


def events_of(run, experiment_id: str) -> list[dict]:
    shown = run("experiments", "show", experiment_id, "--json")
    return json.loads(shown.stdout)["events"]


def test_lifecycle_through_the_cli(run):
    assert register(run).stdout.strip() == "registered EXP-0001 (proposed)"
    for state in ("approved", "exploring", "validated"):
        result = run("experiments", "transition", "EXP-0001", "--to", state, "--reason", "ok")
        assert result.exit_code == 0, result.output
    listed = json.loads(run("experiments", "list", "--json").stdout)
    assert [(e["id"], e["state"], e["owner"]) for e in listed] == [
        ("EXP-0001", "validated", "carol")
    ]
    events = events_of(run, "EXP-0001")
    assert [e["to_state"] for e in events] == ["proposed", "approved", "exploring", "validated"]
    assert all(e["actor"] == "carol" and e["at"].endswith("Z") for e in events)
    assert "validated" in run("experiments", "list").output
    assert "to_state: validated" in run("experiments", "show", "EXP-0001").output


@pytest.mark.parametrize(
    "args, message",
    [
        (("--to", "launched"), "unknown state 'launched'"),
        (("--to", "in_production"), "proposed -> in_production is not allowed"),
    ],
)
def test_bad_transitions_exit_2_and_write_nothing(run, args, message):
    register(run)
    result = run("experiments", "transition", "EXP-0001", *args)
    assert result.exit_code == 2 and message in result.stderr
    assert "Traceback" not in result.output
    assert len(events_of(run, "EXP-0001")) == 1


def test_gate_failure_names_what_is_missing(run):
    register(run, "--human-intervention", "a case worker decides")
    for state in ("approved", "exploring", "validated"):
        run("experiments", "transition", "EXP-0001", "--to", state, "--reason", "ok")
    result = run(
        "experiments", "transition", "EXP-0001", "--to", "in_production", "--reason", "ready"
    )
    assert result.exit_code == 2
    assert "missing: risks, proportionality, dpia_reference" in result.stderr
    assert len(events_of(run, "EXP-0001")) == 4


def test_unknown_experiment(run):
    for args in (("show", "EXP-0404"), ("transition", "EXP-0404", "--to", "approved")):
        result = run("experiments", *args)
        assert result.exit_code == 2 and "unknown experiment 'EXP-0404'" in result.stderr


def test_import_happy_and_malformed(run, tmp_path: Path):
    good = tmp_path / "good.jsonl"
    good.write_text(
        '{"type": "experiment", "id": "EXP-0001", "title": "t", "team": "belastingen",'
        ' "sandbox": "demo", "owner": "alice", "purpose": "policy-research",'
        ' "registered_at": "2025-01-10T09:00:00Z"}\n'
        '{"type": "transition", "experiment": "EXP-0001", "to": "approved",'
        ' "at": "2025-01-12T10:00:00Z", "actor": "carol", "reason": "go"}\n'
    )
    result = run("experiments", "import", str(good))
    assert result.exit_code == 0
    assert "imported 1 experiment(s) and 1 transition(s)" in result.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "experiment", "id": "EXP-0002"\n')
    result = run("experiments", "import", str(bad))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {bad}:1: malformed JSON")
    assert [e["id"] for e in json.loads(run("experiments", "list", "--json").stdout)] == [
        "EXP-0001"
    ]


def test_report_formats(run, tmp_path: Path):
    register(run)
    for state in ("approved", "stopped"):
        run("experiments", "transition", "EXP-0001", "--to", state, "--reason", "decided")
    register(run)
    data = json.loads(run("report", "--format", "json").stdout)
    assert data["overall"]["registered"] == 2 and data["overall"]["stopped"] == 1
    assert data["overall"]["conversion_rate"] == 0.0
    lines = run("report", "--format", "csv").stdout.splitlines()
    assert lines[0].startswith("group,name,since,until,registered")
    assert lines[1].startswith("overall,all,,,2,1,0,1,0.0,")
    table = run("report")
    assert table.exit_code == 0 and "Funnel" in table.output
    out = tmp_path / "report.json"
    assert run("report", "--format", "json", "-o", str(out)).exit_code == 0
    assert json.loads(out.read_text())["overall"] == data["overall"]


@pytest.mark.parametrize(
    "args, message",
    [
        (("--since", "2025-02-01", "--until", "2025-01-01"), "must be before"),
        (("--since", "yesterday"), "Invalid value for '--since'"),
        (("--format", "pdf"), "Invalid value for '--format'"),
    ],
)
def test_report_bad_arguments(run, args, message):
    result = run("report", *args)
    assert result.exit_code == 2 and message in result.stderr


def test_export_algoritmeregister(run, tmp_path: Path, monkeypatch):
    """The demo organisation's register file passes the standard 1.0 with no violation."""
    from tests.algoritmeregister_schema import register_validator, violations

    project = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("SANDBOX_CONFIG", str(project / "config" / "sandbox.yaml"))
    gate = ("--human-intervention", "a tax officer decides", "--risks", "bias")
    gate += ("--proportionality", "pseudonymised data only", "--dpia-reference", "DPIA-2024-07")
    gate += ("--description", "Schat WOZ-waarden met een regressiemodel.")
    register(run, *gate)
    register(run)  # stays proposed: not exported
    register(
        run,
        *gate,
        "--goal",
        "Eerlijker WOZ-waarden.\n\n- minder bezwaren\n- sneller besluiten",
        "--publication-category",
        "Overige algoritmes",
    )
    for experiment_id, last in (("EXP-0001", "in_production"), ("EXP-0003", "retired")):
        for state in ("approved", "exploring", "validated", "in_production", "retired"):
            step = run("experiments", "transition", experiment_id, "--to", state, "--reason", "ok")
            assert step.exit_code == 0, step.output
            if state == last:
                break
    out = tmp_path / "register.json"
    result = run("export", "algoritmeregister", "-o", str(out))
    assert result.exit_code == 0, result.output
    records = json.loads(out.read_text())
    assert [(r["source_id"], r["status"]) for r in records] == [
        ("EXP-0001", "In gebruik"),
        ("EXP-0003", "Buiten gebruik"),
    ]
    validator = register_validator()
    for record in records:
        assert violations(validator, record) == [], record["source_id"]
        assert record["standard_version"] == "1.0"
        assert record["contact_email"] == "algoritmes@voorbeeld.nl"
        assert "DPIA-2024-07" in record["impacttoetsen"]
        assert "BWBR0007119" in record["lawful_basis"]
    first, retired = records
    assert first["goal"] == "Schat WOZ-waarden met een regressiemodel."  # the description
    assert first["publication_category"] == "Impactvolle algoritmes"  # the default
    assert retired["publication_category"] == "Overige algoritmes"
    assert retired["goal"].startswith("<p>Eerlijker WOZ-waarden.</p><ul><li>")
    assert "end_date" in retired and "end_date" not in first
    assert "EXP-0001: note: publication_category: none given" in result.stderr
    assert "EXP-0003: note" not in result.stderr
    assert not [
        line
        for line in result.stderr.splitlines()
        if line.startswith("EXP-") and ": note: " not in line
    ]  # no problems reported


@pytest.mark.parametrize("team", ["bad\rteam", "", "x" * 65, "{"])
def test_team_names_are_printable(run, team: str):
    result = run(
        "experiments",
        "register",
        "--title",
        "t",
        "--team",
        team,
        "--sandbox",
        "demo",
        "--purpose",
        "p",
    )
    assert result.exit_code == 2 and "team" in result.stderr
    assert json.loads(run("experiments", "list", "--json").stdout) == []
