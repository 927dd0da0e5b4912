"""The curated dataset catalog: which data cards exist and where their staged
copies live.

A staged copy is immutable: its folder name carries the card's version and a
digest of its files' checksums, so a new version lands beside the old one and
never overwrites what running servers have mounted.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..config.loader import LoadedConfig
from ..config.model import DataCard, Sandbox
from ..host.layout import Layout


@dataclass(frozen=True)
class StagedDataset:
    id: str
    version: str
    digest: str  # sha256 over the card and its files' checksums
    path: Path  # the staged, read-only folder on the target host
    source: Path  # datasets/<id>/ in the config directory
    files: tuple[tuple[str, str], ...]  # (relative path, sha256)
    valid_until: date | None = None  # the data agreement's end
    legal_basis: tuple[str, ...] = ()
    processing_activity: str = ""
    card: DataCard | None = field(default=None, compare=False, repr=False)

    @property
    def version_key(self) -> str:
        return f"{self.version}-{self.digest[:12]}"


def content_digest(card: DataCard) -> str:
    """Changes when a file or any governance field of the card changes, so the
    staged copy (with its DATACARD.md) is then a new version."""
    digest = hashlib.sha256(card.model_dump_json(by_alias=True).encode())
    for data_file in sorted(card.files, key=lambda f: f.path):
        digest.update(f"{data_file.path}\0{data_file.sha256}\n".encode())
    return digest.hexdigest()


def granted_ids(sandbox: Sandbox) -> list[str]:
    return sorted({grant.dataset for group in sandbox.groups for grant in group.grants})


def staged_dataset(loaded: LoadedConfig, dataset_id: str, layout: Layout) -> StagedDataset:
    """Where the current version of a data card is (or will be) staged."""
    entry = loaded.cards[dataset_id]
    card = entry.card
    digest = content_digest(card)
    return StagedDataset(
        id=dataset_id,
        version=card.version,
        digest=digest,
        path=layout.dataset_version_dir(dataset_id, f"{card.version}-{digest[:12]}"),
        source=entry.data_dir,
        files=tuple((f.path, f.sha256) for f in card.files),
        valid_until=card.agreement.valid_until if card.agreement else None,
        legal_basis=tuple(f"{b.ground}: {b.reference}" for b in card.legal_basis),
        processing_activity=card.processing_activity or "",
        card=card,
    )


def staged_datasets(
    loaded: LoadedConfig, sandbox: Sandbox, layout: Layout
) -> dict[str, StagedDataset]:
    """The staged copies a sandbox needs: every dataset granted to one of its groups."""
    return {i: staged_dataset(loaded, i, layout) for i in granted_ids(sandbox)}


def generated_files(staged: StagedDataset) -> dict[str, str]:
    """DATACARD.md, datapackage.json and quality.json for a staged copy."""
    from .datacard import data_package, render_markdown
    from .quality import check_dataset

    assert staged.card is not None
    quality = check_dataset(staged.source, staged.card).as_dict()
    return {
        "DATACARD.md": render_markdown(staged.card, quality),
        "datapackage.json": json.dumps(data_package(staged.card, quality), indent=2) + "\n",
        "quality.json": json.dumps(quality, indent=2, sort_keys=True) + "\n",
    }
