"""Revocations in the record: `up` writes a `revoked` access-log row per
dataset under one audit entry (kind ``revoke``) per user; the chain verifies
and the Logboek names the operation."""

from __future__ import annotations

from datetime import UTC, datetime

from sandbox.registry import access_log, audit, logboek
from sandbox.registry.db import open_registry_url


def revoked(dataset: str) -> access_log.AccessEntry:
    return access_log.AccessEntry(
        trace_id="t1",
        at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        user="alice",
        sandbox="demo",
        dataset=dataset,
        version="2024.1",
        sha256="ab" * 32,
        purpose="",
        legal_basis="AVG 6.1.e",
        decision="revoked",
        reason="removed from every group of the sandbox",
    )


def test_a_revocation_is_an_access_log_row_per_dataset_and_one_audit_entry(registry_url):
    engine = open_registry_url(registry_url)
    details = {"datasets": ["woz-2024", "cbs-wijken-2024"], "login": True}
    access_log.record_revocation(
        engine, "it-admin", "demo", "alice", [revoked("woz-2024"), revoked("cbs-wijken-2024")],
        details,
    )  # fmt: skip
    access_log.record_revocation(engine, "it-admin", "demo", "admin2", [], {"login": True})
    rows = access_log.entries(engine, "demo")
    assert [(r.user, r.dataset, r.decision) for r in rows] == [
        ("alice", "woz-2024", "revoked"),
        ("alice", "cbs-wijken-2024", "revoked"),
    ]
    entries = audit.entries(engine, "revoke")
    assert [(e["actor"], e["subject"]) for e in entries] == [
        ("it-admin", "demo/alice"),
        ("it-admin", "demo/admin2"),
    ]
    assert audit.verify(engine).ok
    assert logboek.record(rows[0])["name"] == "revoke dataset woz-2024 2024.1"
