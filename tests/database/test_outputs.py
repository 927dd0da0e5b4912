"""The output airlock's record on SQLite and PostgreSQL: requests copy what
was asked for, reviews follow the two-person rule, a release is exactly the
requested bytes, and every step is on the audit chain."""

from __future__ import annotations

import errno
import hashlib
import json
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from sandbox.errors import InvalidInput
from sandbox.host import airlock
from sandbox.registry import audit, outputs
from sandbox.registry.db import open_registry_url
from sandbox.registry.outputs import Airlock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SAFE = "wijk,klasse,aantal\nA,<1945,12\nA,>1945,15\nB,<1945,40\n"
UNSAFE = "wijk,klasse,aantal\nA,<1945,12\nA,>1945,3\nB,<1945,40\n"


@pytest.fixture
def engine(registry_url: str) -> Engine:
    return open_registry_url(registry_url)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / "results").mkdir(parents=True)
    (home / "results" / "crosstab.csv").write_text(UNSAFE)
    (home / "results" / "safe.csv").write_text(SAFE)
    (home / "plot.png").write_bytes(b"\x89PNG fake")
    return home


def lock_for(tmp_path: Path, tier: int = 2, **kwargs) -> Airlock:
    return Airlock(
        "demo", tier, tmp_path / "state" / "airlock", tmp_path / "state" / "outbox", **kwargs
    )


def test_a_request_copies_and_checks_what_was_asked(engine, home, tmp_path):
    lock = lock_for(tmp_path)
    view = outputs.request(engine, lock, home, "alice", "results/crosstab.csv", "for the council")
    assert view.request.id == "OUT-0001"
    assert view.state == "checked"
    assert view.request.checks["status"] == "fail"
    [finding] = view.request.checks["files"][0]["findings"]
    assert (finding["check"], finding["cells"]) == ("threshold", [["A", ">1945", "aantal"]])
    copy = lock.copies / "OUT-0001" / "crosstab.csv"
    assert copy.read_text() == UNSAFE
    assert view.request.files[0]["sha256"] == hashlib.sha256(UNSAFE.encode()).hexdigest()
    assert (
        outputs.request(engine, lock, home, "alice", "plot.png", "figure").request.checks["status"]
        == "review"
    )


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../etc/passwd", "only files in your home"),
        ("/etc/passwd", "only files in your home"),
        ("missing.csv", "no such file"),
        ("link.csv", "symbolic link"),
        ("linked/crosstab.csv", "symbolic link"),
        ("results", "over the airlock's limit"),
    ],
)
def test_bad_requests_are_refused_and_copy_nothing(engine, home, tmp_path, path, message):
    (home / "link.csv").symlink_to("/etc/passwd")
    (home / "linked").symlink_to(home / "results")
    lock = lock_for(tmp_path, max_bytes=40)
    with pytest.raises(airlock.Refused, match=message):
        outputs.request(engine, lock, home, "alice", path, "why")
    assert outputs.listing(engine) == []
    assert not lock.copies.exists() or os.listdir(lock.copies) == []


def test_two_stewards_release_a_tier_2_request(engine, home, tmp_path):
    lock = lock_for(tmp_path)
    rid = outputs.request(engine, lock, home, "alice", "results/safe.csv", "council").request.id
    (home / "results" / "safe.csv").write_text("changed after the request\n")
    with pytest.raises(outputs.ReviewRefused, match="cannot review"):
        outputs.review(engine, lock, rid, "alice", "approve")
    assert outputs.review(engine, lock, rid, "erin", "approve").state == "checked"
    with pytest.raises(outputs.ReviewRefused, match="second steward"):
        outputs.review(engine, lock, rid, "erin", "approve")
    view = outputs.review(engine, lock, rid, "frank", "approve")
    assert view.state == "released"
    released = lock.outbox / rid / "safe.csv"
    assert released.read_text() == SAFE  # what was requested, not what the home holds now
    assert oct(released.stat().st_mode & 0o777) == "0o400"
    manifest = (lock.outbox / rid / airlock.MANIFEST).read_text()
    assert '"erin"' in manifest and '"frank"' in manifest
    path = outputs.download(engine, lock, rid, "alice", "safe.csv")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == view.request.files[0]["sha256"]
    assert [e.kind for e in outputs.get(engine, rid).events] == [
        "approve", "approve", "release", "download",
    ]  # fmt: skip
    assert audit.verify(engine).ok


def test_a_failed_check_needs_an_override_reason_from_each_approver(engine, home, tmp_path):
    lock = lock_for(tmp_path)
    rid = outputs.request(engine, lock, home, "alice", "results/crosstab.csv", "x").request.id
    with pytest.raises(outputs.ReviewRefused, match="override"):
        outputs.review(engine, lock, rid, "erin", "approve", reason="fine")
    outputs.review(engine, lock, rid, "erin", "approve", "cell of 3 is public", override=True)
    with pytest.raises(outputs.ReviewRefused, match="override"):
        outputs.review(engine, lock, rid, "frank", "approve", "", override=True)


def test_states_follow_product_and_filter_the_listing(engine, home, tmp_path):
    lock = lock_for(tmp_path)
    first = outputs.request(engine, lock, home, "alice", "results/safe.csv", "x").request.id
    second = outputs.request(engine, lock, home, "alice", "results/safe.csv", "y").request.id
    outputs.review(engine, lock, second, "erin", "reject", "too detailed")
    assert [v.request.id for v in outputs.listing(engine, state="checked")] == [first]
    assert [v.request.id for v in outputs.listing(engine, state="rejected")] == [second]
    assert outputs.listing(engine, "other", state="checked") == []
    with pytest.raises(InvalidInput, match="state must be one of"):
        outputs.listing(engine, state="pending")
    # enough approvals but no release recorded (yet): approved, and no more reviews
    view = outputs.get(engine, first)
    approved = outputs.View(
        view.request,
        [outputs.Event(first, T0, who, "approve") for who in ("erin", "frank")],
    )
    assert approved.state == "approved"
    assert outputs.review_problem(approved, "gina", "approve", "x", False) == (
        f"{first} is already approved"
    )
    unchecked = outputs.View(replace(view.request, checks={}), [])
    assert unchecked.state == "requested"


def test_one_rejection_ends_a_request(engine, home, tmp_path):
    lock = lock_for(tmp_path, tier=1)
    rid = outputs.request(engine, lock, home, "alice", "results/safe.csv", "x").request.id
    with pytest.raises(outputs.ReviewRefused, match="needs a reason"):
        outputs.review(engine, lock, rid, "erin", "reject")
    assert outputs.review(engine, lock, rid, "erin", "reject", "too detailed").state == "rejected"
    with pytest.raises(outputs.ReviewRefused, match="already rejected"):
        outputs.review(engine, lock, rid, "frank", "approve")
    assert not (lock.outbox / rid).exists()


def test_a_tampered_airlock_copy_is_refused_at_release(engine, home, tmp_path):
    lock = lock_for(tmp_path, tier=1)
    rid = outputs.request(engine, lock, home, "alice", "results/safe.csv", "x").request.id
    copy = lock.copies / rid / "safe.csv"
    copy.chmod(0o600)
    copy.write_text(UNSAFE)
    view = outputs.review(engine, lock, rid, "erin", "approve")
    assert view.state == "refused"
    assert "sha256 differs" in view.events[-1].reason
    assert not (lock.outbox / rid).exists()


def test_changed_airlock_rows_fail_audit_verify(engine, home, tmp_path):
    lock = lock_for(tmp_path, tier=1)
    rid = outputs.request(engine, lock, home, "alice", "results/safe.csv", "x").request.id
    outputs.review(engine, lock, rid, "erin", "approve", "ok")
    with engine.begin() as connection:
        for table in ("output_requests", "output_events"):
            if engine.dialect.name == "sqlite":
                connection.execute(text(f"DROP TRIGGER {table}_no_update"))
            else:
                connection.execute(text(f"DROP TRIGGER {table}_append_only ON {table}"))
        connection.execute(
            text("UPDATE output_events SET actor = 'mallory' WHERE kind = 'approve'")
        )
    check = audit.verify(engine)
    assert not check.ok
    assert "output_events" in check.reason, check.reason


def test_requests_made_for_an_experiment_are_its_evidence(engine, home, tmp_path):
    lock = lock_for(tmp_path, tier=1)
    outputs.request(engine, lock, home, "alice", "results/safe.csv", "x", experiment="EXP-0001")
    outputs.request(engine, lock, home, "alice", "plot.png", "y")
    [linked] = outputs.of_experiment(engine, "EXP-0001")
    assert (linked["id"], linked["state"], linked["checks"]) == ("OUT-0001", "checked", "pass")


def test_a_tables_evidence_goes_with_it(engine, home, tmp_path):
    (home / "results" / "sums.csv").write_text("wijk,woz\nA,5000000\n")
    evidence = {
        "format": "sandbox-sdc/1",
        "kind": "magnitude",
        "table_sha256": hashlib.sha256(b"wijk,woz\nA,5000000\n").hexdigest(),
        "cells": [{"key": ["A"], "n": 20, "sum": 5000000, "top": [4900000, 10000]}],
    }
    (home / "results" / "sums.csv.sdc.json").write_text(json.dumps(evidence))
    view = outputs.request(engine, lock_for(tmp_path), home, "alice", "results/sums.csv", "x")
    assert [f["path"] for f in view.request.files] == ["sums.csv", "sums.csv.sdc.json"]
    [table, _] = view.request.checks["files"]
    assert {f["check"] for f in table["findings"]} == {"nk", "p-ratio"}


def test_evidence_is_checked_with_its_table_and_never_released(engine, home, tmp_path):
    lock = lock_for(tmp_path, tier=1)
    (home / "results" / "safe.csv.sdc.json").write_text("{}")
    rid = outputs.request(engine, lock, home, "alice", "results/safe.csv", "x").request.id
    outputs.review(engine, lock, rid, "erin", "approve", "ok")
    assert sorted(p.name for p in (lock.outbox / rid).iterdir()) == [
        "release-manifest.json",
        "safe.csv",
    ]
    with pytest.raises(InvalidInput, match="no file"):
        outputs.download(engine, lock, rid, "alice", "safe.csv.sdc.json")


def test_a_file_named_like_evidence_without_its_table_needs_review(engine, home, tmp_path):
    (home / "raw.sdc.json").write_text("name,bsn\nJan,123456782\n")
    view = outputs.request(engine, lock_for(tmp_path), home, "alice", "raw.sdc.json", "x")
    assert view.request.checks["status"] == "review"


def test_a_named_pipe_is_refused_without_waiting_for_a_writer(engine, home, tmp_path):
    os.mkfifo(home / "pipe.csv")
    with pytest.raises(airlock.Refused, match="not a regular file"):
        outputs.request(engine, lock_for(tmp_path), home, "alice", "pipe.csv", "x")


def test_one_steward_counts_once_however_often_recorded(engine, home, tmp_path):
    lock = lock_for(tmp_path)
    rid = outputs.request(engine, lock, home, "alice", "results/safe.csv", "x").request.id
    for _ in range(2):  # as a race between two of erin's sessions could record it
        outputs._append(engine, outputs.Event(rid, T0, "erin", "approve"))
    view = outputs.get(engine, rid)
    assert (view.approvers, view.approvals_needed) == (["erin"], 2)
    assert outputs.review(engine, lock, rid, "frank", "approve").state == "released"


def test_a_release_that_failed_on_the_host_is_recorded_and_retried(
    engine, home, tmp_path, monkeypatch
):
    lock = lock_for(tmp_path)
    rid = outputs.request(engine, lock, home, "alice", "results/safe.csv", "x").request.id
    outputs.review(engine, lock, rid, "erin", "approve")
    copy_out = airlock.release

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(airlock, "release", disk_full)
    view = outputs.review(engine, lock, rid, "frank", "approve")
    assert view.state == "approved"
    assert "No space left" in (outputs.release_failure(view) or "")
    assert not (lock.outbox / rid).exists()
    with pytest.raises(outputs.ReviewRefused, match="already approved"):
        outputs.review(engine, lock, rid, "gina", "approve")
    with pytest.raises(outputs.ReleaseFailed, match="failed again"):
        outputs.release(engine, lock, rid, "erin")
    monkeypatch.setattr(airlock, "release", copy_out)
    view = outputs.release(engine, lock, rid, "erin")
    assert view.state == "released" and outputs.release_failure(view) is None
    assert (lock.outbox / rid / "safe.csv").read_text() == SAFE
    assert [(e.actor, e.kind) for e in view.events] == [
        ("erin", "approve"),
        ("frank", "approve"),
        ("airlock", "release-failed"),
        ("erin", "release-failed"),
        ("erin", "release"),
    ]
    assert len(audit.entries(engine, "output-release-failed")) == 2
    assert [e["actor"] for e in audit.entries(engine, "output-release")] == ["erin"]
    assert audit.verify(engine).ok
    with pytest.raises(InvalidInput, match="is released: only an approved request"):
        outputs.release(engine, lock, rid, "erin")


def test_an_outbox_left_by_a_release_not_recorded_is_made_again(engine, home, tmp_path):
    """The outbox folder was written but recording the release failed: the
    retry makes the folder again from the checked copy instead of failing on it."""
    lock = lock_for(tmp_path)
    rid = outputs.request(engine, lock, home, "alice", "results/safe.csv", "x").request.id
    outputs.review(engine, lock, rid, "erin", "approve")
    left = lock.outbox / rid
    (left / "sub").mkdir(parents=True)
    (left / "safe.csv").write_text("half written\n")
    (left / "sub" / "stray.txt").write_text("not requested\n")
    for path in (left / "safe.csv", left / "sub" / "stray.txt"):
        path.chmod(0o400)
    for folder in (left / "sub", left):
        folder.chmod(0o500)
    view = outputs.review(engine, lock, rid, "frank", "approve")
    assert view.state == "released" and outputs.release_failure(view) is None
    assert sorted(p.name for p in left.iterdir()) == sorted(["safe.csv", airlock.MANIFEST])
    assert (left / "safe.csv").read_text() == SAFE
    assert audit.verify(engine).ok
