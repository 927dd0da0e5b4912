"""Check dataset files against their sha256 (standard library only: every node
runs it from the project's venv, the hub and ``sandbox datasets verify`` import it).

A small cache remembers (size, mtime, inode) -> sha256 per file, so unchanged
files are not re-read unless a full check is asked for. Tampering that keeps
size and mtime (and inode) is only caught by a full check.

``python -m sandbox.host.checksums [--full] [--cache FILE] DATASETS_JSON``
checks the staged copies on this node: DATASETS_JSON is a list of
``{"id", "dest", "files": [{"path", "sha256"}]}`` (the entries ``sandbox up``
stages); it prints one JSON object (``NodeReport``) and exits 0 whatever it
found, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from .hashing import sha256_file

SOURCE, STAGED = "source", "staged"
DISTRIBUTION = "data-sandbox"


@dataclass(frozen=True)
class FileProblem:
    dataset: str
    path: str  # as the card lists it
    problem: str  # missing | tampered (changed, in the source) | unreadable | fails its schema
    detail: str = ""
    copy: str = ""  # source (the config folder) | staged; empty: the only copy checked
    location: str = ""  # the file's full path, when ``copy`` is set
    node: str = ""  # the inventory host whose copy this is (``datasets verify -i``)

    def __str__(self) -> str:
        extra = f" ({self.detail})" if self.detail else ""
        copy = f"{self.copy} on {self.node}" if self.node else self.copy
        where = f"{copy} {self.location}" if self.copy else self.path
        return f"{self.dataset}: {where}: {self.problem}{extra}"


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
        old = self.entries.get(str(file)) or []
        schema_results = old[4:5] if len(old) > 4 and old[3] == digest else []
        self.entries[str(file)] = [
            stat.st_size,
            stat.st_mtime_ns,
            stat.st_ino,
            digest,
            *schema_results,
        ]
        self.dirty = True

    def schema_result(self, file: Path, stat: os.stat_result, schema_key: str) -> str | None:
        """The schema check kept for this file as it is now ("" when it passed)."""
        entry = self.entries.get(str(file)) or []
        if not self.lookup(file, stat) or len(entry) < 5 or not isinstance(entry[4], dict):
            return None
        kept = entry[4].get(schema_key)
        return kept if isinstance(kept, str) else None

    def store_schema_result(
        self, file: Path, stat: os.stat_result, schema_key: str, failure: str
    ) -> None:
        """Kept only beside the checksum of the same (size, mtime, inode)."""
        entry = self.entries.get(str(file))
        if not self.lookup(file, stat) or entry is None:
            return
        results = entry[4] if len(entry) > 4 and isinstance(entry[4], dict) else {}
        self.entries[str(file)] = [*entry[:4], {**results, schema_key: failure}]
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
    copy: str = "",
) -> VerifyResult:
    """``copy`` (source | staged) names the copy and each file's full path in problems."""
    result = VerifyResult(problems=[])
    for relative, expected in files:
        target = folder / relative
        location = str(target) if copy else ""
        result.checked += 1
        try:
            stat = target.stat()
        except FileNotFoundError:
            result.problems.append(FileProblem(dataset, relative, "missing", "", copy, location))
            continue
        digest = None if full else cache.lookup(target, stat)
        if digest is None:
            try:
                digest = sha256_file(target)
            except OSError as exc:
                unreadable = FileProblem(dataset, relative, "unreadable", str(exc), copy, location)
                result.problems.append(unreadable)
                continue
            result.hashed += 1
            cache.store(target, stat, digest)
        if digest != expected:
            detail = f"sha256 {digest}, card says {expected}"
            # a source file may be edited on purpose (then the card is updated);
            # a staged copy is read-only and never legitimately changes
            kind = "changed" if copy == SOURCE else "tampered"
            result.problems.append(FileProblem(dataset, relative, kind, detail, copy, location))
    return result


# --- on a node: the staged copies


@dataclass
class StagedCheck:
    """One dataset version's staged copy on a node."""

    dataset: str
    path: str
    staged: bool
    files: list[str]
    problems: list[FileProblem]
    hashed: int = 0

    def file_states(self) -> dict[str, str]:
        """Per file: ok | missing | tampered | unreadable | not staged."""
        found = {p.path: p.problem for p in self.problems}
        return {name: found.get(name, "ok") if self.staged else "not staged" for name in self.files}


@dataclass
class NodeReport:
    """What one node found, and with which Python and which build of the project."""

    python: str
    version: str  # data-sandbox as installed beside that Python ("" when not found)
    datasets: list[StagedCheck]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NodeReport:
        """The report as a node printed it (``as_dict``); KeyError or TypeError if it is not one."""
        checks = [
            StagedCheck(
                dataset=str(item["dataset"]),
                path=str(item["path"]),
                staged=bool(item["staged"]),
                files=[str(f) for f in item["files"]],
                problems=[FileProblem(**problem) for problem in item["problems"]],
                hashed=int(item.get("hashed", 0)),
            )
            for item in data["datasets"]
        ]
        return cls(str(data["python"]), str(data["version"]), checks)


def check_staged(
    entries: list[dict[str, Any]], cache: ChecksumCache, *, full: bool = False
) -> list[StagedCheck]:
    """Each entry's staged copy (``dest``) against its files' sha256; a copy
    that is not there is reported as not staged, not as a problem."""
    checks = []
    for entry in entries:
        dest = Path(entry["dest"])
        files = [(f["path"], f["sha256"]) for f in entry["files"]]
        check = StagedCheck(entry["id"], str(dest), dest.is_dir(), [p for p, _ in files], [])
        if check.staged:
            found = verify_files(entry["id"], dest, files, cache, full=full, copy=STAGED)
            check.problems, check.hashed = found.problems, found.hashed
        checks.append(check)
    return checks


def installed_version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return ""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.host.checksums")
    parser.add_argument("--full", action="store_true", help="re-read every file")
    parser.add_argument("--cache", type=Path, help="the checksum cache (<state>/checksums.json)")
    parser.add_argument("datasets", help="JSON list of {id, dest, files: [{path, sha256}]}")
    args = parser.parse_args(argv)
    cache = ChecksumCache(args.cache)
    try:
        checks = check_staged(json.loads(args.datasets), cache, full=args.full)
    except (ValueError, KeyError, TypeError) as exc:
        print(f"bad datasets argument: {exc}", file=sys.stderr)
        return 2
    with contextlib.suppress(OSError):  # a cache that cannot be kept only costs time
        cache.save()
    print(json.dumps(NodeReport(sys.executable, installed_version(), checks).as_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
