"""Access that ends across a `down`: a plain `down` forgets what `up` applied
but keeps who had which datasets, so a user removed while the sandbox was
down is still revoked (and their home offboarded) at the next `up`."""

from __future__ import annotations

import json
from pathlib import Path

from sandbox.host.layout import Layout
from sandbox.provisioning import actions
from sandbox.provisioning import plan as planning


def desired(users: dict[str, list[str]]) -> dict:
    return {
        "sandbox": "demo",
        "url": "http://127.0.0.1:8000/",
        "image": None,
        "network": None,
        "users": sorted(users),
        "grants": users,
        "datasets": {"woz-2024": "2024.1-abc"},
        "hub_settings": {},
    }


def revokes(changes: list[planning.Change]) -> list[tuple[str, str, str]]:
    return [(c.kind, c.name, c.detail) for c in changes if c.action == "revoke"]


def test_a_user_removed_while_the_sandbox_was_down_is_revoked_at_the_next_up(tmp_path: Path):
    layout = Layout(tmp_path)
    layout.applied("demo").parent.mkdir(parents=True)
    before = desired({"alice": ["woz-2024"], "bob": ["woz-2024"]})
    layout.applied("demo").write_text(json.dumps(before))
    actions.keep_access(layout, "demo", purge=False)  # what `down` does
    assert not layout.applied("demo").exists()  # the next plan creates the hub again
    had = planning.had_access(layout, "demo")
    assert had is not None and had["users"] == ["alice", "bob"]
    changes = planning.diff(desired({"alice": ["woz-2024"]}), None, False, had)
    assert ("create", "hub") in [(c.action, c.kind) for c in changes]
    assert revokes(changes) == [("user", "bob", "woz-2024, login (server will be stopped)")]


def test_a_second_down_keeps_what_the_first_kept_and_purge_forgets_it(tmp_path: Path):
    layout = Layout(tmp_path)
    layout.applied("demo").parent.mkdir(parents=True)
    layout.applied("demo").write_text(json.dumps(desired({"bob": []})))
    actions.keep_access(layout, "demo", purge=False)
    actions.keep_access(layout, "demo", purge=False)  # down again: nothing applied now
    assert planning.had_access(layout, "demo") == {
        "sandbox": "demo",
        "users": ["bob"],
        "grants": {"bob": []},
        "datasets": {"woz-2024": "2024.1-abc"},
    }
    actions.keep_access(layout, "demo", purge=True)
    assert planning.had_access(layout, "demo") is None
