from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sandbox.config.loader import load_config
from sandbox.config.scaffold import scaffold
from sandbox.devtools import demo_data
from sandbox.errors import InvalidInput
from sandbox.provisioning.actions import validate

PROJECT = Path(__file__).resolve().parents[2]


def test_demo_data_is_deterministic_and_matches_the_data_cards(tmp_path: Path):
    written = demo_data.write(tmp_path)
    assert written == demo_data.write(tmp_path / "again")
    loaded = load_config(PROJECT / "config" / "sandbox.yaml")
    for relative, digest in written.items():
        dataset, name = relative.split("/")
        card = loaded.cards[dataset].card
        assert {f.path: f.sha256 for f in card.files}[name] == digest
        committed = PROJECT / "config" / "datasets" / relative
        assert hashlib.sha256(committed.read_bytes()).hexdigest() == digest


def test_demo_has_tiers_0_1_2_two_analyst_groups_and_a_manager():
    from sandbox.governance.policy import dataset_tier

    loaded = validate(PROJECT / "config" / "sandbox.yaml").loaded
    assert sorted(dataset_tier(c.card) for c in loaded.cards.values()) == [0, 1, 2]
    roles = [g.role for g in loaded.config.sandbox("demo").groups]
    assert roles.count("analyst") == 2 and "manager" in roles


def test_scaffold_validates_and_refuses_to_overwrite(tmp_path: Path):
    written = scaffold(tmp_path / "new")
    assert (tmp_path / "new" / "sandbox.yaml") in written
    validate(tmp_path / "new" / "sandbox.yaml")
    before = (tmp_path / "new" / "sandbox.yaml").read_text()
    with pytest.raises(InvalidInput, match="already exists"):
        scaffold(tmp_path / "new")
    assert (tmp_path / "new" / "sandbox.yaml").read_text() == before
