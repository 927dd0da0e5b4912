"""What the publishing commands tell the user: `validate`'s DCAT-AP-DONL warnings,
`datasets verify` on the source files, `export algoritmeregister`'s notes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import cli


@pytest.fixture
def run(tmp_path_factory: pytest.TempPathFactory, monkeypatch):
    state = tmp_path_factory.mktemp("s") / "state"
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(state))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


def test_validate_warns_but_passes_for_a_card_donl_cannot_take(run, demo_copy: Path):
    clean = run("-c", str(demo_copy), "validate", "--json")
    assert clean.exit_code == 0 and json.loads(clean.stdout)["dcat_ap_donl"] == []
    card = demo_copy.parent / "datasets" / "woz-2024.yaml"
    text = card.read_text().replace("themes: [wonen]", "themes: [belastingen]")
    card.write_text(text.replace("license: proprietary", "license: MIT"))
    result = run("-c", str(demo_copy), "validate")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "DCAT-AP-DONL" in line]
    assert len(warnings) == 3, result.stderr  # the theme, no theme left, the licence
    assert all("woz-2024.yaml:" in line for line in warnings)
    assert any("'MIT' is not on DONL's licence list" in line for line in warnings)


def test_datasets_export_without_catalog_url_is_a_config_error(run, demo_copy: Path):
    text = demo_copy.read_text()
    demo_copy.write_text(text.replace("  catalog_url: https://data.voorbeeld.nl/datasets\n", ""))
    result = run("-c", str(demo_copy), "datasets", "export")
    assert result.exit_code == 2
    assert "organisation.catalog_url" in result.stderr and "Traceback" not in result.output
