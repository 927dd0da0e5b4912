"""Every command through click's CliRunner: happy paths and bad input.

Bad input exits 2 with `file:line: key: message` on stderr, no traceback, and
leaves the state directory untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import cli


@pytest.fixture
def run(tmp_path_factory: pytest.TempPathFactory, monkeypatch):
    # short: the sockets under the state dir must fit in 107 bytes
    state = tmp_path_factory.mktemp("s") / "state"
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(state))
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    invoke.state = state  # type: ignore[attr-defined]
    return invoke


def assert_clean_error(result, code: int = 2) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output + result.stderr
    assert result.stderr.startswith("Error: ")


def test_help_lists_the_commands(run):
    result = run("--help")
    assert result.exit_code == 0
    for command in ("init", "validate", "plan", "up", "status", "down", "datasets"):
        assert command in result.output


def test_init_then_validate(run, tmp_path: Path):
    result = run("init", str(tmp_path / "org"))
    assert result.exit_code == 0 and "sandbox.yaml" in result.output
    result = run("-c", str(tmp_path / "org" / "sandbox.yaml"), "validate")
    assert result.exit_code == 0, result.output
    assert "valid" in result.output
    assert result.stderr == ""  # no warnings: not even one of DCAT-AP-DONL's (a publisher)
    checked = json.loads(
        run("-c", str(tmp_path / "org" / "sandbox.yaml"), "validate", "--json").stdout
    )
    assert (checked["warnings"], checked["dcat_ap_donl"]) == ([], [])


def test_init_refuses_an_existing_config(run, tmp_path: Path):
    run("init", str(tmp_path / "org"))
    assert_clean_error(run("init", str(tmp_path / "org")))


def test_validate_demo_json(run, demo_copy: Path):
    result = run("-c", str(demo_copy), "validate", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["valid"] is True
    assert data["datasets"] == {
        "cbs-wijken-2024": 0,
        "meldingen-openbare-ruimte-2024": 1,
        "woz-2024": 2,
    }


def test_validate_reports_every_problem_with_file_and_line(run, demo_copy: Path):
    text = demo_copy.read_text()
    text = text.replace("    max_tier: 2", "    max_tier: 2\n    colour: blue")
    text = text.replace("cpus: 1.0", "cpus: many")
    demo_copy.write_text(text)
    result = run("-c", str(demo_copy), "validate")
    assert_clean_error(result)
    line = 1 + text.splitlines().index("    colour: blue")
    assert f"sandbox.yaml:{line}: sandboxes[0].colour: unknown key" in result.stderr
    assert "sandboxes[0].resources.cpus" in result.stderr


def test_yaml_syntax_error(run, tmp_path: Path):
    bad = tmp_path / "sandbox.yaml"
    bad.write_text("organisation:\n  name: [unclosed\n")
    result = run("-c", str(bad), "validate")
    assert_clean_error(result)
    assert "YAML syntax error" in result.stderr


def test_missing_config_file(run, tmp_path: Path):
    assert_clean_error(run("-c", str(tmp_path / "nope.yaml"), "validate"))


def test_plan_json_and_text(run, demo_copy: Path):
    result = run("-c", str(demo_copy), "plan", "--json")
    assert result.exit_code == 0
    plan = json.loads(result.stdout)["sandboxes"][0]
    assert plan["sandbox"] == "demo" and plan["tier"] == 2
    actions = {(c["action"], c["kind"]) for c in plan["changes"]}
    assert ("create", "hub") in actions and ("create", "dataset") in actions
    text = run("-c", str(demo_copy), "plan", "demo")
    assert text.exit_code == 0 and "+ create dataset woz-2024" in text.output
    assert not run.state.exists()  # plan changes nothing


def test_plan_unknown_sandbox(run, demo_copy: Path):
    result = run("-c", str(demo_copy), "plan", "nope")
    assert_clean_error(result)
    assert "no sandbox named 'nope'" in result.stderr


@pytest.mark.parametrize(
    "edit, expected",
    [
        (("dataset: woz-2024", "dataset: woz-2025"), "unknown dataset 'woz-2025'"),
        (("purpose: service-improvement", "purpose: marketing"), "rule 4"),
        (("max_tier: 2", "max_tier: 1"), "rule 1"),
        (("network: {egress: false}", "network: {egress: true}"), "rule 6"),
    ],
)
def test_up_refuses_bad_input_and_provisions_nothing(run, demo_copy: Path, edit, expected):
    demo_copy.write_text(demo_copy.read_text().replace(*edit))
    result = run("-c", str(demo_copy), "up")
    assert_clean_error(result)
    assert expected in result.stderr
    assert "sandbox.yaml:" in result.stderr
    assert not run.state.exists()


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda d: (d / "woz-2024" / "woz-2024.csv").write_text("tampered\n"), "checksum mismatch"),
        (lambda d: (d / "woz-2024" / "woz-2024.csv").unlink(), "file not found"),
    ],
)
def test_up_refuses_bad_data_files(run, demo_copy: Path, mutate, expected):
    mutate(demo_copy.parent / "datasets")
    result = run("-c", str(demo_copy), "up")
    assert_clean_error(result)
    assert "woz-2024.yaml:" in result.stderr and expected in result.stderr
    assert not run.state.exists()


@pytest.mark.parametrize(
    "edit, expected",
    [
        (("valid_until: 2027-06-30", "valid_until: 2020-01-01"), "rule 7"),
        (("status: done", "status: required"), "rule 3"),
        (("ground: public-task", "ground: legitimate-interest"), "rule 2"),
    ],
)
def test_up_refuses_data_card_rule_violations(run, demo_copy: Path, edit, expected):
    card = demo_copy.parent / "datasets" / "woz-2024.yaml"
    card.write_text(card.read_text().replace(*edit))
    result = run("-c", str(demo_copy), "up")
    assert_clean_error(result)
    assert expected in result.stderr and "woz-2024" in result.stderr
    assert "demo/belastingen" in result.stderr  # the sandbox and group it is granted to
    assert not run.state.exists()


def test_status_of_an_unprovisioned_sandbox(run, demo_copy: Path):
    result = run("-c", str(demo_copy), "status", "--json")
    assert result.exit_code == 0
    status = json.loads(result.stdout)["sandboxes"][0]
    assert status["name"] == "demo"
    assert status["hub_running"] is False and status["provisioned"] is False
    table = run("-c", str(demo_copy), "status")
    assert table.exit_code == 0 and "down" in table.output


def test_status_shows_a_sandbox_past_its_expiry_date_as_expired(
    run, demo_copy: Path, tmp_path: Path, monkeypatch
):
    clock = tmp_path / "today"
    monkeypatch.setenv("SANDBOX_CLOCK_FILE", str(clock))
    clock.write_text("2027-12-31")  # the demo's expiry date: still open that day
    assert (
        json.loads(run("-c", str(demo_copy), "status", "--json").stdout)["sandboxes"][0]["expired"]
        is False
    )
    clock.write_text("2028-01-01")
    result = run("-c", str(demo_copy), "status", "--json")
    assert json.loads(result.stdout)["sandboxes"][0]["expired"] is True
    assert "2027-12-31 (expired)" in run("-c", str(demo_copy), "status").output


def test_status_names_the_members_from_other_organisations(
    run, demo_copy: Path, tmp_path: Path, monkeypatch
):
    config = demo_copy / "sandbox.yaml" if demo_copy.is_dir() else demo_copy
    text = config.read_text()
    partner = (
        "{name: kees, organisation: GGD Zuid, "
        "agreement: {reference: SOK-2026-03, valid_until: 2027-06-30}}"
    )
    config.write_text(text.replace("members: [dave]", f"members: [dave, {partner}]"))
    clock = tmp_path / "today"
    monkeypatch.setenv("SANDBOX_CLOCK_FILE", str(clock))
    clock.write_text("2027-07-01")
    [status] = json.loads(run("-c", str(config), "status", "--json").stdout)["sandboxes"]
    assert [(p["member"], p["organisation"], p["admitted"]) for p in status["partners"]] == [
        ("kees", "GGD Zuid", False)
    ]
    shown = run("-c", str(config), "status").output
    assert (
        "demo: partner kees (GGD Zuid, group leefomgeving, agreement SOK-2026-03 until "
        "2027-06-30) [no longer admitted]" in shown
    )


def test_down_unknown_sandbox(run, demo_copy: Path):
    assert_clean_error(run("-c", str(demo_copy), "down", "nope"))


def test_down_purge_asks_first(run, demo_copy: Path):
    result = run("-c", str(demo_copy), "down", "--purge", input="n\n")
    assert result.exit_code == 1
    assert "Aborted" in result.output


def test_datasets_list_and_show(run, demo_copy: Path):
    listed = json.loads(run("-c", str(demo_copy), "datasets", "list", "--json").stdout)
    assert {d["id"]: d["tier"] for d in listed}["woz-2024"] == 2
    shown = json.loads(run("-c", str(demo_copy), "datasets", "show", "woz-2024", "--json").stdout)
    assert shown["dpia"]["reference"] == "DPIA-2024-07"
    assert shown["files"][0]["schema"]["fields"][0]["name"] == "object_id"
    assert shown["quality"]["valid"] is True and shown["quality"]["files"][0]["rows"] == 2000
    text = run("-c", str(demo_copy), "datasets", "show", "woz-2024")
    assert "owner: Afdeling Belastingen" in text.output
    assert_clean_error(run("-c", str(demo_copy), "datasets", "show", "nope"))


def test_credentials_need_a_provisioned_sandbox(run, demo_copy: Path):
    result = run("-c", str(demo_copy), "credentials", "demo")
    assert_clean_error(result, code=1)
    assert "not provisioned" in result.stderr


def test_debug_shows_the_traceback(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(tmp_path))
    result = CliRunner().invoke(cli, ["--debug", "-c", str(tmp_path / "x.yaml"), "validate"])
    assert result.exit_code != 0
    assert result.exception is not None


def test_a_state_dir_too_deep_for_unix_sockets_is_bad_input(
    run, demo_copy: Path, tmp_path: Path, monkeypatch
):
    deep = tmp_path / ("x" * 60) / "state"
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(deep))
    result = run("-c", str(demo_copy), "plan")
    assert_clean_error(result)
    assert "longer than 107 bytes" in result.stderr and "SANDBOX_STATE_DIR" in result.stderr
    assert not deep.exists()


def test_datasets_export_dcat_ap_donl_is_json_ld(run, demo_copy: Path, tmp_path: Path):
    import rdflib

    result = run("-c", str(demo_copy), "datasets", "export", "--format", "dcat-ap-donl")
    assert result.exit_code == 0
    graph = rdflib.Graph().parse(data=result.stdout, format="json-ld")
    dcat = rdflib.Namespace("http://www.w3.org/ns/dcat#")
    datasets = set(graph.subjects(rdflib.RDF.type, dcat.Dataset))
    assert len(datasets) == 3
    out = tmp_path / "catalog.jsonld"
    assert run("-c", str(demo_copy), "datasets", "export", "-o", str(out)).exit_code == 0
    written, printed = json.loads(out.read_text()), json.loads(result.stdout)
    for document in (written, printed):
        document.pop("dct:modified")  # the export time
    assert written == printed
    bad = run("-c", str(demo_copy), "datasets", "export", "--format", "csv")
    assert bad.exit_code == 2 and "Invalid value for '--format'" in bad.stderr


def test_datasets_verify_before_up_says_not_staged(run, demo_copy: Path):
    result = run("-c", str(demo_copy), "datasets", "verify")
    assert result.exit_code == 0
    assert "not staged: no copy on this machine" in result.output
    assert_clean_error(run("-c", str(demo_copy), "datasets", "verify", "nope"))


def test_access_log_starts_empty(run, demo_copy: Path):
    result = run("-c", str(demo_copy), "datasets", "access-log", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


@pytest.mark.parametrize("kind, key", [("config", "sandboxes"), ("datacard", "personal_data")])
def test_schema_describes_the_yaml(run, demo_copy: Path, kind: str, key: str):
    import yaml
    from jsonschema import Draft202012Validator

    result = run("schema", "--kind", kind)
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert key in schema["properties"]
    assert schema["properties"][key]["description"]  # from sandbox/config/descriptions.py
    Draft202012Validator.check_schema(schema)
    document = demo_copy if kind == "config" else demo_copy.parent / "datasets" / "woz-2024.yaml"
    data = json.loads(json.dumps(yaml.safe_load(document.read_text()), default=str))
    assert list(Draft202012Validator(schema).iter_errors(data)) == []


def test_swarm_plans_with_the_same_sockets(run, demo_copy: Path):
    demo_copy.write_text(demo_copy.read_text().replace("spawner: docker", "spawner: swarm"))
    result = run("-c", str(demo_copy), "plan", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sandboxes"][0]["sandbox"] == "demo"
