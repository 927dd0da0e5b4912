"""Registry input through the CLI (issue #19, item 6): names checked against the
configuration (``--force`` for history from elsewhere), ``experiments amend`` as
an append-only amendment event, and a reason for approved, stopped and
in_production."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.config.scaffold import scaffold
from tests.conftest import copy_registry

PROJECT = Path(__file__).resolve().parents[2]
DEMO = PROJECT / "config" / "sandbox.yaml"
KNOWN_HINT = "--force records them anyway, for history from elsewhere"


@pytest.fixture
def run(tmp_path: Path, monkeypatch, migrated_registry: Path):
    """The CLI with the demo configuration (-c) and a registry of this test's own."""
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(tmp_path / "state"))
    copy_registry(migrated_registry, tmp_path / "state" / "registry.sqlite")  # empty, migrated
    monkeypatch.setenv("SANDBOX_ACTOR", "carol")
    monkeypatch.delenv("SANDBOX_CONFIG", raising=False)
    runner = CliRunner()

    def invoke(*args: str, config: Path | None = DEMO):
        front = ["-c", str(config)] if config else []
        return runner.invoke(cli, [*front, *args], catch_exceptions=False)

    return invoke


WOZ = {
    "--title": "WOZ-model",
    "--team": "belastingen",
    "--sandbox": "demo",
    "--purpose": "policy-research",
    "--dataset": "woz-2024",
}


def register(run, *extra: str, config: Path | None = DEMO, **changed: str):
    values = {**WOZ, **{f"--{k.replace('_', '-')}": v for k, v in changed.items()}}
    args = [a for pair in values.items() for a in pair]
    return run("experiments", "register", *args, "--personal-data", *extra, config=config)


def listed(run) -> list[dict]:
    return json.loads(run("experiments", "list", "--json").stdout)


def shown(run, experiment_id: str = "EXP-0001") -> dict:
    return json.loads(run("experiments", "show", experiment_id, "--json").stdout)


def step(run, state: str, *extra: str, experiment_id: str = "EXP-0001"):
    return run("experiments", "transition", experiment_id, "--to", state, *extra)


# ------------------------------------------------------------ names from the configuration


@pytest.mark.parametrize(
    "changed, message",
    [
        ({"sandbox": "werkinkomn"}, "unknown sandbox 'werkinkomn'; known: demo"),
        (
            {"team": "belastingn"},
            "unknown team 'belastingn' in sandbox demo; known: belastingen, data-office, "
            "leefomgeving, management",
        ),
        (
            {"purpose": "marketing"},
            "unknown purpose 'marketing'; known: policy-research, service-improvement, valuation",
        ),
        (
            {"dataset": "woz-2042"},
            "unknown dataset 'woz-2042'; known: cbs-wijken-2024, "
            "meldingen-openbare-ruimte-2024, woz-2024",
        ),
    ],
)
def test_register_refuses_names_the_configuration_does_not_know(run, changed, message):
    result = register(run, **changed)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {message}\n")
    assert KNOWN_HINT in result.stderr
    assert listed(run) == []


def test_every_unknown_name_is_listed_at_once(run):
    result = register(run, sandbox="werkinkomn", purpose="marketing", dataset="woz-2042")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert [line.split(";")[0] for line in lines[:3]] == [
        "Error: unknown sandbox 'werkinkomn'",
        "unknown purpose 'marketing'",
        "unknown dataset 'woz-2042'",
    ]


def test_force_registers_history_from_elsewhere(run):
    result = register(run, "--force", sandbox="werkinkomn", team="inkomen")
    assert result.exit_code == 0, result.output
    [record] = listed(run)
    assert (record["sandbox"], record["team"]) == ("werkinkomn", "inkomen")


def test_the_default_configuration_is_used_when_it_is_there(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scaffold(tmp_path / "config")  # config/sandbox.yaml: sandbox first, group analysts
    result = register(run, config=None)
    assert result.exit_code == 2
    assert "unknown sandbox 'demo'; known: first" in result.stderr
    assert "(names from config/sandbox.yaml;" in result.stderr
    ok = register(
        run, config=None, sandbox="first", team="analysts", purpose="exploration", dataset=""
    )
    assert ok.exit_code == 2 and "unknown dataset ''" in ok.stderr
    args = ["--title", "t", "--team", "analysts", "--sandbox", "first", "--purpose", "exploration"]
    assert run("experiments", "register", *args, config=None).exit_code == 0


def test_without_a_configuration_names_are_not_checked(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no config/sandbox.yaml here, and no -c
    assert register(run, config=None, sandbox="werkinkomn").exit_code == 0


def test_a_configuration_given_but_missing_is_an_error(run, tmp_path):
    result = register(run, config=tmp_path / "nowhere.yaml")
    assert result.exit_code == 2 and "nowhere.yaml" in result.stderr
    assert listed(run) == []


def write_lines(path: Path, *records: dict) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def experiment_line(**changed) -> dict:
    return {
        "type": "experiment",
        "id": "EXP-0001",
        "title": "WOZ-model",
        "team": "belastingen",
        "sandbox": "demo",
        "owner": "alice",
        "purpose": "policy-research",
        "datasets": ["woz-2024"],
        "personal_data": True,
        "registered_at": "2025-01-10T09:00:00Z",
        **changed,
    }


def test_import_refuses_unknown_names_with_the_line_and_force_imports_them(run, tmp_path):
    source = write_lines(
        tmp_path / "history.jsonl",
        experiment_line(),
        experiment_line(id="EXP-0002", sandbox="werkinkomn"),
    )
    result = run("experiments", "import", str(source))
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"Error: {source}:2: unknown sandbox 'werkinkomn'; known: demo\n"
    )
    assert KNOWN_HINT in result.stderr
    assert listed(run) == []  # all or nothing
    forced = run("experiments", "import", "--force", str(source))
    assert forced.exit_code == 0, forced.output
    assert [r["sandbox"] for r in listed(run)] == ["demo", "werkinkomn"]


# ------------------------------------------------------------ a reason for the decisions


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_approving_stopping_and_promoting_need_a_reason(run, reason):
    register(
        run,
        human_intervention="a tax officer decides",
        risks="bias, checked",
        proportionality="pseudonymised data only",
        dpia_reference="DPIA-2024-07",
    )
    register(run, title="second")
    given = () if reason is None else ("--reason", reason)
    for experiment_id, state, before in (
        ("EXP-0001", "approved", "proposed"),
        ("EXP-0002", "stopped", "proposed"),
        ("EXP-0001", "in_production", "validated"),
    ):
        if state == "in_production":
            for middle in ("approved", "exploring", "validated"):
                step(run, middle, "--reason", "ok")
        result = step(run, state, *given, experiment_id=experiment_id)
        assert result.exit_code == 2
        assert result.stderr == (
            f"Error: {experiment_id}: {before} -> {state} needs a reason (every step to "
            "approved, stopped or in_production says why)\n"
        )
        assert shown(run, experiment_id)["state"] == before  # nothing written
    assert step(run, "exploring").exit_code == 0  # other steps may go without one


# ------------------------------------------------------------ amendments


def promote_ready(run):
    """EXP-0001 registered without the gate's fields, then validated."""
    register(run)
    for state in ("approved", "exploring", "validated"):
        assert step(run, state, "--reason", "ok").exit_code == 0


GATE_OPTIONS = (
    "--human-intervention",
    "a tax officer decides",
    "--risks",
    "bias, checked",
    "--proportionality",
    "pseudonymised data only",
    "--dpia-reference",
    "DPIA-2024-07",
)


def test_an_experiment_registered_without_gate_fields_is_amended_and_promoted(run):
    promote_ready(run)
    refused = step(run, "in_production", "--reason", "ready")
    assert refused.exit_code == 2 and "missing: human_intervention, risks" in refused.stderr
    amended = run("experiments", "amend", "EXP-0001", *GATE_OPTIONS, "--reason", "DPIA done")
    assert amended.exit_code == 0, amended.output
    assert amended.stdout == (
        "EXP-0001: amended human_intervention, risks, proportionality, dpia_reference (event 4)\n"
    )
    assert step(run, "in_production", "--reason", "ready").exit_code == 0

    record = shown(run)
    assert record["risks"] == "bias, checked" and record["state"] == "in_production"
    amendment = record["events"][4]
    assert amendment["from_state"] == amendment["to_state"] == "validated"
    assert (amendment["actor"], amendment["reason"]) == ("carol", "DPIA done")
    assert amendment["at"].endswith("Z")
    assert amendment["changes"]["dpia_reference"] == {"from": "", "to": "DPIA-2024-07"}
    assert ["changes" in e for e in record["events"]] == [False] * 4 + [True, False]
    assert "changes:" in run("experiments", "show", "EXP-0001").stdout
    verify = run("audit", "verify")
    assert verify.exit_code == 0 and "chain intact" in verify.stdout


def test_every_amendment_stays_in_the_history_and_reads_show_the_latest(run, tmp_path):
    register(run)
    register(run, title="other")
    assert run("experiments", "amend", "EXP-0001", "--team", "leefomgeving").exit_code == 0
    assert run("experiments", "amend", "EXP-0001", "--title", "WOZ 2").exit_code == 0
    assert run("experiments", "amend", "EXP-0001", "--title", "WOZ 3").exit_code == 0
    changes = [e.get("changes") for e in shown(run)["events"]]
    assert changes == [
        None,
        {"team": {"from": "belastingen", "to": "leefomgeving"}},
        {"title": {"from": "WOZ-model", "to": "WOZ 2"}},
        {"title": {"from": "WOZ 2", "to": "WOZ 3"}},
    ]
    assert [
        r["id"]
        for r in json.loads(run("experiments", "list", "--team", "leefomgeving", "--json").stdout)
    ] == ["EXP-0001"]
    assert "WOZ 3" in run("experiments", "list").stdout
    report = json.loads(run("report", "--format", "json").stdout)
    assert report["by_team"]["leefomgeving"]["registered"] == 1
    assert report["by_team"]["belastingen"]["registered"] == 1
    two = ("--dataset", "cbs-wijken-2024", "--dataset", "woz-2024")
    datasets = run("experiments", "amend", "EXP-0001", *two, "--no-personal-data", "--json")
    assert datasets.exit_code == 0
    record = json.loads(datasets.stdout)
    assert record["datasets"] == ["cbs-wijken-2024", "woz-2024"]
    assert record["personal_data"] is False


@pytest.mark.parametrize(
    "args, message",
    [
        ((), "EXP-0001: nothing to amend: give at least one of title, team, sandbox"),
        (("--risks", ""), "EXP-0001: nothing to amend: risks is already ''"),
        (("--team", "belastingen"), "nothing to amend: team is already 'belastingen'"),
        (("--title", " "), "EXP-0001: title may not be empty"),
        (("--team", "bad/team"), "team 'bad/team': use letters"),
        (("--publication-category", "Hoog risico"), "publication_category 'Hoog risico'"),
        (("--team", "belastingn"), "unknown team 'belastingn' in sandbox demo; known:"),
        (("--sandbox", "werkinkomn"), "unknown sandbox 'werkinkomn'; known: demo"),
        (("--colour", "red"), "No such option '--colour'"),
        (("--id", "EXP-0002"), "No such option '--id'"),
    ],
)
def test_amendments_that_change_nothing_or_are_wrong_exit_2_and_write_nothing(run, args, message):
    register(run)
    result = run("experiments", "amend", "EXP-0001", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert len(shown(run)["events"]) == 1


def test_amend_force_and_unknown_experiment(run):
    register(run)
    forced = run("experiments", "amend", "EXP-0001", "--sandbox", "werkinkomn", "--force")
    assert forced.exit_code == 0 and shown(run)["sandbox"] == "werkinkomn"
    missing = run("experiments", "amend", "EXP-0404", "--risks", "x")
    assert missing.exit_code == 2 and "unknown experiment 'EXP-0404'" in missing.stderr


def test_a_promoted_experiment_keeps_its_gate_fields(run):
    register(run, *GATE_OPTIONS)
    for state in ("approved", "exploring", "validated", "in_production"):
        assert step(run, state, "--reason", "ok").exit_code == 0
    result = run("experiments", "amend", "EXP-0001", "--risks", "")
    assert result.exit_code == 2
    assert (
        "EXP-0001 is in_production: the amendment would leave the promotion gate's risks empty"
        in (result.stderr)
    )
    assert run("experiments", "amend", "EXP-0001", "--risks", "bias, re-checked").exit_code == 0


def amendment_line(at: str, **fields) -> dict:
    return {
        "type": "amendment",
        "experiment": "EXP-0001",
        "at": at,
        "actor": "carol",
        "reason": "DPIA done",
        "fields": fields,
    }


def transition_line(to: str, at: str, reason: str = "ok") -> dict:
    return {
        "type": "transition",
        "experiment": "EXP-0001",
        "to": to,
        "at": at,
        "actor": "carol",
        "reason": reason,
    }


def test_import_amendment_lines_then_promote(run, tmp_path):
    source = write_lines(
        tmp_path / "history.jsonl",
        experiment_line(),
        transition_line("approved", "2025-01-12T10:00:00Z"),
        transition_line("exploring", "2025-01-13T10:00:00Z"),
        transition_line("validated", "2025-01-14T10:00:00Z"),
        amendment_line(
            "2025-01-15T10:00:00Z",
            human_intervention="a tax officer decides",
            risks="bias, checked",
            proportionality="pseudonymised data only",
            dpia_reference="DPIA-2024-07",
        ),
        transition_line("in_production", "2025-01-16T10:00:00Z"),
    )
    result = run("experiments", "import", str(source))
    assert result.exit_code == 0, result.output
    assert result.stdout == "imported 1 experiment(s) and 4 transition(s), 1 amendment(s)\n"
    record = shown(run)
    assert record["state"] == "in_production" and record["risks"] == "bias, checked"
    assert record["events"][4]["changes"]["risks"] == {"from": "", "to": "bias, checked"}
    assert record["events"][4]["at"] == "2025-01-15T10:00:00Z"
    assert run("audit", "verify").exit_code == 0

    more = write_lines(
        tmp_path / "more.jsonl", amendment_line("2025-02-01T10:00:00Z", team="leefomgeving")
    )
    assert run("experiments", "import", str(more)).exit_code == 0
    assert shown(run)["team"] == "leefomgeving"


@pytest.mark.parametrize(
    "line, message",
    [
        (amendment_line("2025-01-15T10:00:00Z"), ":2: EXP-0001: nothing to amend"),
        (amendment_line("2025-01-15T10:00:00Z", colour="red"), ":2: fields.colour: unknown key"),
        (amendment_line("2025-01-15T10:00:00Z", risks=3), ":2: fields.risks: Input should be"),
        (amendment_line("2025-01-15T10:00:00Z", title=""), ":2: fields.title: String should"),
        (amendment_line("2025-01-15T10:00:00Z", id="EXP-0009"), ":2: fields.id: unknown key"),
        (
            amendment_line("2025-01-09T10:00:00Z", risks="x"),
            ":2: EXP-0001: amendment at 2025-01-09T10:00:00+00:00 is earlier than its "
            "previous event",
        ),
        (
            amendment_line("2025-01-15T10:00:00Z", team="belastingn"),
            ":2: unknown team 'belastingn' in sandbox demo; known:",
        ),
        (
            {**amendment_line("2025-01-15T10:00:00Z", risks="x"), "experiment": "EXP-0404"},
            ":2: unknown experiment 'EXP-0404'",
        ),
        ({"type": "amend", "experiment": "EXP-0001"}, ":2: type: must be experiment, transition"),
    ],
)
def test_bad_amendment_lines_reject_the_whole_file(run, tmp_path, line, message):
    source = write_lines(tmp_path / "bad.jsonl", experiment_line(), line)
    result = run("experiments", "import", str(source))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {source}") and message in result.stderr
    assert listed(run) == []
