"""Offboarding of homes: the grace period, who is forgotten when added back,
archive vs destroy, the `offboarding` keys and the period arithmetic."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sandbox.config.model import Offboarding, Sandbox, add_period
from sandbox.host import offboarding as volumes
from sandbox.host.layout import Layout
from sandbox.provisioning import offboarding


def sandbox(homes: str = "archive", grace: str = "P30D") -> Sandbox:
    return Sandbox.model_validate(
        {
            "name": "demo",
            "offboarding": {"homes": homes, "grace": grace},
            "groups": [{"name": "belastingen", "members": ["bob"]}],
        }
    )


@pytest.fixture
def engine(monkeypatch):
    """Docker's home volumes, faked: what exists, and what was done to it."""
    state = {"volumes": ["sandbox-demo-home-alice", "sandbox-demo-home-bob"], "done": []}
    monkeypatch.setattr(volumes, "volumes", lambda prefix: list(state["volumes"]))

    def archive(volume, image, target):
        state["done"].append(("archive", volume, image, target.name))
        return volumes.Offboarded(volume, "archived", "ab" * 32, 10, str(target))

    def destroy(volume, image):
        state["done"].append(("destroy", volume, image))
        return volumes.Offboarded(volume, "destroyed", "cd" * 32, 10)

    monkeypatch.setattr(volumes, "archive", archive)
    monkeypatch.setattr(volumes, "destroy", destroy)
    return state


def test_a_removed_users_home_waits_out_the_grace_period(tmp_path: Path, engine):
    layout, model = Layout(tmp_path), sandbox()
    assert offboarding.after_up(model, ["alice"], "img", layout, date(2026, 3, 1)) == []
    assert offboarding.read_pending(layout, "demo") == {"alice": "2026-03-01"}
    assert offboarding.after_up(model, [], "img", layout, date(2026, 3, 30)) == []
    actions = offboarding.after_up(model, [], "img", layout, date(2026, 3, 31))
    assert [(a.user, a.done.what) for a in actions] == [("alice", "archived")]
    assert engine["done"][0][:3] == ("archive", "sandbox-demo-home-alice", "img")
    assert offboarding.read_pending(layout, "demo") == {}
    assert not layout.offboarding_pending("demo").exists()


def test_a_user_added_back_within_the_grace_period_keeps_their_home(tmp_path: Path, engine):
    layout = Layout(tmp_path)
    offboarding.after_up(sandbox(), ["bob"], "img", layout, date(2026, 3, 1))
    # bob is a member of belastingen in the model: he is back
    assert offboarding.after_up(sandbox(), [], "img", layout, date(2026, 6, 1)) == []
    assert engine["done"] == [] and offboarding.read_pending(layout, "demo") == {}


def test_destroy_removes_the_volume_and_keeps_the_digest(tmp_path: Path, engine):
    actions = offboarding.offboard(
        sandbox("destroy"), ["alice", "nobody"], "img", Layout(tmp_path), "down --purge"
    )
    assert [(a.user, a.done.what, a.done.sha256) for a in actions] == [
        ("alice", "destroyed", "cd" * 32)
    ]


def test_periods_add_months_and_years_within_the_month():
    assert add_period(date(2024, 1, 31), "P1M") == date(2024, 2, 29)
    assert add_period(date(2024, 2, 29), "P1Y") == date(2025, 2, 28)
    assert add_period(date(2026, 3, 1), "P30D") == date(2026, 3, 31)
    assert add_period(date(2026, 3, 1), "P2W") == date(2026, 3, 15)


def test_defaults_keep_what_purge_did_and_a_month_of_grace():
    assert Offboarding() == Offboarding(homes="destroy", grace="P30D")
