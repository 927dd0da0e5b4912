"""The airlock's files on the host: what a request takes out of a user's home,
and what a release puts in the outbox.

A request is copied at once, so what is reviewed is exactly what was asked
for. The copy walks the home through directory file descriptors and opens
nothing through a symbolic link (``O_NOFOLLOW``), so a link, or a folder
swapped for one while we copy, cannot lead outside the home.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import os
import shutil
import stat
import tarfile
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import InvalidInput, SandboxError
from .hashing import sha256_file

CHUNK = 1024 * 1024
# non-blocking: opening a named pipe must not wait for a writer (it is refused)
NOFOLLOW = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
MANIFEST = "release-manifest.json"
EVIDENCE_SUFFIX = ".sdc.json"  # what sandbox_client.outputs.table writes beside a table


class Refused(InvalidInput):
    """A request that cannot be taken; nothing was copied."""


class Tampered(SandboxError):
    """An airlock copy no longer matches what was requested."""


@dataclass(frozen=True)
class Taken:
    path: str  # relative to the requested folder's parent (a file: its name)
    sha256: str
    bytes: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _parts(requested: str) -> list[str]:
    path = PurePosixPath(requested.strip())
    if path.is_absolute():
        try:
            path = path.relative_to("/home/jovyan")
        except ValueError:
            raise Refused(f"{requested}: only files in your home can be requested") from None
    parts = [p for p in path.parts if p not in ("", ".")]
    if not parts:
        raise Refused(f"{requested!r}: name a file or folder in your home")
    if ".." in parts:
        raise Refused(f"{requested}: only files in your home can be requested")
    return parts


def _open_in(parent: int, name: str, requested: str) -> int:
    try:
        fd = os.open(name, NOFOLLOW, dir_fd=parent)
    except FileNotFoundError:
        raise Refused(f"{requested}: no such file or folder in your home") from None
    except OSError as exc:  # ELOOP: a symbolic link
        raise Refused(
            f"{requested}: {name} is a symbolic link or unreadable ({exc.strerror})"
        ) from None
    mode = os.fstat(fd).st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        os.close(fd)
        raise Refused(f"{requested}: {name} is not a regular file or folder")
    os.set_blocking(fd, True)
    return fd


def _evidence_beside(parent: int, name: str, target: int) -> int | None:
    """A requested table's evidence goes with it (a regular file, no link)."""
    if not stat.S_ISREG(os.fstat(target).st_mode):
        return None
    try:
        fd = os.open(name + EVIDENCE_SUFFIX, NOFOLLOW, dir_fd=parent)
    except OSError:
        return None
    if stat.S_ISREG(os.fstat(fd).st_mode):
        return fd
    os.close(fd)
    return None


def _files(fd: int, name: str, requested: str) -> list[tuple[str, int, int]]:
    """(relative path, open fd, size) of every regular file at ``fd``."""
    mode = os.fstat(fd).st_mode
    if stat.S_ISREG(mode):
        return [(name, fd, os.fstat(fd).st_size)]
    if not stat.S_ISDIR(mode):
        os.close(fd)
        raise Refused(f"{requested}: {name} is not a regular file or folder")
    found: list[tuple[str, int, int]] = []
    try:
        for entry in sorted(os.listdir(fd)):
            child = _open_in(fd, entry, requested)
            found += _files(child, f"{name}/{entry}", requested)
    except BaseException:
        for _, opened, _ in found:
            os.close(opened)
        raise
    finally:
        os.close(fd)
    return found


def take(home: Path, requested: str, into: Path, max_bytes: int) -> list[Taken]:
    """Copy ``requested`` (a file or folder in ``home``) into the new folder
    ``into`` (0700), hashing as it copies; refuse paths outside the home,
    symbolic links, other file types and requests over ``max_bytes``."""
    parts = _parts(requested)
    fd = os.open(home, NOFOLLOW | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            child = _open_in(fd, part, requested)
            os.close(fd)
            fd = child
            if not stat.S_ISDIR(os.fstat(fd).st_mode):
                raise Refused(f"{requested}: {part} is not a folder")
        target = _open_in(fd, parts[-1], requested)
        evidence = _evidence_beside(fd, parts[-1], target)
    finally:
        os.close(fd)
    found = _files(target, parts[-1], requested)
    if evidence is not None:
        found.append((parts[-1] + EVIDENCE_SUFFIX, evidence, os.fstat(evidence).st_size))
    try:
        total = sum(size for _, _, size in found)
        if total > max_bytes:
            raise Refused(
                f"{requested}: {total:,} bytes is over the airlock's limit of {max_bytes:,}"
            )
        if not found:
            raise Refused(f"{requested}: an empty folder")
        into.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=into.parent, prefix=".taking-"))
        try:
            taken = [_copy(fd, staging / rel, rel, size, requested) for rel, fd, size in found]
            os.replace(staging, into)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return taken
    finally:
        for _, opened, _ in found:
            os.close(opened)


def unpack(upload: str, into: Path, max_bytes: int) -> None:
    """Unpack a request's files sent with it (base64 of a tar: what the
    client found at the path in its home, and the evidence beside it) into
    the empty folder ``into``, which ``take`` then reads as the home. Only
    regular files and folders under relative paths, at most ``max_bytes``
    in all; anything else refuses the whole upload."""
    not_a_tar = Refused("the files sent with the request are not a base64 tar")
    try:
        data = base64.b64decode(upload, validate=True)
    except (binascii.Error, ValueError):
        raise not_a_tar from None
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            members = archive.getmembers()
            for member in members:
                path = PurePosixPath(member.name)
                if not (member.isfile() or member.isdir()):
                    raise Refused(f"{member.name}: only files and folders can be requested")
                if path.is_absolute() or ".." in path.parts:
                    raise Refused(f"{member.name}: not a path in your home")
            total = sum(m.size for m in members if m.isfile())
            if total > max_bytes:
                raise Refused(f"{total:,} bytes is over the airlock's limit of {max_bytes:,}")
            archive.extractall(into, filter="data")
    except tarfile.TarError:
        raise not_a_tar from None


def _copy(fd: int, to: Path, relative: str, size: int, requested: str) -> Taken:
    """Copy exactly the ``size`` bytes counted against the limit: a file that
    grows while we copy is refused, not copied without bound."""
    to.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    digest = hashlib.sha256()
    left = size
    out = os.open(to, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
    with os.fdopen(out, "wb") as handle:
        while left and (chunk := os.read(fd, min(CHUNK, left))):
            digest.update(chunk)
            handle.write(chunk)
            left -= len(chunk)
    if left or os.read(fd, 1):
        raise Refused(f"{requested}: {relative} changed size while it was copied; ask again")
    return Taken(relative, digest.hexdigest(), size)


def verify(copy: Path, files: list[dict[str, Any]]) -> None:
    """Raise ``Tampered`` unless the airlock copy holds exactly ``files``."""
    present = sorted(
        str(p.relative_to(copy)) for p in copy.rglob("*") if p.is_file() or p.is_symlink()
    )
    if present != sorted(f["path"] for f in files):
        raise Tampered(f"{copy}: files were added or removed since the request")
    for entry in files:
        path = copy / entry["path"]
        if path.is_symlink() or sha256_file(path) != entry["sha256"]:
            raise Tampered(f"{entry['path']}: changed since the request (sha256 differs)")


def release(
    copy: Path,
    files: list[dict[str, Any]],
    handed_out: list[dict[str, Any]],
    outbox: Path,
    manifest: dict,
) -> None:
    """Check the airlock copy (all of ``files``), then place ``handed_out``
    read-only in ``outbox`` with the release manifest."""
    verify(copy, files)
    outbox.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=outbox.parent, prefix=".releasing-"))
    try:
        for entry in handed_out:
            target = staging / entry["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(copy / entry["path"], target)
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        for path in sorted(staging.rglob("*"), reverse=True):
            path.chmod(0o500 if path.is_dir() else 0o400)
        staging.chmod(0o500)
        if outbox.exists():
            # left by a release whose record then failed: made again from the checked copy
            _remove_read_only(outbox)
        os.replace(staging, outbox)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _remove_read_only(folder: Path) -> None:
    """Remove an outbox folder whose folders are 0500 and files 0400."""
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o700)
    shutil.rmtree(folder)
