"""The audit hash chain on SQLite and PostgreSQL: every recorded action is an
entry; any edit, deletion or reordering is found and the first bad entry named."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from sandbox.cli import cli
from sandbox.registry import access_log, audit, store
from sandbox.registry.db import open_registry_url
from sandbox.registry.lifecycle import Experiment

T0 = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)


def populated(url: str) -> Engine:
    engine = open_registry_url(url)
    record = Experiment("", "t", "a", "demo", "alice", "p", T0, "alice")
    exp = store.register(engine, record)
    store.transition(engine, exp.id, "approved", "carol", "ok")
    store.transition(engine, exp.id, "exploring", "alice")
    access_log.record(
        engine,
        [access_log.AccessEntry("t1", T0, "alice", "demo", "woz", "1", "ab", "p", "l", "granted")],
    )
    audit.record(engine, "alice", "export", "algoritmeregister", {"records": []})
    return engine


def unprotect(engine: Engine) -> None:
    """What an attacker with database access would do first."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
            connection.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))


def test_actions_are_chained_and_verify(registry_url: str):
    engine = populated(registry_url)
    kinds = [e["kind"] for e in audit.entries(engine)]
    assert kinds == ["register", "transition", "transition", "grant", "export"]
    check = audit.verify(engine)
    assert check.ok and check.entries == 5


@pytest.mark.parametrize(
    "tamper, bad, reason",
    [
        ('UPDATE audit_log SET details = \'{"to": "in_production"}\' WHERE seq = 3', 3, "changed"),
        ("DELETE FROM audit_log WHERE seq = 2", 3, "missing"),
        (
            "UPDATE audit_log SET seq = CASE seq WHEN 2 THEN 102 WHEN 3 THEN 2 END "
            "WHERE seq IN (2, 3); UPDATE audit_log SET seq = 3 WHERE seq = 102",
            2,
            "does not follow",
        ),
        ("DELETE FROM audit_log WHERE seq = 1", 2, "missing"),
    ],
)
def test_tampering_is_found(registry_url: str, tamper: str, bad: int, reason: str):
    engine = populated(registry_url)
    unprotect(engine)
    with engine.begin() as connection:
        for statement in tamper.split("; "):
            connection.execute(text(statement))
    check = audit.verify(engine)
    assert not check.ok
    assert check.first_bad == bad and reason in check.reason


def test_audit_verify_cli(tmp_path: Path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    engine = populated(url)
    monkeypatch.setenv("SANDBOX_REGISTRY_URL", url)
    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify"])
    assert ok.exit_code == 0 and "5 entries, chain intact" in ok.output
    unprotect(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 4"))
    broken = runner.invoke(cli, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "audit chain broken at entry 4: its content was changed" in broken.stderr
