"""`sandbox doctor`, `sandbox logs` and `sandbox config show`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.host.layout import Layout

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    shutil.copytree(PROJECT / "config", tmp_path / "config")
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, list(args))

    return invoke


def test_doctor_checks_the_machine_and_the_config(run):
    answer = run("doctor", "--json")
    checks = {c["name"]: c for c in json.loads(answer.output)["checks"]}
    assert {"docker", "proxy", "disk", "clock", "config", "port demo"} <= set(checks)
    assert checks["config"]["status"] == "ok"
    assert answer.exit_code == (0 if all(c["status"] != "fail" for c in checks.values()) else 1)


def test_doctor_fails_on_a_broken_config(run, tmp_path: Path):
    config = tmp_path / "config" / "sandbox.yaml"
    config.write_text(config.read_text().replace("max_tier: 2", "max_tier: 2\n    max_tier: 3"))
    answer = run("doctor", "--json")
    assert answer.exit_code == 1
    checks = {c["name"]: c for c in json.loads(answer.output)["checks"]}
    assert checks["config"]["status"] == "fail"
    assert "duplicate key" in checks["config"]["detail"]


def test_logs_print_the_last_lines_of_the_hub_log(run, tmp_path: Path):
    log = Layout(tmp_path / "state").logfile("demo")
    log.parent.mkdir(parents=True)
    log.write_text("".join(f"line {i}\n" for i in range(300)))
    shown = run("logs", "demo", "-n", "3")
    assert shown.exit_code == 0 and shown.output == "line 297\nline 298\nline 299\n"
    data = json.loads(run("logs", "demo", "--json").output)
    assert len(data["lines"]) == 100 and data["lines"][-1] == "line 299"


def test_logs_of_an_unknown_sandbox_are_a_clear_error(run):
    answer = run("logs", "nope")
    assert answer.exit_code == 2
    assert "no log for sandbox nope" in answer.output and "Traceback" not in answer.output


def test_config_show_fills_in_the_defaults(run):
    shown = json.loads(run("config", "show", "demo", "--json").output)
    assert shown["resources"]["pids"] == 512  # not in the YAML: the default
    assert shown["airlock"]["threshold"] == 10
    everything = json.loads(run("config", "show", "--json").output)
    assert [s["name"] for s in everything["sandboxes"]] == ["demo"]
    missing = run("config", "show", "other")
    assert missing.exit_code == 2 and "there are: demo" in missing.output
