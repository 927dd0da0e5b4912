"""The output airlock's record: requests, automatic checks, reviews, releases
and downloads, each an append-only row on the audit chain.

A request is written once, with the files it copied and what the checks
said of them; every later step is an event. Its state follows from them, as
``requested -> checked -> approved | rejected -> released``: ``checked`` once
its checks ran (at the request) and while it waits for reviews; ``approved``
when enough distinct stewards approved (two from tier 2), which releases it at
once (``released``), or ``refused`` when the airlock copy no longer matches;
``rejected`` at the first rejection. A release that fails on the host (a full
disk, a permission) is recorded (``release-failed``) and leaves the request
``approved``, the one state ``release`` retries.
"""

from __future__ import annotations

import re
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from ..errors import InvalidInput, SandboxError
from ..governance import disclosure
from ..host import airlock
from . import audit
from .db import retrying
from .tables import as_utc, output_events, output_requests

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
REQUESTED, CHECKED, APPROVED = "requested", "checked", "approved"
REJECTED, RELEASED, REFUSED = "rejected", "released", "refused"
STATES = (REQUESTED, CHECKED, APPROVED, REJECTED, RELEASED, REFUSED)


class UnknownRequest(InvalidInput):
    pass


class ReviewRefused(InvalidInput):
    pass


class ReleaseFailed(SandboxError):
    """An approved request could not be copied to the outbox; it stays approved."""


@dataclass(frozen=True)
class Airlock:
    """One sandbox's airlock: where copies and releases live, and its rules."""

    sandbox: str
    tier: int
    copies: Path  # <state>/sandboxes/<name>/airlock
    outbox: Path  # <state>/sandboxes/<name>/outbox
    max_bytes: int = DEFAULT_MAX_BYTES
    rules: disclosure.Rules = field(default_factory=disclosure.Rules)
    pii_columns: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> Airlock:
        """From hub.json's ``registry.airlock`` (sandbox.hub.settings.airlock_settings)."""
        return cls(
            settings["sandbox"],
            int(settings["tier"]),
            Path(settings["copies"]),
            Path(settings["outbox"]),
            int(settings["max_bytes"]),
            disclosure.Rules(**settings["rules"]),
            frozenset(settings["pii_columns"]),
        )


@dataclass(frozen=True)
class Request:
    id: str
    sandbox: str
    requester: str
    at: datetime
    path: str
    justification: str
    experiment: str
    tier: int
    files: list[dict[str, Any]]
    checks: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "at": self.at.isoformat()}


@dataclass(frozen=True)
class Event:
    request: str
    at: datetime
    actor: str
    kind: str  # approve | reject | release | release-failed | refuse | download
    reason: str = ""
    override: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "at": self.at.isoformat()}


@dataclass(frozen=True)
class View:
    request: Request
    events: list[Event]

    @property
    def approvers(self) -> list[str]:
        """Who approved, each once."""
        return list(dict.fromkeys(e.actor for e in self.events if e.kind == "approve"))

    @property
    def approvals_needed(self) -> int:
        """Two distinct stewards for a request made at tier 2 or more."""
        return 2 if self.request.tier >= 2 else 1

    @property
    def state(self) -> str:
        kinds = {e.kind for e in self.events}
        for kind, state in (("reject", REJECTED), ("refuse", REFUSED), ("release", RELEASED)):
            if kind in kinds:
                return state
        if len(self.approvers) >= self.approvals_needed:
            return APPROVED  # its release is the next step, in the same review
        return CHECKED if self.request.checks.get("status") else REQUESTED

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.request.as_dict(),
            "state": self.state,
            "approvals": len(self.approvers),
            "approvals_needed": self.approvals_needed,
            "events": [e.as_dict() for e in self.events],
        }


def check_files(copy: Path, taken: list[airlock.Taken], lock: Airlock) -> dict[str, Any]:
    """The automatic checks on the airlock copy (never on the home)."""
    names = {t.path for t in taken}
    results = []
    for entry in taken:
        if entry.path.endswith(disclosure.EVIDENCE_SUFFIX):
            results.append(_evidence_check(entry.path, names))
            continue
        evidence = entry.path + disclosure.EVIDENCE_SUFFIX
        results.append(
            disclosure.check_file(
                copy / entry.path,
                entry.path,
                lock.rules,
                set(lock.pii_columns),
                copy / evidence if evidence in names else None,
            ).as_dict()
        )
    return {"status": disclosure.worst(r["status"] for r in results), "files": results}


def _evidence_check(path: str, names: set[str]) -> dict[str, Any]:
    """Evidence serves the checks of its table and is never released (it holds
    each cell's largest contributions); without its table it is just a file."""
    if path.removesuffix(disclosure.EVIDENCE_SUFFIX) in names:
        note = "evidence for the checks of its table; not released"
        finding = disclosure.Finding("evidence", disclosure.PASS, note)
        return disclosure.FileCheck(path, disclosure.PASS, "evidence", [finding]).as_dict()
    message = "named like evidence, but its table is not in the request: manual review"
    finding = disclosure.Finding("manual", disclosure.REVIEW, message)
    return disclosure.FileCheck(path, disclosure.REVIEW, "other", [finding]).as_dict()


def released(files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a release hands out: the requested files without the evidence of
    the tables that came with them."""
    names = {f["path"] for f in files}
    suffix = disclosure.EVIDENCE_SUFFIX
    return [
        f
        for f in files
        if not (f["path"].endswith(suffix) and f["path"].removesuffix(suffix) in names)
    ]


def _next_id(connection: Connection) -> str:
    ids = connection.execute(select(output_requests.c.id))
    numbers = [int(m.group(1)) for (i,) in ids if (m := re.fullmatch(r"OUT-(\d+)", i))]
    return f"OUT-{max(numbers, default=0) + 1:04d}"


def request(
    engine: Engine,
    lock: Airlock,
    home: Path,
    requester: str,
    path: str,
    justification: str,
    experiment: str = "",
    now: datetime | None = None,
) -> View:
    """Copy ``path`` out of ``home`` into the airlock, check it and record the
    request; refused requests copy and record nothing."""
    if not justification.strip():
        raise airlock.Refused("say why this output must leave (a justification)")
    pending = lock.copies / f".pending-{uuid.uuid4().hex}"
    taken = airlock.take(home, path, pending, lock.max_bytes)
    try:
        checks = check_files(pending, taken, lock)
        at = as_utc(now or datetime.now(UTC))

        def work(connection: Connection) -> Request:
            record = Request(
                _next_id(connection),
                lock.sandbox,
                requester,
                at,
                path,
                justification.strip(),
                experiment,
                lock.tier,
                [t.as_dict() for t in taken],
                checks,
            )
            audit.append(
                connection,
                requester,
                "output-request",
                record.id,
                {"sandbox": lock.sandbox, "files": record.files, "checks": checks["status"]},
                at=at,
                rows={output_requests: [asdict(record)]},
            )
            return record

        record = retrying(engine, work)
    except BaseException:
        shutil.rmtree(pending, ignore_errors=True)
        raise
    pending.rename(lock.copies / record.id)
    return View(record, [])


def get(engine: Engine, request_id: str) -> View:
    with engine.connect() as connection:
        row = (
            connection.execute(select(output_requests).where(output_requests.c.id == request_id))
            .mappings()
            .first()
        )
        if row is None:
            raise UnknownRequest(f"unknown output request {request_id!r}")
        events = (
            connection.execute(
                select(output_events)
                .where(output_events.c.request == request_id)
                .order_by(output_events.c.id)
            )
            .mappings()
            .all()
        )
    return View(_request(row), [_event(e) for e in events])


def listing(engine: Engine, sandbox: str | None = None, state: str | None = None) -> list[View]:
    """Every request (of ``sandbox``; in ``state``), oldest first."""
    if state is not None and state not in STATES:
        raise InvalidInput(f"state must be one of {', '.join(STATES)}, not {state!r}")
    with engine.connect() as connection:
        query = select(output_requests).order_by(output_requests.c.id)
        if sandbox:
            query = query.where(output_requests.c.sandbox == sandbox)
        rows = connection.execute(query).mappings().all()
        events = connection.execute(select(output_events).order_by(output_events.c.id))
        by_request: dict[str, list[Event]] = {}
        for row in events.mappings():
            by_request.setdefault(row["request"], []).append(_event(row))
    views = [View(_request(r), by_request.get(r["id"], [])) for r in rows]
    return [v for v in views if state is None or v.state == state]


def of_experiment(engine: Engine, experiment_id: str) -> list[dict[str, Any]]:
    """The output requests made for an experiment, in brief (its evidence)."""
    return [
        {
            "id": v.request.id,
            "state": v.state,
            "path": v.request.path,
            "checks": v.request.checks.get("status", ""),
            "requester": v.request.requester,
        }
        for v in listing(engine)
        if v.request.experiment == experiment_id
    ]


def _request(row: Any) -> Request:
    data = {k: v for k, v in row.items() if k != "audit_seq"}
    return Request(**{**data, "at": as_utc(data["at"])})


def _event(row: Any) -> Event:
    data = {k: v for k, v in row.items() if k not in ("id", "audit_seq")}
    return Event(**{**data, "at": as_utc(data["at"]), "override": bool(data["override"])})


def review_problem(
    view: View, actor: str, decision: str, reason: str, override: bool
) -> str | None:
    """Why ``actor`` may not record this review (None: they may). The caller
    has checked that ``actor`` is a steward."""
    rid = view.request.id
    if view.state != CHECKED:
        return f"{rid} is already {view.state}"
    if actor == view.request.requester:
        return f"{actor} requested {rid} and cannot review it: another steward must"
    if decision == "reject":
        return None if reason.strip() else "a rejection needs a reason"
    if actor in view.approvers:
        return f"{actor} already approved {rid}: a second steward must approve"
    if view.request.checks.get("status") == disclosure.FAIL and not (override and reason.strip()):
        return f"the automatic checks failed for {rid}: approving needs an override and a reason"
    return None


def _append(engine: Engine, event: Event) -> None:
    def work(connection: Connection) -> None:
        audit.append(
            connection,
            event.actor,
            f"output-{event.kind}",
            event.request,
            {"reason": event.reason[:500], "override": event.override, **event.details},
            at=event.at,
            rows={output_events: [asdict(event)]},
        )

    retrying(engine, work)


def review(
    engine: Engine,
    lock: Airlock,
    request_id: str,
    actor: str,
    decision: str,
    reason: str = "",
    override: bool = False,
    now: datetime | None = None,
) -> View:
    """Record an approval or rejection; the approval that completes the
    count releases the request (or refuses it when its copy was changed)."""
    if decision not in ("approve", "reject"):
        raise InvalidInput(f"decision must be approve or reject, not {decision!r}")
    at = as_utc(now or datetime.now(UTC))
    view = get(engine, request_id)
    problem = review_problem(view, actor, decision, reason, override)
    if problem:
        raise ReviewRefused(problem)
    _append(engine, Event(request_id, at, actor, decision, reason.strip(), override))
    view = get(engine, request_id)
    if decision == "approve" and len(view.approvers) >= view.approvals_needed:
        _release(engine, lock, view, at)
        view = get(engine, request_id)
    return view


def manifest(view: View, at: datetime) -> dict[str, Any]:
    request = view.request
    return {
        "request": request.id,
        "sandbox": request.sandbox,
        "requester": request.requester,
        "requested_at": request.at.isoformat(),
        "justification": request.justification,
        "experiment": request.experiment,
        "files": released(request.files),
        "checks": request.checks,
        "reviews": [e.as_dict() for e in view.events if e.kind in ("approve", "reject")],
        "released_at": at.isoformat(),
    }


def _release(
    engine: Engine, lock: Airlock, view: View, at: datetime, actor: str = "airlock"
) -> None:
    """Release ``view`` to the outbox and record what happened: released,
    refused (a changed copy) or release-failed (the host could not copy it)."""
    rid = view.request.id
    try:
        airlock.release(
            lock.copies / rid,
            view.request.files,
            released(view.request.files),
            lock.outbox / rid,
            manifest(view, at),
        )
    except airlock.Tampered as exc:
        _append(engine, Event(rid, at, actor, "refuse", str(exc)))
        return
    except OSError as exc:
        _append(engine, Event(rid, at, actor, "release-failed", str(exc)))
        return
    _append(engine, Event(rid, at, actor, "release", details={"outbox": str(lock.outbox / rid)}))


def release_failure(view: View) -> str | None:
    """Why the last release of an approved request failed (None: it did not)."""
    if view.state != APPROVED:
        return None
    failed = [e for e in view.events if e.kind == "release-failed"]
    return failed[-1].reason if failed else None


def release(
    engine: Engine, lock: Airlock, request_id: str, actor: str, now: datetime | None = None
) -> View:
    """Retry the release of an approved request whose release failed, as
    ``actor`` (a steward); raise ``ReleaseFailed`` if it fails again."""
    view = get(engine, request_id)
    if view.state != APPROVED:
        raise InvalidInput(
            f"{request_id} is {view.state}: only an approved request whose release failed"
            " is released again"
        )
    _release(engine, lock, view, as_utc(now or datetime.now(UTC)), actor)
    view = get(engine, request_id)
    failure = release_failure(view)
    if failure is not None:
        raise ReleaseFailed(f"{request_id}: the release failed again ({failure}); still approved")
    return view


def download(
    engine: Engine,
    lock: Airlock,
    request_id: str,
    actor: str,
    name: str,
    now: datetime | None = None,
) -> Path:
    """The released file ``name`` of a request, recording who took it."""
    view = get(engine, request_id)
    if view.state != RELEASED:
        raise InvalidInput(f"{request_id} is {view.state}, not released")
    files = {f["path"]: f for f in released(view.request.files)}
    if name != airlock.MANIFEST and name not in files:
        raise InvalidInput(f"{request_id} has no file {name!r}")
    path = lock.outbox / request_id / name
    at = as_utc(now or datetime.now(UTC))
    _append(engine, Event(request_id, at, actor, "download", details={"file": name}))
    return path


def log(engine: Engine) -> list[dict[str, Any]]:
    """Every step of every request, oldest first (``sandbox outputs log``)."""
    lines = []
    for view in listing(engine):
        request = view.request
        lines.append(
            {
                "at": request.at.isoformat(),
                "request": request.id,
                "actor": request.requester,
                "kind": "request",
                "detail": f"{request.path} ({request.checks.get('status')})",
            }
        )
        lines += [
            {
                "at": e.at.isoformat(),
                "request": e.request,
                "actor": e.actor,
                "kind": e.kind,
                "detail": e.details.get("file") or e.reason,
            }
            for e in view.events
        ]
    return sorted(lines, key=lambda line: line["at"])
