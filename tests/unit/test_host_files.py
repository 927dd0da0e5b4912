"""Secrets, staging and the supervisor: small real file-system and process tests."""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

import pytest

from sandbox.host import daemon
from sandbox.host.secrets import ensure_secrets
from sandbox.host.staging import MANIFEST, StagingError, stage


def test_secrets_are_created_once_with_mode_0600(tmp_path: Path):
    folder = tmp_path / "secrets"
    assert ensure_secrets(folder, ["cookie_secret", "user_password"]) == [
        "cookie_secret",
        "user_password",
    ]
    first = (folder / "cookie_secret").read_text()
    assert len(first.strip()) == 64
    assert ensure_secrets(folder, ["cookie_secret", "user_password"]) == []
    assert (folder / "cookie_secret").read_text() == first
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    for path in folder.iterdir():
        assert oct(path.stat().st_mode & 0o777) == "0o600"


def _source(tmp_path: Path) -> tuple[Path, list[dict[str, str]]]:
    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    (source / "a.csv").write_text("x\n1\n")
    (source / "sub" / "b.csv").write_text("y\n2\n")
    files = [
        {"path": p, "sha256": hashlib.sha256((source / p).read_bytes()).hexdigest()}
        for p in ("a.csv", "sub/b.csv")
    ]
    return source, files


def test_staging_copies_verifies_and_makes_read_only(tmp_path: Path):
    source, files = _source(tmp_path)
    dest = tmp_path / "staged" / "ds" / "1-abc"
    assert stage(source, dest, files) is True
    assert (dest / "sub" / "b.csv").read_text() == "y\n2\n"
    assert oct((dest / "a.csv").stat().st_mode & 0o777) == "0o444"
    assert oct(dest.stat().st_mode & 0o777) == "0o555"
    assert (dest / MANIFEST).is_file()
    assert stage(source, dest, files) is False  # an existing version is never touched


def test_staging_that_another_run_finished_meanwhile_is_left_as_it_is(tmp_path: Path, monkeypatch):
    """Two nodes that share a filesystem stage the same version at once: the
    second rename finds the first's finished copy, keeps it, leaves no temp."""
    source, files = _source(tmp_path)
    dest = tmp_path / "staged" / "ds" / "1-abc"
    rename = os.rename

    def first_run_wins(src, dst):
        monkeypatch.setattr(os, "rename", rename)
        stage(source, dest, files)  # the other run, finishing just before
        rename(src, dst)

    monkeypatch.setattr(os, "rename", first_run_wins)
    assert stage(source, dest, files) is False
    assert (dest / MANIFEST).is_file()
    assert [p.name for p in dest.parent.iterdir()] == ["1-abc"]


def test_staging_refuses_a_checksum_mismatch_and_leaves_nothing(tmp_path: Path):
    source, files = _source(tmp_path)
    files[1]["sha256"] = "0" * 64
    dest = tmp_path / "staged" / "ds" / "1-abc"
    with pytest.raises(StagingError, match=r"sub/b\.csv: sha256"):
        stage(source, dest, files)
    assert not dest.exists()
    assert list((tmp_path / "staged" / "ds").iterdir()) == []


def test_supervisor_starts_restarts_and_stops(tmp_path: Path):
    pidfile, logfile = tmp_path / "run.pid", tmp_path / "run.log"
    marker = tmp_path / "starts"
    script = f"open({str(marker)!r}, 'a').write('x'); import time; time.sleep(60)"
    command = [sys.executable, "-c", script]
    assert daemon.start(pidfile, logfile, command, {}) == "started"
    assert daemon.start(pidfile, logfile, command, {}) == "running"
    supervisor = daemon.read_pid(pidfile)
    assert supervisor
    _wait(lambda: marker.exists() and marker.read_text() == "x")
    # kill the child: the supervisor starts it again
    child = _child_of(supervisor)
    os.kill(child, 9)
    _wait(lambda: marker.read_text() == "xx", timeout=15)
    assert daemon.stop(pidfile) == "stopped"
    assert not pidfile.exists()
    assert daemon.read_pid(pidfile) is None


def _child_of(pid: int) -> int:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                return int(entry.name)
    raise AssertionError("no child process")


def _wait(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")
