"""At 80 columns no table cuts an identifier, a URL or a state: the other
columns wrap, or each row becomes a record. And `status` finds what the state
directory holds without a config; `-c` works after the command too."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.registry import store
from sandbox.registry.db import open_registry_url
from sandbox.registry.lifecycle import CLI, new_experiment
from sandbox.reporting.tables import Grid, render

PROJECT = Path(__file__).resolve().parents[2]
LONG_SANDBOX = "werkinkomen-analyse-2025"
LONG_TEAM = "werkinkomen-en-participatie"
LONG_OWNER = "j.jansen-de-vries@voorbeeld.nl"


@pytest.fixture
def run(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(tmp_path / "s"))
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("SANDBOX_ACTOR", "carol")

    def invoke(*args: str):
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    invoke.state = tmp_path / "s"  # type: ignore[attr-defined]
    return invoke


def assert_fits_and_whole(output: str, *values: str) -> None:
    assert max(len(line) for line in output.splitlines()) <= 80, output
    for value in values:
        assert value in output, f"{value!r} cut in:\n{output}"
    assert "…" not in output


@pytest.fixture
def long_names(tmp_path: Path) -> Path:
    """The demo config with a long sandbox name on a wider port."""
    shutil.copytree(PROJECT / "config", tmp_path / "config")
    path = tmp_path / "config" / "sandbox.yaml"
    path.write_text(path.read_text().replace("- name: demo", f"- name: {LONG_SANDBOX}"))
    return path


def test_status_at_80_columns(run, long_names: Path):
    result = run("status", "-c", str(long_names))
    assert result.exit_code == 0, result.output
    assert_fits_and_whole(
        result.output, LONG_SANDBOX, "http://127.0.0.1:8000/", "down", "2027-12-31",
        "meldingen-openbare-ruimte-2024",
    )  # fmt: skip


def test_datasets_list_at_80_columns(run, long_names: Path):
    result = run("datasets", "list", "-c", str(long_names))
    assert result.exit_code == 0, result.output
    assert_fits_and_whole(
        result.output, "meldingen-openbare-ruimte-2024", "niet-publiek", "regular"
    )  # fmt: skip


def _registry(run) -> None:
    engine = open_registry_url(f"sqlite:///{run.state / 'registry.sqlite'}")
    run.state.mkdir(parents=True, exist_ok=True)
    values = {
        "title": "Voorspellen van de instroom in de bijstand per wijk en kwartaal",
        "team": LONG_TEAM,
        "sandbox": LONG_SANDBOX,
        "owner": LONG_OWNER,
        "purpose": "policy-research",
        "id": "",
    }
    now = datetime.now(UTC)
    for _ in range(2):
        stored = store.register(
            engine, new_experiment(values, CLI, registered_at=now, registered_by="carol")
        )
    for state in ("approved", "exploring", "validated"):
        store.transition(engine, stored.id, state, "carol", "ok")


def test_experiments_list_at_80_columns(run):
    _registry(run)
    result = run("experiments", "list")
    assert result.exit_code == 0, result.output
    assert_fits_and_whole(
        result.output, "EXP-0001", "EXP-0002", LONG_TEAM, LONG_SANDBOX, LONG_OWNER, "validated"
    )


def test_report_at_80_columns(run):
    _registry(run)
    result = run("report")
    assert result.exit_code == 0, result.output
    assert_fits_and_whole(result.output, LONG_TEAM, LONG_SANDBOX, "validated", "exploring")


def test_a_grid_that_fits_is_drawn_with_wrapped_titles():
    grid = Grid(("id", "title", "state"), frozenset({"id", "state"}))
    grid.add_row("EXP-0001", "a title long enough to need wrapping " * 3, "in_production")
    drawn = render(grid, 80)
    assert "┃ id" in drawn and "in_production" in drawn and "EXP-0001" in drawn
    assert max(len(line) for line in drawn.splitlines()) <= 80


def test_a_grid_too_wide_becomes_records():
    grid = Grid(("url", "state"), frozenset({"url", "state"}))
    grid.add_row("http://" + "x" * 90 + "/", "in_production")
    text = render(grid, 80)
    assert text.splitlines()[:2] == ["http://" + "x" * 90 + "/", "  state  in_production"]


# ------------------------------------------------------- status without a config


def test_status_without_a_config_lists_the_state_directory(run, tmp_path: Path, monkeypatch):
    applied = run.state / "sandboxes" / "demo" / "applied.json"
    applied.parent.mkdir(parents=True)
    applied.write_text(
        json.dumps(
            {
                "sandbox": "demo",
                "url": "http://127.0.0.1:8000/",
                "tier": 2,
                "expires": "2027-12-31",
                "datasets": {"woz-2024": "2024.1-abc"},
            }
        )
    )
    monkeypatch.chdir(tmp_path)  # no config/sandbox.yaml here
    result = run("status")
    assert result.exit_code == 0, result.output
    assert "showing what" in result.stderr and str(run.state) in result.stderr
    assert "demo" in result.stdout and "woz-2024" in result.stdout
    data = json.loads(run("status", "--json").stdout)
    assert [(s["name"], s["provisioned"], s["tier"]) for s in data["sandboxes"]] == [
        ("demo", True, 2)
    ]


def test_status_without_config_or_state_says_what_to_give(run, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("status")
    assert result.exit_code == 2
    assert "file not found" in result.stderr and "-c" in result.stderr


def test_the_project_state_dir_is_the_default_there(tmp_path: Path, monkeypatch):
    """`make demo` keeps its state in ./.state: the CLI run there by hand finds it."""
    monkeypatch.delenv("SANDBOX_STATE_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".state" / "sandboxes" / "demo").mkdir(parents=True)
    result = CliRunner().invoke(cli, ["status", "--json"])
    assert json.loads(result.stdout)["state_dir"] == str((tmp_path / ".state").resolve())


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "-c", "{config}"),
        ("validate", "--config", "{config}"),
        ("validate", "--config={config}"),
        ("datasets", "list", "--json", "-c", "{config}"),
        ("-c", "{config}", "validate"),
    ],
)
def test_config_option_after_the_command(run, long_names: Path, tmp_path: Path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    result = run(*(a.format(config=long_names) for a in args))
    assert result.exit_code == 0, result.output
