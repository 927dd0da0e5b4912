"""Stage a dataset version: copy, verify sha256, make read-only, publish atomically.

``python -m sandbox.host.staging SOURCE DEST FILES_JSON [EXTRAS_FILE]`` where
FILES_JSON is a list of ``{"path", "sha256"}`` and EXTRAS_FILE a JSON object
of generated files (name -> text). DEST is never overwritten: an existing DEST
means this version is already staged.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from ..errors import SandboxError
from .hashing import sha256_file
from .layout import private_dir
from .names import STAGED_MARKER

MANIFEST = STAGED_MARKER  # the manifest a finished copy holds, and the marker that it is finished


class StagingError(SandboxError):
    pass


def stage(
    source: Path, dest: Path, files: list[dict[str, str]], extras: dict[str, str] | None = None
) -> bool:
    """Return True if DEST was created, False if it already existed.

    ``extras`` are generated files (DATACARD.md, datapackage.json, quality.json)
    written beside the data, read-only like it."""
    # datasets/ is 0700: no host user but root reads a staged copy (Docker
    # bind-mounts it as root; the server reads it through the mount)
    private_dir(dest.parent.parent)
    if (dest / MANIFEST).is_file():
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        for entry in files:
            target = tmp / entry["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / entry["path"], target)
            actual = sha256_file(target)
            if actual != entry["sha256"]:
                raise StagingError(
                    f"{entry['path']}: sha256 {actual} does not match the data card"
                    f" ({entry['sha256']})"
                )
            os.chmod(target, 0o444)
        for name, content in (extras or {}).items():
            if "/" in name or name.startswith("."):
                raise StagingError(f"bad generated file name {name!r}")
            (tmp / name).write_text(content, encoding="utf-8")
            os.chmod(tmp / name, 0o444)
        manifest = {"files": files, "staged_at": datetime.now(UTC).isoformat()}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
        os.chmod(tmp / MANIFEST, 0o444)
        for folder in sorted((p for p in tmp.rglob("*") if p.is_dir()), reverse=True):
            os.chmod(folder, 0o555)
        os.chmod(tmp, 0o555)
        try:
            os.rename(tmp, dest)
        except OSError:
            # staged meanwhile by another run (nodes sharing this filesystem)
            if not (dest / MANIFEST).is_file():
                raise
            _remove(tmp)
            return False
    except BaseException:
        _remove(tmp)
        raise
    return True


def _remove(path: Path) -> None:
    for folder in [path, *(p for p in path.rglob("*") if p.is_dir())]:
        os.chmod(folder, 0o755)
    shutil.rmtree(path, ignore_errors=True)


def remove(paths: list[Path]) -> list[Path]:
    """Remove staged copies (read-only folders) and a dataset's folder left
    empty, or files; return those that existed."""
    removed = []
    for path in paths:
        if path.is_file():
            path.unlink()
            removed.append(path)
        elif path.exists():
            _remove(path)
            removed.append(path)
        with contextlib.suppress(OSError):  # other versions are still there
            path.parent.rmdir()
    return removed


def main(argv: list[str]) -> int:
    if argv[:1] == ["--remove"]:
        removed = remove([Path(p) for p in argv[1:]])
        print("\n".join(str(p) for p in removed) if removed else "unchanged")
        return 0
    if len(argv) not in (3, 4):
        print(
            "usage: python -m sandbox.host.staging SOURCE DEST FILES_JSON [EXTRAS_FILE]\n"
            "       python -m sandbox.host.staging --remove DEST...",
            file=sys.stderr,
        )
        return 2
    try:
        extras = json.loads(Path(argv[3]).read_text()) if len(argv) == 4 else None
        created = stage(Path(argv[0]), Path(argv[1]), json.loads(argv[2]), extras)
    except (StagingError, OSError) as exc:
        print(f"staging failed: {exc}", file=sys.stderr)
        return 1
    print("staged" if created else "unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
