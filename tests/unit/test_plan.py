from __future__ import annotations

from sandbox.provisioning.plan import diff

DESIRED = {
    "sandbox": "demo",
    "url": "http://127.0.0.1:8000/",
    "hub_settings": "h1",
    "image": "sandbox-notebook:1",
    "network": {"name": "sandbox-demo", "design": "bridge; no icc", "create": [], "remove": []},
    "datasets": {"a": "1-x", "b": "1-y"},
    "users": ["alice", "bob"],
}


def kinds(changes):
    return [(c.action, c.kind, c.name) for c in changes]


def test_nothing_applied_creates_everything():
    changes = kinds(diff(DESIRED, None, hub_running=False))
    assert ("create", "hub", "demo") in changes
    assert ("create", "image", "sandbox-notebook:1") in changes
    assert ("create", "network", "sandbox-demo") in changes
    assert ("create", "dataset", "a") in changes and ("create", "user", "bob") in changes


def test_same_state_and_running_hub_is_no_change():
    assert diff(DESIRED, dict(DESIRED), hub_running=True) == []


def test_stopped_hub_is_started():
    assert kinds(diff(DESIRED, dict(DESIRED), hub_running=False)) == [("start", "hub", "demo")]


def test_changed_parts_are_named():
    applied = {
        **DESIRED,
        "hub_settings": "h0",
        "image": "sandbox-notebook:0",
        "datasets": {"a": "0-x", "c": "1-z"},
        "users": ["alice", "carol"],
    }
    changes = kinds(diff(DESIRED, applied, hub_running=True))
    assert changes == [
        ("change", "hub-config", "demo"),
        ("change", "image", "sandbox-notebook:1"),
        ("change", "dataset", "a"),
        ("create", "dataset", "b"),
        ("remove", "dataset", "c"),
        ("create", "user", "bob"),
        ("revoke", "user", "carol"),
    ]


GRANTED = {**DESIRED, "grants": {"alice": ["a", "b"], "bob": ["a", "b"]}}


def test_a_user_removed_from_every_group_is_revoked_with_their_datasets():
    applied = {**GRANTED, "users": ["alice", "bob", "carol"], "grants": {**GRANTED["grants"],
               "carol": ["a"]}}  # fmt: skip
    changes = diff(GRANTED, applied, hub_running=True)
    assert [c.as_dict() for c in changes] == [
        {"action": "revoke", "kind": "user", "name": "carol",
         "detail": "a, login (server will be stopped)"},
    ]  # fmt: skip


def test_a_lost_grant_is_revoked_and_the_login_kept():
    desired = {**GRANTED, "grants": {"alice": ["b"], "bob": ["a", "b"]}}
    changes = diff(desired, GRANTED, hub_running=True)
    assert [(c.action, c.kind, c.name, c.detail) for c in changes] == [
        ("revoke", "grant", "alice", "a (server will be stopped)")
    ]


def test_an_applied_file_without_grants_revokes_removed_users_only():
    applied = {**DESIRED, "users": ["alice", "bob", "carol"]}
    changes = diff(GRANTED, applied, hub_running=True)
    assert kinds(changes) == [("revoke", "user", "carol")]
    assert changes[0].detail == "login (server will be stopped)"
