"""Re-check dataset files against their data cards: the source files in the
config folder (sha256, and the Table Schema where the card has one) and the
staged copies (sha256), on this machine or, with an inventory, on every node
(each node checks its own copies: ``python -m sandbox.host.checksums``).

The checksum cache (sandbox/host/checksums.py) answers for unchanged files
unless a full check is asked for. Beside the sha256 it keeps the result of
each Table Schema the file was checked against: that result depends on the
content and the schema only, so it is kept while the sha256 stays the same,
also through a full check.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..host.checksums import (
    SOURCE,
    STAGED,
    ChecksumCache,
    FileProblem,
    NodeReport,
    StagedCheck,
    verify_files,
)

if TYPE_CHECKING:  # the hub imports this module: keep its imports light
    from ..config.loader import LoadedConfig
    from ..host.layout import Layout

SCHEMA_FAILURE = "fails its schema"


def tally(states: list[str]) -> str:
    """``ok`` when every file is, else ``1 tampered, 2 ok``."""
    if not states:
        return "no files"
    if all(state == "ok" for state in states):
        return "ok" if len(states) == 1 else f"ok ({len(states)} files)"
    counts = {state: states.count(state) for state in dict.fromkeys(states)}
    return ", ".join(f"{n} {state}" for state, n in counts.items())


@dataclass
class NodeVerification:
    """The staged copies on one inventory node, as the node's own check found
    them, or why the check did not run there (``error``)."""

    node: str
    report: NodeReport | None = None
    error: str = ""  # unreachable, no project venv yet, an unreadable answer

    def check_of(self, path: Path) -> StagedCheck | None:
        """This node's check of the copy at ``path``."""
        found = [c for c in self.report.datasets if c.path == str(path)] if self.report else []
        return found[0] if found else None

    @property
    def problems(self) -> list[FileProblem]:
        checks = self.report.datasets if self.report else []
        return [replace(p, node=self.node) for c in checks for p in c.problems]

    @property
    def ok(self) -> bool:
        return not self.error and not self.problems

    def summary(self) -> str:
        """``2 of 3 datasets staged, ok`` or ``1 problem(s)`` or the error."""
        if self.error or self.report is None:
            return self.error or "no answer"
        staged = sum(1 for c in self.report.datasets if c.staged)
        found = self.problems
        state = f"{len(found)} problem(s)" if found else "ok"
        return f"{staged} of {len(self.report.datasets)} datasets staged, {state}"

    def as_dict(self) -> dict[str, Any]:
        report = self.report
        return {
            "node": self.node,
            "ok": self.ok,
            "error": self.error,
            "python": report.python if report else "",
            "version": report.version if report else "",
            "datasets": [
                {
                    "dataset": c.dataset,
                    "path": c.path,
                    "staged": c.staged,
                    "ok": not c.problems,
                    "files": [{"path": f, STAGED: s} for f, s in c.file_states().items()],
                    "problems": [str(replace(p, node=self.node)) for p in c.problems],
                }
                for c in (report.datasets if report else [])
            ],
        }


@dataclass
class DatasetVerification:
    """One data card's files: the source files in the config folder (sha256 and
    Table Schema) and the staged copy of its current version (sha256), on this
    machine (``staged``) or on each inventory node (``nodes``)."""

    dataset: str
    version: str
    source: Path  # datasets/<id>/ in the config folder
    path: Path  # where this version is staged
    staged: bool | None  # None: this machine's copy not checked (the nodes' are)
    strict: bool  # quality: strict on the card: a schema failure is a problem
    files: tuple[str, ...]  # as the card lists them
    schemas: tuple[str, ...]  # the files with a Table Schema
    source_problems: list[FileProblem] = field(default_factory=list)
    schema_failures: list[FileProblem] = field(default_factory=list)
    staged_problems: list[FileProblem] = field(default_factory=list)
    nodes: list[NodeVerification] = field(default_factory=list)

    @property
    def node_problems(self) -> list[FileProblem]:
        """The nodes' copies of this version that are not as the card says."""
        checks = [(node.node, node.check_of(self.path)) for node in self.nodes]
        return [replace(p, node=name) for name, check in checks if check for p in check.problems]

    @property
    def problems(self) -> list[FileProblem]:
        """What makes ``datasets verify`` fail."""
        schema = self.schema_failures if self.strict else []
        return [*self.source_problems, *schema, *self.staged_problems, *self.node_problems]

    @property
    def warnings(self) -> list[FileProblem]:
        """Schema failures of a card without quality: strict (validate warns of them too)."""
        return [] if self.strict else list(self.schema_failures)

    def file_states(self) -> list[dict[str, str]]:
        """Per file: source ok | missing | changed | unreadable, staged ok | missing |
        tampered | unreadable | not staged (| not checked, with nodes), schema
        ok | fails | none."""
        source = {p.path: p.problem for p in self.source_problems}
        staged = {p.path: p.problem for p in self.staged_problems}
        failing = {p.path for p in self.schema_failures}
        here = "not checked" if self.staged is None else "not staged"
        return [
            {
                "path": name,
                SOURCE: source.get(name, "ok"),
                "schema": "fails" if name in failing else "ok" if name in self.schemas else "none",
                STAGED: staged.get(name, "ok") if self.staged else here,
            }
            for name in self.files
        ]

    def node_states(self) -> dict[str, str]:
        """Per node, its copy of this version: ``ok``, ``not staged``,
        ``1 tampered``, or why the node did not answer."""
        states = {}
        for node in self.nodes:
            check = node.check_of(self.path)
            if check is None:  # the node's table says why
                states[node.node] = "not checked"
            else:
                states[node.node] = tally(list(check.file_states().values()))
        return states

    def as_dict(self) -> dict[str, Any]:
        found = {
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
        if self.nodes:
            found["nodes"] = self.node_states()
        return found


@dataclass
class CatalogVerification:
    datasets: list[DatasetVerification]
    files_read: int = 0  # hashed in full, not answered from the cache
    schemas_checked: int = 0  # checked against their Table Schema, not from the cache
    nodes: list[NodeVerification] | None = None  # with an inventory: each node's copies

    @property
    def problems(self) -> list[FileProblem]:
        return [p for d in self.datasets for p in d.problems]

    @property
    def node_errors(self) -> list[str]:
        """Nodes whose check did not run, each as ``node: why``."""
        return [f"{n.node}: {n.error}" for n in self.nodes or [] if n.error]

    @property
    def ok(self) -> bool:
        return not self.problems and not self.node_errors

    @property
    def warnings(self) -> list[FileProblem]:
        return [w for d in self.datasets for w in d.warnings]

    def add_nodes(self, nodes: list[NodeVerification]) -> None:
        """Each node's answer, beside the datasets it is about."""
        self.nodes = nodes
        for check in self.datasets:
            check.nodes = nodes
        self.files_read += sum(c.hashed for n in nodes if n.report for c in n.report.datasets)


def node_verification(node: str, output: str, error: str = "") -> NodeVerification:
    """A node's answer: the JSON ``python -m sandbox.host.checksums`` printed
    there, or the error its task failed with."""
    if error:
        return NodeVerification(node, error=error)
    try:
        return NodeVerification(node, NodeReport.from_dict(json.loads(output)))
    except (ValueError, KeyError, TypeError) as exc:
        return NodeVerification(node, error=f"unreadable answer ({exc}): {output[:200]!r}")


def verify_catalog(
    loaded: LoadedConfig,
    layout: Layout,
    dataset: str | None = None,
    *,
    full: bool = False,
    staged_here: bool = True,
) -> CatalogVerification:
    """Every card's source files against its sha256 and Table Schema, and
    (``staged_here``) the staged copy of its current version where this
    machine has one."""
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
            staged=staged.path.is_dir() if staged_here else None,
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
