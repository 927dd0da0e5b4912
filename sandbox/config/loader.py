"""Load a config directory: ``sandbox.yaml``, its data cards and their files.

Every problem found is collected and raised together as one ``ConfigError``,
each as ``file:line: key: message``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import ConfigError, Problem
from ..host.hashing import sha256_file
from .messages import describe
from .model import DataCard, SandboxConfig
from .yamlsource import YamlDocument, load_yaml

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class LoadedCard:
    card: DataCard
    doc: YamlDocument
    data_dir: Path  # datasets/<id>/ : where the card's files live

    def file_path(self, relative: str) -> Path:
        return self.data_dir / relative


@dataclass(frozen=True)
class LoadedConfig:
    path: Path
    config: SandboxConfig
    doc: YamlDocument
    datasets_dir: Path
    cards: dict[str, LoadedCard]

    @property
    def base_dir(self) -> Path:
        return self.path.parent


def load_config(
    path: str | Path, *, verify_checksums: bool = True, require_files: bool = True
) -> LoadedConfig:
    """Load and validate everything; raise ``ConfigError`` listing every problem.

    ``require_files=False`` lets a card's missing data file pass (``datasets
    verify`` reports it as missing itself)."""
    path = Path(path)
    problems: list[Problem] = []
    doc = load_yaml(path)
    config = _validate(SandboxConfig, doc, problems)
    datasets_rel = config.datasets if config else _datasets_key(doc.data)
    datasets_dir = (path.parent / datasets_rel).resolve()
    cards, failed = _load_cards(datasets_dir, problems, verify_checksums, require_files)
    if config is not None:
        problems.extend(_check_grants(config, doc, cards, failed))
    if problems or config is None:
        raise ConfigError(in_reading_order(problems))
    return LoadedConfig(path, config, doc, datasets_dir, cards)


def in_reading_order(problems: list[Problem]) -> list[Problem]:
    """Files in the order they were read; within a file, by line."""
    first_seen = {p.file: i for i, p in reversed(list(enumerate(problems)))}
    return sorted(problems, key=lambda p: (first_seen[p.file], p.line or 0))


def datasets_dir_of(config_path: Path) -> Path:
    """The datasets folder a sandbox.yaml names (``datasets/`` beside it by
    default), read even when the rest of the file does not validate."""
    return (config_path.parent / _datasets_key(load_yaml(config_path).data)).resolve()


def _datasets_key(data: Any) -> str:
    value = data.get("datasets") if isinstance(data, dict) else None
    return value if isinstance(value, str) else "datasets/"


def _validate(model: type[M], doc: YamlDocument, problems: list[Problem]) -> M | None:
    """The model of ``doc``, or None with its problems added (a key given twice
    is a problem even when the document validates)."""
    problems.extend(doc.duplicates)
    if not isinstance(doc.data, dict):
        problems.append(doc.problem((), "expected a mapping at the top level"))
        return None
    try:
        validated = model.model_validate(doc.data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            problems.append(doc.problem(loc, describe(error, model, doc.plain)))
        return None
    return validated


def _display(path: Path) -> str:
    """A path as the user would write it: relative to the working directory when inside it."""
    try:
        relative = Path(os.path.relpath(path))
    except ValueError:
        return str(path)
    return str(path) if relative.parts[:1] == ("..",) else str(relative)


def _load_cards(
    datasets_dir: Path, problems: list[Problem], verify_checksums: bool, require_files: bool
) -> tuple[dict[str, LoadedCard], set[str]]:
    """The cards that load, and the ids (file names) of those that do not:
    their problems are reported once, not again for every grant of them."""
    cards: dict[str, LoadedCard] = {}
    failed: set[str] = set()
    if not datasets_dir.is_dir():
        problems.append(Problem(_display(datasets_dir), None, "datasets", "folder not found"))
        return cards, failed
    for card_path in sorted(datasets_dir.glob("*.yaml")) + sorted(datasets_dir.glob("*.yml")):
        try:
            doc = load_yaml(card_path, _display(card_path))
        except ConfigError as exc:
            problems.extend(exc.problems)
            failed.add(card_path.stem)
            continue
        card = _validate(DataCard, doc, problems)
        if card is None:
            failed.add(card_path.stem)
            continue
        if card.id != card_path.stem:
            problems.append(doc.problem(("id",), f"must match the file name {card_path.stem!r}"))
            continue
        if card.id in cards:
            problems.append(doc.problem(("id",), "duplicate dataset id"))
            continue
        loaded = LoadedCard(card, doc, datasets_dir / card.id)
        checked = check_files(
            loaded, verify_checksums=verify_checksums, require_files=require_files
        )
        problems.extend(checked)
        cards[card.id] = loaded
    return cards, failed


def check_files(
    loaded: LoadedCard, *, verify_checksums: bool = True, require_files: bool = True
) -> list[Problem]:
    """Path safety, presence and sha256 of every file of a data card."""
    problems: list[Problem] = []
    root = loaded.data_dir.resolve()
    for index, data_file in enumerate(loaded.card.files):
        loc = ("files", index, "path")
        relative = Path(data_file.path)
        if relative.is_absolute():
            problems.append(loaded.doc.problem(loc, "must be relative to datasets/<id>/"))
            continue
        if ".." in relative.parts:
            problems.append(loaded.doc.problem(loc, "must not contain '..'"))
            continue
        target = loaded.data_dir / relative
        resolved = target.resolve()
        if not resolved.is_relative_to(root):
            problems.append(
                loaded.doc.problem(loc, f"{data_file.path} resolves outside {loaded.data_dir}")
            )
            continue
        if not resolved.is_file():
            if require_files:
                problems.append(loaded.doc.problem(loc, f"file not found: {target}"))
            continue
        if verify_checksums:
            actual = sha256_file(resolved)
            if actual != data_file.sha256:
                problems.append(
                    loaded.doc.problem(
                        ("files", index, "sha256"),
                        f"checksum mismatch for {data_file.path}: file has {actual}",
                    )
                )
    return problems


def _check_grants(
    config: SandboxConfig, doc: YamlDocument, cards: dict[str, LoadedCard], failed: set[str]
) -> list[Problem]:
    problems: list[Problem] = []
    for s, sandbox in enumerate(config.sandboxes):
        for g, group in enumerate(sandbox.groups):
            for i, grant in enumerate(group.grants):
                if grant.dataset not in cards and grant.dataset not in failed:
                    loc = ("sandboxes", s, "groups", g, "grants", i, "dataset")
                    known = ", ".join(sorted(cards)) or "none"
                    problems.append(
                        doc.problem(loc, f"unknown dataset {grant.dataset!r} (known: {known})")
                    )
    return problems
