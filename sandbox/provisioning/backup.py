"""``sandbox backup`` and ``sandbox restore``: one 0600 tar.gz with the
registry (SQLite online backup, or pg_dump for PostgreSQL), each hub's
database and secrets, the team folders (a tar of each volume, read with the
image the sandbox's last `up` ran), and the config directory.

Restore writes into a fresh state directory (it refuses a non-empty one), so a
restore can never half-overwrite a running installation; a team folder whose
volume exists on this machine is left as it is (and said so), the others are
made again with their files, owners and modes.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import InvalidInput, SandboxError
from ..host import names, volumes
from ..host.layout import Layout

MANIFEST = "backup.json"
FORMAT = 1


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (the online backup API)."""
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def _sqlite_path(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def create(layout: Layout, registry_url: str, config_dir: Path, output: Path) -> dict:
    if output.exists():
        raise InvalidInput(f"{output}: already exists; not overwriting it")
    with tempfile.TemporaryDirectory(prefix="sandbox-backup-") as tmp:
        root = Path(tmp) / "backup"
        root.mkdir(mode=0o700)
        manifest: dict = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "sandboxes": [],
        }
        database = _sqlite_path(registry_url)
        if database is not None:
            if database.exists():
                _sqlite_copy(database, root / "registry.sqlite")
            manifest["registry"] = "sqlite"
        else:
            dump = shutil.which("pg_dump")
            if dump is None:
                raise SandboxError("backing up a PostgreSQL registry needs pg_dump")
            plain = registry_url.replace("postgresql+psycopg://", "postgresql://")
            result = subprocess.run(
                [dump, "--format=custom", f"--file={root / 'registry.pgdump'}", plain],
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise SandboxError(f"pg_dump failed: {result.stderr.strip()[-500:]}")
            manifest["registry"] = "postgresql"
        sandboxes = layout.sandboxes_dir()
        for folder in sorted(sandboxes.iterdir()) if sandboxes.is_dir() else []:
            name = folder.name
            database, secrets = layout.hub_database(name), layout.secrets_dir(name)
            target = root / "sandboxes" / name
            target.mkdir(parents=True)
            if database.exists():
                _sqlite_copy(database, target / "jupyterhub.sqlite")
            if secrets.is_dir():
                shutil.copytree(secrets, target / "secrets")
            manifest["sandboxes"].append(name)
            teams = _save_team_folders(layout, name, target / "team-folders")
            if teams:
                manifest.setdefault("team_folders", {})[name] = teams
        shutil.copytree(config_dir, root / "config", symlinks=True)
        (root / MANIFEST).write_text(json.dumps(manifest, indent=2))
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle, tarfile.open(fileobj=handle, mode="w:gz") as tar:
            tar.add(root, arcname="backup")
    return manifest


def _save_team_folders(layout: Layout, sandbox: str, target: Path) -> dict[str, Any]:
    """group -> {volume, image, sha256} of each team folder saved under ``target``."""
    applied = (
        json.loads(layout.applied(sandbox).read_text()) if layout.applied(sandbox).is_file() else {}
    )
    image = applied.get("image")
    if not image:
        return {}  # never brought up here with containers: no team folders
    try:
        found = volumes.team_volumes(sandbox)
        saved = {}
        for group, volume in sorted(found.items()):
            target.mkdir(parents=True, exist_ok=True)
            digest = volumes.save_volume(volume, image, target / f"{group}.tar")
            saved[group] = {"volume": volume, "image": image, "sha256": digest}
    except (OSError, subprocess.SubprocessError) as exc:
        raise SandboxError(f"backing up the team folders of {sandbox} failed: {exc}") from exc
    return saved


def _restore_team_folders(source: Path, sandbox: str, saved: dict[str, Any]) -> list[str]:
    """Make each saved team folder's volume again; the groups whose volume was kept."""
    kept = []
    for group, entry in sorted(saved.items()):
        if volumes.volume_exists(entry["volume"]):
            kept.append(group)
            continue
        labels = {names.LABEL_SANDBOX: sandbox, names.LABEL_GROUP: group}
        try:
            volumes.load_volume(entry["volume"], labels, entry["image"], source / f"{group}.tar")
        except (OSError, subprocess.SubprocessError) as exc:
            said = getattr(exc, "stderr", b"") or b""
            raise SandboxError(
                f"restoring the team folder of {group} ({entry['volume']}) failed: "
                f"{said.decode(errors='replace').strip()[-300:] or exc} (it needs the image "
                f"{entry['image']}: `sandbox up` builds it)"
            ) from exc
    return kept


def restore(archive: Path, layout: Layout, registry_url: str) -> dict:
    if not archive.is_file():
        raise InvalidInput(f"{archive}: no such backup file")
    if layout.root.exists() and any(layout.root.iterdir()):
        raise InvalidInput(
            f"{layout.root}: state directory is not empty; restore into a fresh one "
            "(--state-dir) so nothing running is half-overwritten"
        )
    with tempfile.TemporaryDirectory(prefix="sandbox-restore-") as tmp:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, OSError) as exc:
            raise InvalidInput(f"{archive}: not a sandbox backup ({exc})") from None
        root = Path(tmp) / "backup"
        try:
            manifest = json.loads((root / MANIFEST).read_text())
        except (OSError, ValueError):
            raise InvalidInput(f"{archive}: not a sandbox backup (no {MANIFEST})") from None
        if manifest.get("format") != FORMAT:
            raise InvalidInput(f"{archive}: backup format {manifest.get('format')} is unknown")
        layout.root.mkdir(parents=True, exist_ok=True)
        database = _sqlite_path(registry_url)
        if manifest["registry"] == "sqlite" and (root / "registry.sqlite").exists():
            if database is None:
                raise InvalidInput("this backup holds a SQLite registry; restore with a SQLite URL")
            database.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / "registry.sqlite", database)
        elif manifest["registry"] == "postgresql":
            restore_tool = shutil.which("pg_restore")
            if restore_tool is None or database is not None:
                raise SandboxError("restoring a PostgreSQL registry needs pg_restore and its URL")
            plain = registry_url.replace("postgresql+psycopg://", "postgresql://")
            result = subprocess.run(
                [restore_tool, "--no-owner", f"--dbname={plain}", str(root / "registry.pgdump")],
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise SandboxError(f"pg_restore failed: {result.stderr.strip()[-500:]}")
        for name in manifest["sandboxes"]:
            source, secrets = root / "sandboxes" / name, layout.secrets_dir(name)
            layout.hub_dir(name).mkdir(parents=True, exist_ok=True, mode=0o700)
            if (source / "jupyterhub.sqlite").exists():
                shutil.copy2(source / "jupyterhub.sqlite", layout.hub_database(name))
            if (source / "secrets").is_dir():
                shutil.copytree(source / "secrets", secrets)
                os.chmod(secrets, 0o700)
                for secret in secrets.iterdir():
                    os.chmod(secret, 0o600)
            teams = manifest.get("team_folders", {}).get(name, {})
            if teams:
                kept = _restore_team_folders(source / "team-folders", name, teams)
                manifest.setdefault("team_folders_kept", {})[name] = kept
        shutil.copytree(root / "config", layout.restored_config(), symlinks=True)
    return manifest
