"""The curated dataset catalog: which data cards exist and where their staged
copies live.

A staged copy is immutable: its folder name carries the card's version and a
digest of its files' checksums, so a new version lands beside the old one and
never overwrites what running servers have mounted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .config import LoadedConfig
from .layout import Layout
from .model import Sandbox


@dataclass(frozen=True)
class StagedDataset:
    id: str
    version: str
    digest: str  # sha256 over the card's (path, sha256) pairs
    path: Path  # the staged, read-only folder on the target host
    source: Path  # datasets/<id>/ in the config directory
    files: tuple[tuple[str, str], ...]  # (relative path, sha256)

    @property
    def version_key(self) -> str:
        return f"{self.version}-{self.digest[:12]}"


def content_digest(files: tuple[tuple[str, str], ...]) -> str:
    digest = hashlib.sha256()
    for path, sha in sorted(files):
        digest.update(f"{path}\0{sha}\n".encode())
    return digest.hexdigest()


def granted_ids(sandbox: Sandbox) -> list[str]:
    return sorted({grant.dataset for group in sandbox.groups for grant in group.grants})


def staged_datasets(
    loaded: LoadedConfig, sandbox: Sandbox, layout: Layout
) -> dict[str, StagedDataset]:
    """The staged copies a sandbox needs: every dataset granted to one of its groups."""
    out: dict[str, StagedDataset] = {}
    for dataset_id in granted_ids(sandbox):
        card_entry = loaded.cards[dataset_id]
        card = card_entry.card
        files = tuple((f.path, f.sha256) for f in card.files)
        digest = content_digest(files)
        key = f"{card.version}-{digest[:12]}"
        out[dataset_id] = StagedDataset(
            id=dataset_id,
            version=card.version,
            digest=digest,
            path=layout.dataset_version_dir(dataset_id, key),
            source=card_entry.data_dir,
            files=files,
        )
    return out
