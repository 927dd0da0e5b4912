"""The Docker volumes of homes and team folders, read and written from
throw-away containers of the sandbox's image (no network, read-only root):
offboarding (archive or destroy, with a digest), backup and restore, and the
file listing and removal that retention of derived data needs.

Offboarding reads a volume as a tar stream. tar runs as root with every
capability dropped but DAC_READ_SEARCH: it reads every file, also one its
owner made unreadable (``chmod 000``), and can change nothing. ``archive``
writes it gzipped to a 0600 file and returns the file's sha256; ``destroy``
hashes the tar stream itself, so the record says what was destroyed. Either
then removes the volume; a volume that could not be read completely is kept.
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
from .names import LABEL_GROUP, LABEL_SANDBOX

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


def team_volumes(sandbox: str) -> dict[str, str]:
    """group -> the volume of its team folder in ``sandbox`` (found by labels)."""
    shown = f'{{{{.Label "{LABEL_GROUP}"}}}} {{{{.Name}}}}'
    found = subprocess.run(
        ["docker", "volume", "ls", "--filter", f"label={LABEL_SANDBOX}={sandbox}",
         "--filter", f"label={LABEL_GROUP}", "--format", shown],
        capture_output=True,
        text=True,
        check=True,
    )  # fmt: skip
    return dict(line.split(" ", 1) for line in found.stdout.splitlines() if " " in line)


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


def _root_reader(volume: str, image: str, mode: str, *command: str) -> list[str]:
    """A throw-away container with ``volume`` at /folder, running ``command``
    as root that may read (and with ``mode`` rw, remove) any file in it."""
    caps = ["--cap-add", "DAC_READ_SEARCH"]
    if mode == "rw":
        caps += ["--cap-add", "DAC_OVERRIDE", "--cap-add", "FOWNER"]
    return ["docker", "run", "--rm", "--network", "none", "--read-only", "--user", "0:0",
            "--cap-drop", "ALL", *caps, "--security-opt", "no-new-privileges",
            "--entrypoint", command[0], "-w", "/folder", "-v", f"{volume}:/folder:{mode}",
            image, *command[1:]]  # fmt: skip


@dataclass(frozen=True)
class FolderFile:
    path: str  # relative to the folder
    size: int
    modified: float  # seconds since the epoch


def folder_files(volume: str, image: str) -> list[FolderFile]:
    """Every regular file in the volume, with its size and last change."""
    listed = subprocess.run(
        _root_reader(volume, image, "ro", "find", ".", "-type", "f", "-printf", r"%s %T@ %P\0"),
        capture_output=True,
        check=True,
    )
    files = []
    for item in listed.stdout.split(b"\0"):
        if item:
            size, modified, path = item.split(b" ", 2)
            files.append(
                FolderFile(path.decode(errors="surrogateescape"), int(size), float(modified))
            )
    return files


def remove_files(volume: str, image: str, paths: list[str]) -> dict[str, str]:
    """Remove ``paths`` (relative) from the volume; their sha256 before removal."""
    if not paths:
        return {}
    script = 'for f in "$@"; do sha256sum -- "$f" && rm -f -- "$f"; done'
    done = subprocess.run(
        _root_reader(volume, image, "rw", "sh", "-c", script, "sh", *paths),
        capture_output=True,
        check=True,
    )
    digests = {}
    for line in done.stdout.decode(errors="surrogateescape").splitlines():
        digest, _, path = line.partition("  ")
        digests[path] = digest
    return digests


def save_volume(volume: str, image: str, target: Path) -> str:
    """The volume as a tar file at ``target`` (0600); its sha256."""
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as raw:
        hashed = _Hashing(raw)
        _copy(volume, image, hashed)
    return hashed.hash.hexdigest()


def load_volume(volume: str, labels: dict[str, str], image: str, source: Path) -> None:
    """Make ``volume`` (labelled) and unpack the tar file ``source`` into it,
    owners and modes as they were."""
    subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=True)
    label_args = [arg for k, v in sorted(labels.items()) for arg in ("--label", f"{k}={v}")]
    subprocess.run(["docker", "volume", "create", *label_args, volume],
                   capture_output=True, check=True)  # fmt: skip
    command = ["docker", "run", "--rm", "-i", "--network", "none", "--read-only",
               "--user", "0:0", "--cap-drop", "ALL", "--cap-add", "CHOWN",
               "--cap-add", "DAC_OVERRIDE", "--cap-add", "FOWNER",
               "--security-opt", "no-new-privileges", "--entrypoint", "tar",
               "-v", f"{volume}:/folder", image, "-C", "/folder", "-xpf", "-"]  # fmt: skip
    try:
        with source.open("rb") as stream:
            subprocess.run(command, stdin=stream, capture_output=True, check=True)
    except BaseException:
        remove_volume(volume)  # not half restored
        raise


def volume_exists(volume: str) -> bool:
    found = subprocess.run(["docker", "volume", "inspect", volume], capture_output=True)
    return found.returncode == 0
