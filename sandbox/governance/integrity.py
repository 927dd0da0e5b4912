"""Re-check dataset files against their data cards: the source files in the
config folder (sha256, and the Table Schema where the card has one) and the
staged copies (sha256).

A small cache remembers (size, mtime, inode) -> sha256 per file, so unchanged
files are not re-read unless a full check is asked for. Tampering that keeps
size and mtime (and inode) is only caught by ``full=True``. Beside the sha256
it keeps the result of each Table Schema the file was checked against: that
result depends on the content and the schema only, so it is kept while the
sha256 stays the same, also through a full check.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..host.hashing import sha256_file

if TYPE_CHECKING:  # the hub imports this module: keep its imports light
    from ..config.loader import LoadedConfig
    from ..host.layout import Layout

SOURCE, STAGED = "source", "staged"
SCHEMA_FAILURE = "fails its schema"


@dataclass(frozen=True)
class FileProblem:
    dataset: str
    path: str  # as the card lists it
    problem: str  # missing | tampered (changed, in the source) | unreadable | fails its schema
    detail: str = ""
    copy: str = ""  # source (the config folder) | staged; empty: the only copy checked
    location: str = ""  # the file's full path, when ``copy`` is set

    def __str__(self) -> str:
        extra = f" ({self.detail})" if self.detail else ""
        where = f"{self.copy} {self.location}" if self.copy else self.path
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


@dataclass
class DatasetVerification:
    """One data card's files: the source files in the config folder (sha256 and
    Table Schema) and the staged copy of its current version (sha256)."""

    dataset: str
    version: str
    source: Path  # datasets/<id>/ in the config folder
    path: Path  # where this version is staged
    staged: bool
    strict: bool  # quality: strict on the card: a schema failure is a problem
    files: tuple[str, ...]  # as the card lists them
    schemas: tuple[str, ...]  # the files with a Table Schema
    source_problems: list[FileProblem] = field(default_factory=list)
    schema_failures: list[FileProblem] = field(default_factory=list)
    staged_problems: list[FileProblem] = field(default_factory=list)

    @property
    def problems(self) -> list[FileProblem]:
        """What makes ``datasets verify`` fail."""
        schema = self.schema_failures if self.strict else []
        return [*self.source_problems, *schema, *self.staged_problems]

    @property
    def warnings(self) -> list[FileProblem]:
        """Schema failures of a card without quality: strict (validate warns of them too)."""
        return [] if self.strict else list(self.schema_failures)

    def file_states(self) -> list[dict[str, str]]:
        """Per file: source ok | missing | changed | unreadable, staged ok | missing |
        tampered | unreadable | not staged, schema ok | fails | none."""
        source = {p.path: p.problem for p in self.source_problems}
        staged = {p.path: p.problem for p in self.staged_problems}
        failing = {p.path for p in self.schema_failures}
        return [
            {
                "path": name,
                SOURCE: source.get(name, "ok"),
                "schema": "fails" if name in failing else "ok" if name in self.schemas else "none",
                STAGED: staged.get(name, "ok") if self.staged else "not staged",
            }
            for name in self.files
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "version": self.version,
            "ok": not self.problems,
            "source": str(self.source),
            "staged": self.staged,
            "path": str(self.path),
            "strict": self.strict,
            "problems": [str(p) for p in self.problems],
            "warnings": [str(p) for p in self.warnings],
            "files": self.file_states(),
        }


@dataclass
class CatalogVerification:
    datasets: list[DatasetVerification]
    files_read: int = 0  # hashed in full, not answered from the cache
    schemas_checked: int = 0  # checked against their Table Schema, not from the cache

    @property
    def problems(self) -> list[FileProblem]:
        return [p for d in self.datasets for p in d.problems]

    @property
    def warnings(self) -> list[FileProblem]:
        return [w for d in self.datasets for w in d.warnings]


def verify_catalog(
    loaded: LoadedConfig, layout: Layout, dataset: str | None = None, *, full: bool = False
) -> CatalogVerification:
    """Every card's source files against its sha256 and Table Schema, and the
    staged copy of its current version where this machine has one."""
    from ..errors import InvalidInput
    from .catalog import staged_dataset

    if dataset is not None and dataset not in loaded.cards:
        raise InvalidInput(f"unknown dataset {dataset!r} (known: {', '.join(loaded.cards)})")
    cache = ChecksumCache(layout.verify_cache())
    result = CatalogVerification(datasets=[])
    for dataset_id in [dataset] if dataset else sorted(loaded.cards):
        entry = loaded.cards[dataset_id]
        staged = staged_dataset(loaded, dataset_id, layout)
        files = list(staged.files)
        check = DatasetVerification(
            dataset=dataset_id,
            version=staged.version,
            source=entry.data_dir,
            path=staged.path,
            staged=staged.path.is_dir(),
            strict=entry.card.quality == "strict",
            files=tuple(name for name, _ in files),
            schemas=tuple(f.path for f in entry.card.files if f.table_schema is not None),
        )
        source = verify_files(dataset_id, entry.data_dir, files, cache, full=full, copy=SOURCE)
        check.source_problems = source.problems
        result.files_read += source.hashed
        for data_file in entry.card.files:
            if data_file.table_schema is not None:
                target = entry.file_path(data_file.path)
                failure, checked = _schema_check(target, data_file.table_schema, cache)
                result.schemas_checked += checked
                if failure:
                    check.schema_failures.append(
                        FileProblem(
                            dataset_id, data_file.path, SCHEMA_FAILURE, failure, SOURCE, str(target)
                        )
                    )
        if check.staged:
            copy = verify_files(dataset_id, staged.path, files, cache, full=full, copy=STAGED)
            check.staged_problems = copy.problems
            result.files_read += copy.hashed
        result.datasets.append(check)
    cache.save()
    return result


def _schema_check(
    target: Path, table_schema: dict[str, Any], cache: ChecksumCache
) -> tuple[str, bool]:
    """The file's schema failure ("" when it passes) and whether it was checked
    now; a file that cannot be read is left to the checksum check."""
    from .quality import check_file

    try:
        stat = target.stat()
    except OSError:
        return "", False
    key = hashlib.sha256(json.dumps(table_schema, sort_keys=True).encode()).hexdigest()
    # the checksum check just (re)stored this file's sha256; a result kept
    # beside it is for this very content, so even a full check may reuse it
    kept = cache.schema_result(target, stat, key)
    if kept is not None:
        return kept, False
    quality = check_file(target, table_schema)
    failure = "" if quality.valid else _schema_summary(quality)
    cache.store_schema_result(target, stat, key, failure)
    return failure, True


def _schema_summary(quality: Any) -> str:
    """``2 problem(s): row 5, field bouwjaar: constraint-error: ...; ...``."""
    count = f"{quality.error_count}{'+' if quality.error_limit_reached else ''}"
    shown = "; ".join(quality.first_errors[:3])
    more = f"; and {quality.error_count - 3} more" if quality.error_count > 3 else ""
    return f"{count} problem(s): {shown}{more}"
