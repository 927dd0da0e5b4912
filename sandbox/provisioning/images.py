"""Notebook images: a tag that changes exactly when the image's inputs change."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidInput

DEFAULT_BASE = "debian:bookworm-slim"
LOCAL_BASE = "sandbox-base:bookworm"


@dataclass(frozen=True)
class ImageSpec:
    name: str
    context: Path
    tag: str
    jupyterhub_version: str


def inputs_digest(context: Path, jupyterhub_version: str) -> str:
    digest = hashlib.sha256(f"jupyterhub=={jupyterhub_version}\n".encode())
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(context)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def image_spec(images_dir: Path, name: str, jupyterhub_version: str) -> ImageSpec:
    context = images_dir / name
    if not (context / "Dockerfile").is_file():
        raise InvalidInput(f"image {name!r}: no Dockerfile in {context}")
    digest = inputs_digest(context, jupyterhub_version)
    return ImageSpec(name, context, f"sandbox-{name}:{digest[:12]}", jupyterhub_version)
