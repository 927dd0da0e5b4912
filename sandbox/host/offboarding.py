"""Offboarding a user's home volume: archive it, or destroy it, with a digest.

Both read the volume as a tar stream, from a throw-away container of the
sandbox's image (no network, read-only, the home mounted read-only, as the
home's owner). ``archive`` writes it gzipped to a 0600 file and returns the
file's sha256; ``destroy`` hashes the tar stream itself, so the record says
what was destroyed. Either then removes the volume.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .layout import private_dir

HOME = "/home/jovyan"
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Offboarded:
    volume: str
    what: str  # archived | destroyed
    sha256: str  # of the archive file, or of the destroyed volume's tar stream
    size: int  # bytes of the archive, or of the tar stream
    archive: str = ""


class _Hashing:
    """A binary file that hashes and counts what is written to it."""

    def __init__(self, handle):
        self.handle, self.hash, self.size = handle, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        return self.handle.write(data) if self.handle else len(data)

    def flush(self) -> None:
        if self.handle:
            self.handle.flush()


def volumes(prefix: str) -> list[str]:
    """The Docker volumes whose name starts with ``prefix``."""
    found = subprocess.run(
        ["docker", "volume", "ls", "-q", "--filter", f"name=^{prefix}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return sorted(v for v in found.stdout.split() if v.startswith(prefix))


def _tar_stream(volume: str, image: str, uid: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["docker", "run", "--rm", "--network", "none", "--read-only",
         "--user", f"{uid}:{uid}", "--entrypoint", "tar",
         "-v", f"{volume}:{HOME}:ro", image, "-C", HOME, "-cf", "-", "."],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip


def _copy(volume: str, image: str, uid: int, sink: Any) -> None:
    process = _tar_stream(volume, image, uid)
    assert process.stdout is not None
    while chunk := process.stdout.read(CHUNK):
        sink.write(chunk)
    error = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.wait() != 0:
        raise OSError(f"reading volume {volume} failed: {error.strip()[-500:]}")


def remove_volume(volume: str) -> None:
    subprocess.run(["docker", "volume", "rm", "-f", volume], capture_output=True, check=True)


def archive(volume: str, image: str, target: Path, uid: int = 1000) -> Offboarded:
    """The volume as a 0600 ``.tar.gz`` at ``target``; then the volume is removed."""
    private_dir(target.parent)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as raw:
        hashed = _Hashing(raw)
        with gzip.GzipFile(fileobj=hashed, mode="wb", mtime=0) as packed:
            _copy(volume, image, uid, packed)
    remove_volume(volume)
    return Offboarded(volume, "archived", hashed.hash.hexdigest(), hashed.size, str(target))


def destroy(volume: str, image: str, uid: int = 1000) -> Offboarded:
    """Hash the volume's content as a tar stream, then remove the volume."""
    hashed = _Hashing(None)
    _copy(volume, image, uid, hashed)
    remove_volume(volume)
    return Offboarded(volume, "destroyed", hashed.hash.hexdigest(), hashed.size)
