"""What the publishing commands tell the user: `validate`'s DCAT-AP-DONL warnings,
`datasets verify` on the source files, `export algoritmeregister`'s notes; the catalog
file `datasets export` writes passes the DCAT-AP shapes (the register file is checked in
tests/cli/test_experiments.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import RDF, Graph, URIRef

from sandbox.cli import cli
from tests.dcat_shapes import dcat_ap_shapes, shacl_messages


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


def test_the_demo_catalog_file_passes_the_dcat_ap_shapes(run, demo_copy: Path, tmp_path: Path):
    """`datasets export -o FILE` of the demo organisation: DCAT-AP 3.0.1 core shapes, no result."""
    out = tmp_path / "catalog.jsonld"
    result = run(
        "-c", str(demo_copy), "datasets", "export", "--format", "dcat-ap-donl", "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    graph = Graph().parse(out, format="json-ld")
    datasets = set(graph.subjects(RDF.type, URIRef("http://www.w3.org/ns/dcat#Dataset")))
    assert len(datasets) == len(list((demo_copy.parent / "datasets").glob("*.yaml"))) == 3
    assert shacl_messages(graph, dcat_ap_shapes()) == []


def test_datasets_export_without_catalog_url_is_a_config_error(run, demo_copy: Path):
    text = demo_copy.read_text()
    demo_copy.write_text(text.replace("  catalog_url: https://data.voorbeeld.nl/datasets\n", ""))
    result = run("-c", str(demo_copy), "datasets", "export")
    assert result.exit_code == 2
    assert "organisation.catalog_url" in result.stderr and "Traceback" not in result.output


def test_experiments_take_a_goal_and_a_publication_category(run, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(tmp_path / "state"))
    base = ["experiments", "register", "--title", "WOZ-model", "--team", "belastingen"]
    base += ["--sandbox", "demo", "--purpose", "policy-research", "--json"]
    bad = run(*base, "--publication-category", "Categorie B")
    assert bad.exit_code == 2 and "--publication-category" in bad.stderr
    good = run(
        *base, "--goal", "Eerlijker WOZ-waarden.", "--publication-category", "Overige algoritmes"
    )
    assert good.exit_code == 0, good.output
    stored = json.loads(good.stdout)
    assert stored["goal"] == "Eerlijker WOZ-waarden."
    assert stored["publication_category"] == "Overige algoritmes"


def test_an_import_line_with_an_unknown_publication_category_is_refused(run, tmp_path: Path):
    line = {
        "type": "experiment",
        "id": "EXP-0100",
        "title": "t",
        "team": "belastingen",
        "sandbox": "demo",
        "owner": "alice",
        "purpose": "policy-research",
        "registered_at": "2025-01-10T12:00:00+00:00",
        "goal": "Een doel.",
    }
    source = tmp_path / "experiments.jsonl"
    source.write_text(json.dumps({**line, "publication_category": "Categorie B"}) + "\n")
    bad = run("experiments", "import", str(source))
    assert bad.exit_code == 2 and "publication_category" in bad.stderr
    source.write_text(json.dumps({**line, "publication_category": "Overige algoritmes"}) + "\n")
    assert run("experiments", "import", str(source)).exit_code == 0
    shown = json.loads(run("experiments", "show", "EXP-0100", "--json").stdout)
    assert (shown["goal"], shown["publication_category"]) == ("Een doel.", "Overige algoritmes")
