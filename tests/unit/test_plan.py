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
        ("remove", "user", "carol"),
    ]
