"""Rule 11: a data file that fails its Table Schema is a warning at validate
and plan, and an error when its card says `quality: strict`."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import cli

CSV = b"id,leeftijd,datum\n1,34,2024-01-02\n1,150,2024-13-45\n"
SANDBOX_YAML = """\
organisation: {name: Gemeente Test, kind: government}
sandboxes:
  - name: lab
    max_tier: 1
    expires: 2099-12-31
    network: {egress: false}
    groups:
      - name: team
        members: [alice]
        grants: [{dataset: clients, purpose: research}]
"""
CARD_YAML = f"""\
id: clients
title: Clients
description: Synthetic.
version: "1"
owner: Afdeling Test
steward: steward@example.org
contact_point: data@example.org
license: CC-BY-4.0
access_rights: niet-publiek
classification:
  rubricering: ongerubriceerd
  biv: {{beschikbaarheid: laag, integriteit: midden, vertrouwelijkheid: laag}}
personal_data: {{kind: none}}
purposes: [research]
retention: {{period: P5Y, action: destroy, basis: "Selectielijst 1.1"}}
files:
  - path: clients.csv
    sha256: "{hashlib.sha256(CSV).hexdigest()}"
    schema:
      fields:
        - {{name: id, type: integer, constraints: {{unique: true}}}}
        - {{name: leeftijd, type: integer, constraints: {{minimum: 0, maximum: 120}}}}
        - {{name: datum, type: date}}
"""


@pytest.fixture
def config(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> Path:
    # short: the sockets under the state dir must fit in 107 bytes
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(tmp_path_factory.mktemp("s")))
    (tmp_path / "datasets" / "clients").mkdir(parents=True)
    (tmp_path / "datasets" / "clients" / "clients.csv").write_bytes(CSV)
    (tmp_path / "datasets" / "clients.yaml").write_text(CARD_YAML)
    (tmp_path / "sandbox.yaml").write_text(SANDBOX_YAML)
    return tmp_path / "sandbox.yaml"


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_quality_failures_are_warnings(config: Path, command: str):
    result = CliRunner().invoke(cli, ["-c", str(config), command])
    assert result.exit_code == 0, result.output
    output = result.stderr + result.stdout
    assert "clients.csv fails its schema (3 problem(s))" in output
    assert command == "plan" or "rule 11 (dataset clients)" in output
    for found in ("unique-error", 'constraint "maximum"', "type-error"):
        assert found in output, output
    assert "quality: strict" in output


@pytest.mark.parametrize("command", ["validate", "plan", "up"])
def test_quality_strict_refuses_them(config: Path, command: str):
    card = config.parent / "datasets" / "clients.yaml"
    card.write_text(card.read_text() + "quality: strict\n")
    result = CliRunner().invoke(cli, ["-c", str(config), command])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "clients.yaml:" in result.stderr
    assert "files[0].schema: rule 11 [clients]" in result.stderr


def test_a_clean_file_gives_no_warning(config: Path):
    data = config.parent / "datasets" / "clients" / "clients.csv"
    clean = b"id,leeftijd,datum\n1,34,2024-01-02\n2,50,2024-12-31\n"
    data.write_bytes(clean)
    card = config.parent / "datasets" / "clients.yaml"
    text = card.read_text().replace(
        hashlib.sha256(CSV).hexdigest(), hashlib.sha256(clean).hexdigest()
    )
    card.write_text(text + "quality: strict\n")
    result = CliRunner().invoke(cli, ["-c", str(config), "validate"])
    assert result.exit_code == 0 and "rule 11" not in result.stderr
