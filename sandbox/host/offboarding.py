"""Offboarding a user's home volume: archive it, or destroy it, with a digest.

Both read the volume as a tar stream, from a throw-away container of the
sandbox's image (no network, read-only, the home mounted read-only). tar
runs as root with every capability dropped but DAC_READ_SEARCH: it reads
every file, also one its owner made unreadable (``chmod 000``), and can
change nothing. ``archive`` writes it gzipped to a 0600 file and returns the
file's sha256; ``destroy`` hashes the tar stream itself, so the record says
what was destroyed. Either then removes the volume; a volume that could not
be read completely is kept.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import tempfile
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
    error: str = ""  # why a volume was not offboarded (``what`` is then "failed")


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


def tar_command(volume: str, image: str) -> list[str]:
    return ["docker", "run", "--rm", "--network", "none", "--read-only",
            "--user", "0:0", "--cap-drop", "ALL", "--cap-add", "DAC_READ_SEARCH",
            "--security-opt", "no-new-privileges", "--entrypoint", "tar",
            "-v", f"{volume}:{HOME}:ro", image, "-C", HOME, "-cf", "-", "."]  # fmt: skip


def copy_stream(command: list[str], sink: Any) -> None:
    """Write the stdout of ``command`` to ``sink``; OSError if it fails.

    stderr goes to a file, not a pipe: a pipe nobody reads while stdout is
    copied fills up and blocks the command."""
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)
        assert process.stdout is not None
        try:
            while chunk := process.stdout.read(CHUNK):
                sink.write(chunk)
        except BaseException:
            process.kill()
            raise
        finally:
            process.stdout.close()
            code = process.wait()
        if code != 0:
            errors.seek(0)
            said = errors.read().decode(errors="replace").strip()
            raise OSError(f"{command[0]} exited {code}: {said[-500:]}")


def _copy(volume: str, image: str, sink: Any) -> None:
    try:
        copy_stream(tar_command(volume, image), sink)
    except OSError as exc:
        raise OSError(f"reading volume {volume} failed: {exc}") from exc


def remove_volume(volume: str) -> None:
    subprocess.run(["docker", "volume", "rm", "-f", volume], capture_output=True, check=True)


def archive(volume: str, image: str, target: Path) -> Offboarded:
    """The volume as a 0600 ``.tar.gz`` at ``target``; then the volume is removed.
    A partial archive is deleted and the volume kept."""
    private_dir(target.parent)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as raw:
            hashed = _Hashing(raw)
            with gzip.GzipFile(fileobj=hashed, mode="wb", mtime=0) as packed:
                _copy(volume, image, packed)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    remove_volume(volume)
    return Offboarded(volume, "archived", hashed.hash.hexdigest(), hashed.size, str(target))


def destroy(volume: str, image: str) -> Offboarded:
    """Hash the volume's content as a tar stream, then remove the volume."""
    hashed = _Hashing(None)
    _copy(volume, image, hashed)
    remove_volume(volume)
    return Offboarded(volume, "destroyed", hashed.hash.hexdigest(), hashed.size)
