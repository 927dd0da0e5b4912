"""Re-check staged dataset copies against their data cards.

A small cache remembers (size, mtime, inode) -> sha256 per file, so unchanged
files are not re-read unless a full check is asked for. Tampering that keeps
size and mtime (and inode) is only caught by ``full=True``.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..host.hashing import sha256_file


@dataclass(frozen=True)
class FileProblem:
    dataset: str
    path: str
    problem: str  # missing | tampered | unreadable
    detail: str = ""

    def __str__(self) -> str:
        extra = f" ({self.detail})" if self.detail else ""
        return f"{self.dataset}: {self.path}: {self.problem}{extra}"


@dataclass
class VerifyResult:
    problems: list[FileProblem]
    checked: int = 0
    hashed: int = 0  # files actually read (not answered from the cache)

    @property
    def ok(self) -> bool:
        return not self.problems


class ChecksumCache:
    """(path, size, mtime_ns, inode) -> sha256, kept in one JSON file."""

    def __init__(self, path: Path | None):
        self.path = path
        self.entries: dict[str, list] = {}
        if path and path.is_file():
            try:
                self.entries = json.loads(path.read_text())
            except ValueError:
                self.entries = {}
        self.dirty = False

    def lookup(self, file: Path, stat: os.stat_result) -> str | None:
        entry = self.entries.get(str(file))
        if entry and entry[:3] == [stat.st_size, stat.st_mtime_ns, stat.st_ino]:
            return str(entry[3])
        return None

    def store(self, file: Path, stat: os.stat_result, digest: str) -> None:
        self.entries[str(file)] = [stat.st_size, stat.st_mtime_ns, stat.st_ino, digest]
        self.dirty = True

    def save(self) -> None:
        if not (self.path and self.dirty):
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".cache.")
        with os.fdopen(fd, "w") as handle:
            json.dump(self.entries, handle)
        os.replace(tmp, self.path)
        self.dirty = False


def verify_files(
    dataset: str,
    folder: Path,
    files: list[tuple[str, str]],
    cache: ChecksumCache,
    *,
    full: bool = False,
) -> VerifyResult:
    result = VerifyResult(problems=[])
    for relative, expected in files:
        target = folder / relative
        result.checked += 1
        try:
            stat = target.stat()
        except FileNotFoundError:
            result.problems.append(FileProblem(dataset, relative, "missing"))
            continue
        digest = None if full else cache.lookup(target, stat)
        if digest is None:
            try:
                digest = sha256_file(target)
            except OSError as exc:
                result.problems.append(FileProblem(dataset, relative, "unreadable", str(exc)))
                continue
            result.hashed += 1
            cache.store(target, stat, digest)
        if digest != expected:
            result.problems.append(
                FileProblem(dataset, relative, "tampered", f"sha256 {digest}, card says {expected}")
            )
    return result
