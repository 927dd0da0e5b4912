"""This project as a wheel, for inventory targets (``sandbox up -i``): built
from the source checkout once per content and kept in the state directory's
cache. Its version carries the content key (``0.1.0+<key>``), so a target's
``pip show data-sandbox`` names the build it runs, and a target whose
installed version is that one needs nothing."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import ProvisionError

PACKAGE = "sandbox"
# besides the package: the build's settings and the README its metadata holds
BUILD_FILES = ("pyproject.toml", "README.md")
DISTRIBUTION = "data_sandbox"  # as wheel file names spell data-sandbox
KEY_LENGTH = 12
VERSION_LINE = re.compile(r'^version = "[^"]*"$', re.M)


@dataclass(frozen=True)
class Wheel:
    path: Path
    built: bool  # False: found in the cache
    seconds: float

    @property
    def version(self) -> str:
        return self.path.name.split("-")[1]


def sources(project: Path) -> list[Path]:
    """The files the wheel is built from, relative to ``project``, sorted."""
    found = [Path(name) for name in BUILD_FILES]
    for path in (project / PACKAGE).rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            found.append(path.relative_to(project))
    return sorted(found)


def content_key(project: Path) -> str:
    """A digest of every source file's path and bytes."""
    digest = hashlib.sha256()
    for relative in sources(project):
        content = hashlib.sha256((project / relative).read_bytes()).hexdigest()
        digest.update(f"{relative.as_posix()}\0{content}\n".encode())
    return digest.hexdigest()[:KEY_LENGTH]


def wheel_version(pyproject: str, key: str) -> str:
    """The project's version with the content key as its local label."""
    base = tomllib.loads(pyproject)["project"]["version"]
    return f"{base.split('+')[0]}+{key}"


def cached_wheel(cache: Path, key: str) -> Path | None:
    found = sorted(cache.glob(f"{DISTRIBUTION}-*+{key}-py3-none-any.whl"))
    return found[0] if found else None


def project_wheel(project: Path, cache: Path, python: str) -> Wheel:
    """The wheel of ``project`` as it is now: from ``cache``, else built with
    ``python -m pip wheel --no-deps`` (offline, with this venv's setuptools,
    when it has one) from a copy of the sources, so nothing is written into
    the checkout. Older wheels of the project in ``cache`` are removed."""
    started = time.monotonic()
    if not (project / BUILD_FILES[0]).is_file():
        raise ProvisionError(
            f"no {BUILD_FILES[0]} in {project}: `up -i` builds the wheel the targets get from "
            "a source checkout (set SANDBOX_PROJECT_DIR to one)"
        )
    key = content_key(project)
    found = cached_wheel(cache, key)
    if found:
        return Wheel(found, False, time.monotonic() - started)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sandbox-wheel-") as scratch:
        source, out = Path(scratch, "src"), Path(scratch, "out")
        for relative in sources(project):
            (source / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(project / relative, source / relative)
        pyproject = (source / BUILD_FILES[0]).read_text(encoding="utf-8")
        versioned = f'version = "{wheel_version(pyproject, key)}"'
        (source / BUILD_FILES[0]).write_text(
            VERSION_LINE.sub(versioned, pyproject, count=1), encoding="utf-8"
        )
        command = [python, "-m", "pip", "wheel", "--no-deps", "--quiet", "--no-cache-dir"]
        command += ["--disable-pip-version-check", "--wheel-dir", str(out)]
        if importlib.util.find_spec("setuptools") is not None:
            command += ["--no-build-isolation", "--no-index"]  # offline
        done = subprocess.run([*command, str(source)], capture_output=True, text=True)
        built = sorted(out.glob(f"{DISTRIBUTION}-*.whl"))
        if done.returncode != 0 or len(built) != 1:
            tail = (done.stderr or done.stdout).strip()[-1500:]
            raise ProvisionError(f"building the project's wheel failed: {tail}")
        # into the cache by rename, so a wheel there is always whole
        partial = cache / f".{built[0].name}.partial"
        shutil.copyfile(built[0], partial)
        os.replace(partial, cache / built[0].name)
    wheel = cache / built[0].name
    for older in cache.glob(f"{DISTRIBUTION}-*.whl"):
        if older != wheel:
            older.unlink(missing_ok=True)
    return Wheel(wheel, True, time.monotonic() - started)
