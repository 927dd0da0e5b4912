"""Records nobody can quietly change, on SQLite and PostgreSQL: every row of
the record (experiments, events, the access log; imported rows included) is
bound to the audit chain, and `audit verify` finds each kind of tampering an
auditor would try after dropping the append-only triggers; heads witnessed
outside the database find a rewritten or cut-back chain."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, inspect, select, text

from sandbox.cli import cli
from sandbox.registry import access_log, audit, coverage, store
from sandbox.registry.db import open_registry_url
from sandbox.registry.importer import import_file
from sandbox.registry.lifecycle import Experiment
from sandbox.registry.tables import audit_log

T0 = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
RECORD_TABLES = ("experiments", "events", "access_log", "audit_log")


def unprotect(engine: Engine) -> None:
    """What an attacker holding the database does first."""
    with engine.begin() as connection:
        for table in RECORD_TABLES:
            if engine.dialect.name == "sqlite":
                connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_update"))
                connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))
            else:
                connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"))


def tamper(engine: Engine, *statements: str) -> audit.ChainCheck:
    unprotect(engine)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    return audit.verify(engine)


def import_lines(path: Path, experiments: int, steps: int, prefix: str = "IMP") -> Path:
    lines = []
    for number in range(1, experiments + 1):
        lines.append(
            {
                "type": "experiment",
                "id": f"{prefix}-{number:05d}",
                "title": f"imported {number}",
                "team": "belastingen",
                "sandbox": "demo",
                "owner": "alice",
                "purpose": "policy-research",
                "registered_at": "2025-01-10T09:00:00Z",
            }
        )
        states = ["approved", "exploring", "validated", "exploring"][:steps]
        for index, state in enumerate(states):
            at = (T0 + timedelta(hours=index + 1)).isoformat()
            lines.append(
                {
                    "type": "transition",
                    "experiment": f"{prefix}-{number:05d}",
                    "to": state,
                    "at": at,
                    "actor": "carol",
                    "reason": f"step {index}",
                }
            )
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return path


@pytest.fixture
def record(registry_url: str, tmp_path: Path) -> Engine:
    """A registry as an auditor finds it: an import, a registration moved
    through the CLI's store, and a server start's grants.

    entry 1: import of 3 experiments + 6 events; entry 2: register EXP-0001;
    entries 3-4: its transitions; entry 5: grants (access log rows 1-2)."""
    engine = open_registry_url(registry_url)
    import_file(import_lines(tmp_path / "log.jsonl", 3, 2), engine)
    exp = store.register(
        engine,
        Experiment(
            "", "WOZ-model", "belastingen", "demo", "alice", "policy-research", T0, "alice",
            personal_data=True, risks="drift", human_intervention="review",
        ),
    )  # fmt: skip
    store.transition(engine, exp.id, "approved", "carol", "agreed")
    store.transition(engine, exp.id, "exploring", "alice", "first look")
    access_log.record(
        engine,
        [
            access_log.AccessEntry(
                "t1", T0, "alice", "demo", "woz-2024", "2024.1", "ab", "policy", "public-task",
                "granted",
            ),
            access_log.AccessEntry(
                "t1", T0, "alice", "demo", "wijken", "2024", "cd", "policy", "none", "granted"
            ),
        ],
    )  # fmt: skip
    return engine


def test_an_untouched_record_verifies(record: Engine):
    check = audit.verify(record)
    assert check.ok, check.reason
    assert check.entries == 5
    # 3+1 experiments, 3 proposed + 6 imported + 1 + 2 events, 2 access-log rows
    assert check.rows == 4 + 12 + 2


CHANGES = [
    # (statement, the entry that wrote the row, how the rows are named)
    ("UPDATE events SET actor = 'mallory' WHERE experiment = 'EXP-0001' AND seq = 1",
     3, "events row"),
    ("UPDATE events SET at = '2020-01-01 00:00:00' WHERE experiment = 'EXP-0001' AND seq = 2",
     4, "events row"),
    ("UPDATE experiments SET risks = 'none' WHERE id = 'EXP-0001'",
     2, "experiments row EXP-0001"),
    ("UPDATE experiments SET personal_data = false WHERE id = 'EXP-0001'",
     2, "experiments row EXP-0001"),
    ("UPDATE access_log SET decision = 'refused' WHERE dataset = 'wijken'",
     5, "access_log rows"),
    # an import's rows are named by the chunk that holds them
    ("UPDATE events SET reason = 'never said' WHERE experiment = 'IMP-00002' AND seq = 2",
     1, "events rows"),
    ("UPDATE experiments SET title = 'x' WHERE id = 'IMP-00003'",
     1, "experiments rows IMP-00001..IMP-00003"),
]  # fmt: skip


@pytest.mark.parametrize("statement, entry, names", CHANGES)
def test_a_changed_value_in_any_column_is_found(record: Engine, statement, entry, names):
    check = tamper(record, statement)
    assert not check.ok
    assert check.first_bad == entry, check.reason
    assert names in check.reason and "changed since entry" in check.reason


def test_a_deleted_row_is_found(record: Engine):
    check = tamper(record, "DELETE FROM events WHERE experiment = 'EXP-0001' AND seq = 2")
    assert (check.first_bad, check.ok) == (4, False)
    assert "wrote 1 row(s); none left" in check.reason


def test_a_row_deleted_from_an_import_is_found(record: Engine):
    check = tamper(record, "DELETE FROM events WHERE experiment = 'IMP-00001' AND seq = 1")
    assert check.first_bad == 1
    assert "entry 1 wrote 9 row(s), 8 are there" in check.reason


def test_a_row_inserted_behind_the_registry_is_found(record: Engine):
    check = tamper(
        record,
        "INSERT INTO events (experiment, seq, from_state, to_state, at, actor, reason) "
        "VALUES ('EXP-0001', 3, 'exploring', 'validated', '2025-02-01 00:00:00.000000', "
        "'mallory', '')",
    )
    assert check.first_bad == 0  # on no entry at all
    assert "is on no entry" in check.reason


def test_a_row_inserted_under_an_existing_entry_is_found(record: Engine):
    check = tamper(
        record,
        "INSERT INTO events (experiment, seq, from_state, to_state, at, actor, reason, audit_seq) "
        "VALUES ('EXP-0001', 3, 'exploring', 'validated', '2025-02-01 00:00:00.000000', "
        "'mallory', '', 4)",
    )
    assert check.first_bad == 4
    assert "entry 4 wrote 1 row(s), 2 are there" in check.reason


@pytest.mark.parametrize(
    "statements",
    [
        # renumber: the second transition becomes the first
        ["UPDATE events SET seq = 9 WHERE experiment = 'EXP-0001' AND seq = 1",
         "UPDATE events SET seq = 1 WHERE experiment = 'EXP-0001' AND seq = 2",
         "UPDATE events SET seq = 2 WHERE experiment = 'EXP-0001' AND seq = 9"],
        # move an event to another entry
        ["UPDATE events SET audit_seq = 3 WHERE experiment = 'EXP-0001' AND seq = 2"],
    ],
    ids=["renumbered", "moved"],
)  # fmt: skip
def test_a_reordered_or_renumbered_event_is_found(record: Engine, statements):
    check = tamper(record, *statements)
    assert not check.ok and check.first_bad in (3, 4), check.reason


def test_an_entry_whose_rows_are_gone_is_found(record: Engine):
    check = tamper(record, "DELETE FROM access_log")
    assert check.first_bad == 5 and "wrote 2 row(s); none left" in check.reason


def test_rows_whose_entry_is_gone_are_found(record: Engine):
    """The chain's tail cut off, its rows left: they name an entry that is not there."""
    check = tamper(record, "DELETE FROM audit_log WHERE seq = 5")
    assert not check.ok and check.first_bad == 5
    assert "access_log" in check.reason and "which is not there" in check.reason


def test_a_changed_entry_is_still_found(record: Engine):
    check = tamper(record, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    assert (check.first_bad, check.reason) == (2, "its content was changed")


def test_the_changed_rows_of_a_large_import_are_named(registry_url: str, tmp_path: Path):
    engine = open_registry_url(registry_url)
    import_file(import_lines(tmp_path / "big.jsonl", 2500, 4), engine)  # 12,500 events
    assert audit.verify(engine).ok
    check = tamper(
        engine, "UPDATE events SET actor = 'mallory' WHERE experiment = 'IMP-01800' AND seq = 3"
    )
    assert check.first_bad == 1
    # the chunk of CHUNK rows that holds it, not all 12,500
    first, last = check.reason.split("events rows ")[1].split(":")[0].split("..")
    assert int(last) - int(first) + 1 == coverage.CHUNK


def test_entries_whose_rows_interleave_in_key_order_verify(registry_url: str, tmp_path: Path):
    """Verify reads each table in key order, with no index on audit_seq: two
    imports whose experiment ids alternate verify, and a change in the
    second one's rows is laid at its entry."""
    engine = open_registry_url(registry_url)
    found = inspect(engine)
    assert not [
        index
        for name in coverage.RECORD
        for index in found.get_indexes(name)
        if coverage.SEQ in index["column_names"]
    ]
    # X-00001, X-00001b, X-00002, X-00002b, ... in key order
    import_file(import_lines(tmp_path / "first.jsonl", 30, 2, "X"), engine)
    second = import_lines(tmp_path / "second.jsonl", 30, 2, "X")
    second.write_text(re.sub(r'"X-(\d{5})"', r'"X-\1b"', second.read_text()))
    import_file(second, engine)
    with engine.connect() as connection:
        seqs = list(connection.scalars(text("SELECT audit_seq FROM experiments ORDER BY id")))
    assert seqs[:4] == [1, 2, 1, 2]
    assert audit.verify(engine).ok
    check = tamper(engine, "UPDATE experiments SET title = 'x' WHERE id = 'X-00007b'")
    assert check.first_bad == 2 and "experiments row" in check.reason, check.reason


# ------------------------------------------------------------- witnessed heads


def test_a_witness_finds_a_chain_rewritten_from_the_start(record: Engine, tmp_path: Path):
    witness = tmp_path / "heads.jsonl"
    head = audit.witness(record, witness, "test")
    assert head is not None and head.seq == 5
    # the attacker edits an event and then recomputes every hash of the chain
    unprotect(record)
    with record.begin() as connection:
        connection.execute(text("UPDATE experiments SET risks = 'none' WHERE id = 'EXP-0001'"))
    rebuild_chain(record)
    assert audit.verify(record).ok  # the database alone cannot tell
    check = audit.verify(record, audit.witness_heads(witness))
    assert not check.ok and check.first_bad == 5
    assert "not the one witnessed: the chain was rewritten" in check.reason


def test_entries_hashed_in_the_first_form_still_verify(
    record: Engine, monkeypatch: pytest.MonkeyPatch
):
    """A registry written before form 2 (repr) keeps verifying, and a change
    in it is still found."""
    unprotect(record)
    with monkeypatch.context() as patched:
        patched.setattr(coverage, "FORM", 1)
        rebuild_chain(record)
    with record.connect() as connection:
        details = [json.loads(d) for d in connection.scalars(select(audit_log.c.details))]
    covered = [table for entry in details for table in entry.get("rows", {}).values()]
    assert covered and not any("form" in table for table in covered)
    assert audit.verify(record).ok
    check = tamper(
        record, "UPDATE events SET reason = 'never said' WHERE experiment = 'IMP-00002' AND seq = 2"
    )
    assert not check.ok and check.first_bad == 1 and "events rows" in check.reason


def test_a_witness_finds_an_older_copy_restored(record: Engine, tmp_path: Path):
    witness = tmp_path / "heads.jsonl"
    audit.witness(record, witness, "test")
    # an older state comes back: the newest entry and what it wrote are gone
    check = tamper(record, "DELETE FROM access_log", "DELETE FROM audit_log WHERE seq = 5")
    assert check.ok  # consistent on its own
    check = audit.verify(record, audit.witness_heads(witness))
    assert not check.ok and check.first_bad == 5
    assert "gone: the chain was cut, or an older copy restored" in check.reason


def rebuild_chain(engine: Engine) -> None:
    """Recompute the rows' digests and every entry's hash, as an attacker
    who knows the scheme would."""
    with engine.begin() as connection:
        entries = connection.execute(select(audit_log).order_by(audit_log.c.seq)).mappings().all()
        connection.execute(text("DELETE FROM audit_log"))
        previous = audit.GENESIS
        for entry in entries:
            details = json.loads(entry["details"])
            for name in details.get("rows", {}):
                digests, _ = coverage.read(connection, coverage.RECORD[name])
                details["rows"][name] = digests[entry["seq"]].result()
            audit.write_entry(
                connection,
                entry["seq"],
                previous,
                entry["actor"],
                entry["kind"],
                entry["subject"],
                details,
                entry["at"],
            )
            previous = connection.execute(
                text(f"SELECT hash FROM audit_log WHERE seq = {entry['seq']}")
            ).scalar_one()


def test_the_head_is_witnessed_daily_and_only_when_due(record: Engine, tmp_path: Path):
    witness = tmp_path / "audit" / "heads.jsonl"
    day = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    assert audit.witness_if_due(record, witness, "service", day) is not None
    assert audit.witness_if_due(record, witness, "service", day + timedelta(hours=23)) is None
    assert audit.witness_if_due(record, witness, "service", day + timedelta(hours=24))
    lines = [json.loads(line) for line in witness.read_text().splitlines()]
    assert [line["by"] for line in lines] == ["service", "service"]
    assert oct(witness.stat().st_mode & 0o777) == "0o600"


# -------------------------------------------------------------------- the CLI


def test_audit_head_verify_and_a_bad_witness_through_the_cli(tmp_path: Path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    state = tmp_path / "state"
    monkeypatch.setenv("SANDBOX_REGISTRY_URL", url)
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(state))
    runner = CliRunner()
    lines = import_lines(tmp_path / "log.jsonl", 2, 1)
    assert runner.invoke(cli, ["experiments", "import", str(lines)]).exit_code == 0
    # the import witnessed the head in the state directory
    witnessed = (state / "audit" / "heads.jsonl").read_text().splitlines()
    assert json.loads(witnessed[-1])["by"] == "import"
    head = json.loads(runner.invoke(cli, ["audit", "head", "--json"]).stdout)
    assert head["seq"] == 1 and len(head["hash"]) == 64
    ok = runner.invoke(cli, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "1 entries, chain intact, 6 rows as recorded; 1 witnessed head(s)" in ok.output
    for bad in ("not json\n", '{"seq": 1}\n', '{"seq": 1, "hash": "zz", "at": "x"}\n'):
        file = tmp_path / "bad.jsonl"
        file.write_text(bad)
        refused = runner.invoke(cli, ["audit", "verify", "--witness", str(file)])
        assert refused.exit_code == 2, refused.output
        assert f"{file}:1: not a witnessed head" in refused.stderr
        assert "Traceback" not in refused.output
    engine = open_registry_url(url)
    tamper(engine, "UPDATE events SET reason = 'x' WHERE experiment = 'IMP-00002'")
    broken = runner.invoke(cli, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "audit chain broken at entry 1: events row" in broken.stderr


# ------------------------------------------------------------------ migration


def test_rows_written_before_the_chain_covered_them_are_adopted(registry_url: str):
    """A registry from before migration 0004: its rows get one "adopt" entry."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from sandbox.registry.db import MIGRATIONS

    engine = create_engine(registry_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
        connection.execute(
            text(
                "INSERT INTO experiments (id, title, description, team, sandbox, owner, purpose, "
                "datasets, personal_data, registered_at, registered_by, human_intervention, "
                "risks, proportionality, dpia_reference, dataset_versions) VALUES ('OLD-1', "
                "'old', '', 'a', 'demo', 'alice', 'p', '[\"woz\"]', true, "
                "'2024-05-01 10:00:00.000000', 'alice', '', '', '', '', '{}')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO events (experiment, seq, from_state, to_state, at, actor, reason) "
                "VALUES ('OLD-1', 0, NULL, 'proposed', '2024-05-01 10:00:00.000000', 'alice', '')"
            )
        )
        # a grant from before the access log had its processing_activity column (0005)
        connection.execute(
            text(
                'INSERT INTO access_log (trace_id, at, "user", sandbox, dataset, version, '
                "sha256, purpose, legal_basis, decision, reason) VALUES ('t0', "
                "'2024-05-01 10:00:00.000000', 'alice', 'demo', 'woz', '1', 'ab', 'p', 'l', "
                "'granted', '')"
            )
        )
    engine.dispose()
    upgraded = open_registry_url(registry_url)  # migrates to the newest revision
    check = audit.verify(upgraded)
    assert check.ok, check.reason
    [adopted] = audit.entries(upgraded)
    assert adopted["kind"] == "adopt"
    assert adopted["details"]["rows"]["experiments"]["count"] == 1
    assert adopted["details"]["rows"]["events"]["count"] == 1
    assert "processing_activity" not in adopted["details"]["rows"]["access_log"]["columns"]
    # the adopted rows are as protected as new ones
    store.transition(upgraded, "OLD-1", "approved", "carol", "late")
    check = tamper(upgraded, "UPDATE experiments SET title = 'new' WHERE id = 'OLD-1'")
    assert check.first_bad == adopted["seq"] and "experiments row OLD-1" in check.reason
