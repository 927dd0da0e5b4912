"""`sandbox datasets hash` and `sandbox datasets add`: a drafted data card is
refused until its TODO fields are filled in, and validates once they are."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.governance.draft import PII_NAME

CSV = b"klant_id,naam,postcode,wijk_code,bedrag,datum\n1,Jan,1234AB,WK01,10.5,2024-01-02\n"

FILLED = {
    "title": "Klanten",
    "description": "Synthetic test data.",
    "owner": "Afdeling Test",
    "steward": "steward@example.org",
    "contact_point": "data@example.org",
    "license": "CC-BY-4.0",
    "access_rights": "niet-publiek",
    "rubricering": "ongerubriceerd",
    "beschikbaarheid": "laag",
    "integriteit": "midden",
    "vertrouwelijkheid": "laag",
    "kind": "none",
    "purposes": "[research]",
    "period": "P5Y",
    "action": "destroy",
    "basis": "Selectielijst 1.1",
}


@pytest.fixture
def run(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(tmp_path / "s"))

    def invoke(*args: str):
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    return invoke


def test_hash_prints_sha256_and_size(run, tmp_path: Path):
    data = tmp_path / "klanten.csv"
    data.write_bytes(CSV)
    result = run("datasets", "hash", str(data))
    assert result.exit_code == 0
    assert result.stdout.split() == [hashlib.sha256(CSV).hexdigest(), str(len(CSV)), str(data)]
    [found] = json.loads(run("datasets", "hash", "--json", str(data)).stdout)
    assert found["bytes"] == len(CSV)
    assert run("datasets", "hash", str(tmp_path / "nope.csv")).exit_code == 2


def test_added_card_validates_once_its_todos_are_filled(run, tmp_path: Path):
    assert run("init", str(tmp_path / "org")).exit_code == 0
    config = tmp_path / "org" / "sandbox.yaml"
    data = tmp_path / "klanten.csv"
    data.write_bytes(CSV)
    result = run("datasets", "add", str(data), "--id", "klanten", "-c", str(config))
    assert result.exit_code == 0, result.output
    assert "review pii columns: klant_id, naam, postcode" in result.output
    card = tmp_path / "org" / "datasets" / "klanten.yaml"
    assert (tmp_path / "org" / "datasets" / "klanten" / "klanten.csv").read_bytes() == CSV

    refused = run("-c", str(config), "validate")
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert "klanten.yaml:" in refused.stderr and "title: empty: fill it in" in refused.stderr
    assert "access_rights: empty: choose 'publiek'" in refused.stderr

    drafted = yaml.safe_load(card.read_text())
    assert drafted["files"][0]["sha256"] == hashlib.sha256(CSV).hexdigest()
    fields = {f["name"]: f for f in drafted["files"][0]["schema"]["fields"]}
    assert fields["bedrag"]["type"] == "number" and fields["datum"]["type"] == "date"
    assert fields["naam"].get("pii") is True and "pii" not in fields["wijk_code"]

    text = card.read_text()
    for key, value in FILLED.items():
        text, count = re.subn(
            rf"^(\s*{key}:)\s*(\[\])?\s*# TODO.*$", rf"\1 {value}", text, flags=re.M
        )
        assert count == 1, key
    assert not re.search(r"^\s*\w+:\s*# TODO", text, flags=re.M)
    card.write_text(text)
    result = run("-c", str(config), "validate")
    assert result.exit_code == 0, result.output


def test_add_refuses_an_existing_card_and_a_bad_id(run, tmp_path: Path):
    run("init", str(tmp_path / "org"))
    config = str(tmp_path / "org" / "sandbox.yaml")
    data = tmp_path / "x.csv"
    data.write_bytes(CSV)
    existing = next((tmp_path / "org" / "datasets").glob("*.yaml")).stem
    result = run("-c", config, "datasets", "add", str(data), "--id", existing)
    assert result.exit_code == 2 and "already exists" in result.stderr
    result = run("-c", config, "datasets", "add", str(data), "--id", "Bad Id")
    assert result.exit_code == 2 and "lower-case" in result.stderr


@pytest.mark.parametrize(
    ("name", "personal"),
    [
        ("bsn", True), ("achternaam", True), ("geboortedatum", True), ("email", True),
        ("klant_postcode", True), ("wijk_code", False), ("bedrag", False), ("bouwjaar", False),
        ("categorie", False), ("status", False),
    ],
)  # fmt: skip
def test_which_column_names_look_personal(name: str, personal: bool):
    assert bool(PII_NAME.search(name)) is personal
