"""The audit log: provisioning runs, policy decisions, dataset grants,
experiment transitions and exports, as one hash chain.

Each entry's hash covers its own fields and the previous entry's hash, so any
edit, deletion or reordering breaks the chain from that entry on, and
``verify`` names the first bad entry.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from .db import retrying
from .tables import as_utc, audit_log

GENESIS = "0" * 64
KINDS = ("provision", "policy", "grant", "transition", "register", "import", "export")


def entry_hash(
    prev_hash: str, seq: int, at: datetime, actor: str, kind: str, subject: str, details: str
) -> str:
    canonical = json.dumps(
        [prev_hash, seq, _iso(at), actor, kind, subject, details], separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _iso(moment: datetime) -> str:
    return as_utc(moment).isoformat()


def append(
    connection: Connection,
    actor: str,
    kind: str,
    subject: str,
    details: dict[str, Any],
    at: datetime | None = None,
) -> int:
    """Add an entry inside the caller's transaction (it commits with the change
    it records). Concurrent appenders collide on ``seq`` and the caller retries."""
    last = connection.execute(
        select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
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
    return seq


def record(engine: Engine, actor: str, kind: str, subject: str, details: dict[str, Any]) -> int:
    return retrying(engine, lambda connection: append(connection, actor, kind, subject, details))


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    first_bad: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad is None


def verify(engine: Engine) -> ChainCheck:
    """Recompute the chain; the first entry whose link or hash is wrong."""
    previous, expected_seq, count = GENESIS, 1, 0
    with engine.connect() as connection:
        rows = connection.execute(select(audit_log).order_by(audit_log.c.seq))
        for row in rows:
            count += 1
            if row.seq != expected_seq:
                return ChainCheck(count, row.seq, f"entry {expected_seq} is missing")
            if row.prev_hash != previous:
                return ChainCheck(count, row.seq, "does not follow the entry before it")
            actual = entry_hash(
                row.prev_hash, row.seq, row.at, row.actor, row.kind, row.subject, row.details
            )
            if actual != row.hash:
                return ChainCheck(count, row.seq, "its content was changed")
            previous, expected_seq = row.hash, expected_seq + 1
    return ChainCheck(count)


def entries(engine: Engine, kind: str | None = None) -> list[dict[str, Any]]:
    query = select(audit_log).order_by(audit_log.c.seq)
    if kind:
        query = query.where(audit_log.c.kind == kind)
    with engine.connect() as connection:
        return [
            {**row, "at": _iso(row["at"]), "details": json.loads(row["details"])}
            for row in connection.execute(query).mappings()
        ]
