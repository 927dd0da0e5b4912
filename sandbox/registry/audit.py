"""The audit log: provisioning runs, policy decisions, dataset grants,
registrations, experiment transitions, imports and exports, as one hash chain
that also vouches for every row of the record.

Each entry's hash covers its own fields and the previous entry's hash, so an
edit, deletion or reordering of entries breaks the chain from that entry on.
An entry that writes rows of the record (experiments, events, the access
log) records, in its details, how many rows it wrote to each table and their
digest (``coverage``); each of those rows names the entry (``audit_seq``).
``verify`` recomputes the chain and every row, and compares the chain with
heads witnessed earlier outside the database (``witness``).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert, select, text

from ..errors import InvalidInput, Problem
from . import coverage
from .db import retrying
from .tables import as_utc, audit_log

GENESIS = "0" * 64
# PostgreSQL: the chain takes one entry at a time, so writers queue for this
# transaction lock instead of colliding on the next seq and retrying (8 writers
# on 2 cores could lose 50 races in a row). SQLite's write lock does the same.
CHAIN_LOCK = 0x5A4E_DB01


def entry_hash(
    prev_hash: str, seq: int, at: datetime, actor: str, kind: str, subject: str, details: str
) -> str:
    canonical = json.dumps(
        [prev_hash, seq, _iso(at), actor, kind, subject, details], separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _iso(moment: datetime) -> str:
    return as_utc(moment).isoformat()


def next_entry(connection: Connection) -> tuple[int, str]:
    """The next entry's seq and the hash it follows (GENESIS for the first);
    on PostgreSQL the caller's transaction holds the chain's lock from here on."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    last = connection.execute(
        select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    return (last.seq + 1, last.hash) if last else (1, GENESIS)


def write_entry(
    connection: Connection,
    seq: int,
    prev: str,
    actor: str,
    kind: str,
    subject: str,
    details: dict[str, Any],
    at: datetime | None = None,
) -> None:
    """Insert entry ``seq`` after ``prev`` (from ``next_entry``, in the same
    transaction: a concurrent writer collides on ``seq`` and the caller retries)."""
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    text = json.dumps(details, sort_keys=True, default=str)
    connection.execute(
        insert(audit_log),
        [
            {
                "seq": seq,
                "at": moment,
                "actor": actor,
                "kind": kind,
                "subject": subject[:200],
                "details": text,
                "prev_hash": prev,
                "hash": entry_hash(prev, seq, moment, actor, kind, subject[:200], text),
            }
        ],
    )


def append(
    connection: Connection,
    actor: str,
    kind: str,
    subject: str,
    details: dict[str, Any],
    at: datetime | None = None,
    rows: dict[Table, list[dict[str, Any]]] | None = None,
) -> int:
    """Add an entry inside the caller's transaction (it commits with the change
    it records), writing ``rows`` of record tables with it: each is bound to
    the entry, and the entry records their digest."""
    seq, prev = next_entry(connection)
    covered: dict[str, Any] = {}
    for table, table_rows in (rows or {}).items():
        for row in table_rows:
            row[coverage.SEQ] = seq
        ordered = coverage.in_order(table, table_rows)
        covered[table.name] = coverage.cover(
            seq, table, (coverage.values_of(table, row) for row in ordered)
        )
        connection.execute(insert(table), table_rows)
    if covered:
        details = {**details, "rows": covered}
    write_entry(connection, seq, prev, actor, kind, subject, details, at)
    return seq


def record(engine: Engine, actor: str, kind: str, subject: str, details: dict[str, Any]) -> int:
    return retrying(engine, lambda connection: append(connection, actor, kind, subject, details))


def adopt(connection: Connection, seq: int, counts: dict[str, int]) -> None:
    """Entry ``seq`` takes on rows written before every row was on the chain
    (their ``audit_seq`` already says ``seq``): it records what they hold now."""
    _, prev = next_entry(connection)
    covered = {}
    for name, count in counts.items():
        if count:
            table = coverage.RECORD[name]
            columns = coverage.existing_columns(connection, table)
            digests, _ = coverage.read(connection, table, columns=columns)
            covered[name] = {"columns": columns, **digests[seq].result()}
    write_entry(
        connection,
        seq,
        prev,
        "migration",
        "adopt",
        "rows written before each row was on the chain",
        {"rows": covered},
    )


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str
    at: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "at": self.at}


def head(engine: Engine) -> Head | None:
    """The newest entry: what a witness keeps."""
    with engine.connect() as connection:
        row = connection.execute(
            select(audit_log.c.seq, audit_log.c.hash, audit_log.c.at)
            .order_by(audit_log.c.seq.desc())
            .limit(1)
        ).first()
    return Head(row.seq, row.hash, _iso(row.at)) if row else None


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    rows: int = 0
    first_bad: int | None = None  # the entry concerned (0: rows on no entry)
    reason: str = ""
    witnessed: int = 0  # heads compared with a witness file
    problems: int = 0  # how many were found in all

    @property
    def ok(self) -> bool:
        return self.first_bad is None


def verify(engine: Engine, witnessed: list[Head] | None = None) -> ChainCheck:
    """Recompute the chain and every row it covers; compare with witnessed
    heads. Names the first problem: a break in the chain first (it makes
    everything after it doubtful), else the first entry whose rows differ,
    else the first witnessed head the chain lacks."""
    broken: list[tuple[int, str]] = []
    rows_wrong: list[tuple[int, str]] = []
    covers: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in coverage.RECORD}
    chain: dict[int, str] = {}
    previous, expected_seq, count, rows = GENESIS, 1, 0, 0
    with engine.connect() as connection:
        for row in connection.execute(select(audit_log).order_by(audit_log.c.seq)):
            count += 1
            chain[row.seq] = row.hash
            if row.seq != expected_seq:
                broken.append((row.seq, f"entry {expected_seq} is missing"))
            elif row.prev_hash != previous:
                broken.append((row.seq, "does not follow the entry before it"))
            elif row.hash != entry_hash(
                row.prev_hash, row.seq, row.at, row.actor, row.kind, row.subject, row.details
            ):
                broken.append((row.seq, "its content was changed"))
            for name, recorded in json.loads(row.details).get("rows", {}).items():
                if name in covers:
                    covers[name][row.seq] = recorded
            previous, expected_seq = row.hash, row.seq + 1
        for name, table in coverage.RECORD.items():
            found = coverage.check_table(connection, table, covers[name], set(chain))
            rows += sum(c["count"] for c in covers[name].values())
            rows_wrong += [(p.seq or 0, str(p)) for p in found]
    gone: list[tuple[int, str]] = []
    for witnessed_head in witnessed or []:
        if chain.get(witnessed_head.seq) != witnessed_head.hash:
            what = (
                "gone: the chain was cut, or an older copy restored"
                if witnessed_head.seq not in chain
                else "not the one witnessed: the chain was rewritten"
            )
            gone.append(
                (witnessed_head.seq, f"the head witnessed on {witnessed_head.at} is {what}")
            )
    problems = sorted(broken) or sorted(rows_wrong) or sorted(gone)
    total = len(broken) + len(rows_wrong) + len(gone)
    if not problems:
        return ChainCheck(count, rows, witnessed=len(witnessed or []))
    seq, reason = problems[0]
    return ChainCheck(count, rows, seq, reason, len(witnessed or []), total)


def entries(engine: Engine, kind: str | None = None) -> list[dict[str, Any]]:
    query = select(audit_log).order_by(audit_log.c.seq)
    if kind:
        query = query.where(audit_log.c.kind == kind)
    with engine.connect() as connection:
        return [
            {**row, "at": _iso(row["at"]), "details": json.loads(row["details"])}
            for row in connection.execute(query).mappings()
        ]


def witness_heads(path: Path) -> list[Head]:
    """The heads a witness file holds (JSON Lines); ``InvalidInput`` names the
    line of one that is not a head."""
    heads = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InvalidInput([Problem(str(path), None, "", f"cannot read: {exc}")]) from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            seq, digest, at = data["seq"], data["hash"], data["at"]
            if not (isinstance(seq, int) and seq > 0 and isinstance(at, str)):
                raise ValueError
            if not (isinstance(digest, str) and len(digest) == 64):
                raise ValueError
            int(digest, 16)
        except (ValueError, KeyError, TypeError):
            raise InvalidInput(
                [
                    Problem(
                        str(path),
                        number,
                        "",
                        'not a witnessed head: expected {"seq": N, "hash": 64 hex, "at": TIME}',
                    )
                ]
            ) from None
        heads.append(Head(seq, digest, at))
    return heads


def witness(engine: Engine, path: Path, by: str, now: datetime | None = None) -> Head | None:
    """Append the chain's head to a witness file (0600, one JSON line each)."""
    current = head(engine)
    if current is None:
        return None
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    line = json.dumps(
        {**current.as_dict(), "witnessed_at": _iso(now or datetime.now(UTC)), "by": by},
        sort_keys=True,
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    return current


def last_witnessed(path: Path) -> datetime | None:
    """When the newest head in a witness file was witnessed (None: never)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            return datetime.fromisoformat(json.loads(line)["witnessed_at"])
        except (ValueError, KeyError, TypeError):
            continue
    return None


def witness_if_due(
    engine: Engine, path: Path, by: str, now: datetime, every: timedelta = timedelta(days=1)
) -> Head | None:
    """Witness the head when the newest witnessed one is ``every`` old (or none is)."""
    last = last_witnessed(path)
    if last is not None and now - last < every:
        return None
    return witness(engine, path, by, now)
