"""`sandbox status` for a swarm sandbox: a node holds the datasets only when
its label has the value the hub places servers by."""

from __future__ import annotations

from typing import Any

from sandbox.provisioning.status import node_row

LABEL = ("org.data-sandbox.staged.demo", "abc123")


def inspected(labels: dict[str, str] | None) -> dict[str, Any]:
    return {
        "Description": {"Hostname": "node2"},
        "Status": {"State": "ready"},
        "Spec": {"Availability": "active", "Role": "worker", "Labels": labels},
    }


def test_a_node_holds_the_datasets_only_with_the_current_value():
    assert node_row(inspected({LABEL[0]: "abc123"}), LABEL) == {
        "hostname": "node2",
        "state": "ready",
        "availability": "active",
        "role": "worker",
        "datasets_staged": True,
    }
    # its last staging failed: it keeps the label of older versions
    assert node_row(inspected({LABEL[0]: "old999"}), LABEL)["datasets_staged"] is False
    assert node_row(inspected(None), LABEL)["datasets_staged"] is False
