"""The access log: who got which dataset version, why, under which legal basis.

Fields follow the spirit of the Dutch "Logboek Dataverwerkingen" standard: a
trace id per server start ties the grants of one start together.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from . import audit, coverage
from .db import retrying
from .tables import access_log, as_utc


@dataclass(frozen=True)
class AccessEntry:
    trace_id: str
    at: datetime
    user: str
    sandbox: str
    dataset: str
    version: str
    sha256: str
    purpose: str
    legal_basis: str
    decision: str  # granted | refused | revoked
    reason: str = ""
    processing_activity: str = ""  # a URI into the register of processing activities
    groups: str = ""  # the groups that granted it, comma-separated

    def as_dict(self) -> dict[str, str]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


def mount_entry(
    mount: dict[str, Any],
    trace_id: str,
    at: datetime,
    user: str,
    sandbox: str,
    decision: str,
    reason: str = "",
) -> AccessEntry:
    """The row for one dataset as the hub's settings describe a mount of it."""
    return AccessEntry(
        trace_id=trace_id,
        at=at,
        user=user,
        sandbox=sandbox,
        dataset=mount["id"],
        version=mount["version"],
        sha256=mount.get("digest", ""),
        purpose=", ".join(mount.get("purposes", [])),
        legal_basis=", ".join(mount.get("legal_basis", [])) or "no personal data",
        processing_activity=mount.get("processing_activity", ""),
        decision=decision,
        reason=reason,
        groups=", ".join(mount.get("groups", [])),
    )


def record(engine: Engine, entries: list[AccessEntry]) -> None:
    if not entries:
        return

    first = entries[0]

    def work(connection: Any) -> None:
        # one server start (one trace): one chain entry that writes its decisions
        audit.append(
            connection,
            first.user,
            "grant",
            f"{first.sandbox}/{first.user}",
            {
                "trace_id": first.trace_id,
                "decisions": [
                    {"dataset": e.dataset, "version": e.version, "decision": e.decision}
                    for e in entries
                ],
            },
            at=first.at,
            rows={access_log: [asdict(e) for e in entries]},
        )

    retrying(engine, work)


def record_revocation(
    engine: Engine,
    actor: str,
    sandbox: str,
    user: str,
    revoked: list[AccessEntry],
    details: dict[str, Any],
) -> None:
    """Access that `up` ended for one user: one chain entry (kind ``revoke``)
    that writes a ``revoked`` row per dataset (none for a login alone)."""

    def work(connection: Any) -> None:
        audit.append(
            connection,
            actor,
            "revoke",
            f"{sandbox}/{user}",
            details,
            rows={access_log: [asdict(e) for e in revoked]} if revoked else None,
        )

    retrying(engine, work)


def entries(
    engine: Engine, sandbox: str | None = None, user: str | None = None, newest: int | None = None
) -> list[AccessEntry]:
    """Logged decisions, oldest first; with ``newest``, only the newest that many,
    newest first."""
    order = access_log.c.id if newest is None else access_log.c.id.desc()
    query = select(access_log).order_by(order).limit(newest)
    if sandbox:
        query = query.where(access_log.c.sandbox == sandbox)
    if user:
        query = query.where(access_log.c.user == user)
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    return [_entry(row) for row in rows]


def _entry(row: Any) -> AccessEntry:
    data = {k: v for k, v in row.items() if k not in ("id", coverage.SEQ)}
    data["at"] = as_utc(data["at"])
    return AccessEntry(**data)
