"""The project's tools on an inventory target: a venv made with the target's
own ``python3`` and this project's wheel installed into it (the host_tools role).

``PYTHONPATH=WHEEL python3 -m sandbox.host.tools VENV WHEEL [--with-dependencies]``
runs from the wheel itself (a zip on ``sys.path``), before anything is
installed. It makes VENV when it has no Python, installs WHEEL without its
dependencies unless VENV has that very version already (the version names the
build: ``0.1.0+<content key>``), and with ``--with-dependencies`` also the
project's dependencies from the package index (for a hub's host, whose hub runs
from this venv). Older wheels in VENV are removed. Prints what it did, or
``unchanged``.

A lock in VENV serialises runs: nodes that share a filesystem (or one host
listed twice) may run this at once for the same venv. Standard library only,
and no syntax newer than the oldest ``python3`` it should refuse clearly.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

MIN_PYTHON = (3, 11)
DISTRIBUTION = "data-sandbox"
WHEEL_PREFIX = "data_sandbox-"
LOCK = ".tools.lock"

# Run by the venv's Python, isolated (-I: no PYTHONPATH, no current folder),
# so it sees the venv and nothing else: the installed version, or the
# project's requirements that are not installed (names, one line).
PROBE = """
import re, sys
from importlib import metadata
try:
    dist = metadata.distribution(sys.argv[2])
except metadata.PackageNotFoundError:
    sys.exit(0)
if sys.argv[1] == "version":
    print(dist.version)
    sys.exit(0)
missing = []
for requirement in dist.requires or []:
    if "extra ==" in requirement:
        continue
    name = re.match(r"[A-Za-z0-9._-]+", requirement).group(0)
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        missing.append(name)
print(" ".join(missing))
"""


class ToolsError(Exception):
    pass


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def wheel_version(wheel: Path) -> str:
    """``0.1.0+abc`` from ``data_sandbox-0.1.0+abc-py3-none-any.whl``."""
    return wheel.name.split("-")[1]


def probe(python: Path, what: str) -> str:
    """``version`` or ``missing`` as the venv's Python answers; "" for a venv
    without the project."""
    done = _run([str(python), "-I", "-c", PROBE, what, DISTRIBUTION])
    return done.stdout.strip()


def install(venv: Path, wheel: Path, dependencies: bool = False) -> list[str]:
    """What was done: ``venv``, ``data-sandbox VERSION``, ``dependencies: NAMES``."""
    venv.mkdir(parents=True, exist_ok=True)
    done = []
    with open(venv / LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        python = venv_python(venv)
        if not python.exists():
            _run([sys.executable, "-m", "venv", str(venv)])
            done.append("venv")
        wanted = wheel_version(wheel)
        if probe(python, "version") != wanted:
            # nothing to fetch: --no-index
            _pip(python, "--no-deps", "--no-index", "--force-reinstall", str(wheel))
            done.append(f"{DISTRIBUTION} {wanted}")
        if dependencies:
            missing = probe(python, "missing")
            if missing:
                _pip(python, str(wheel))  # the project itself is there: only what it needs
                done.append(f"dependencies: {missing}")
        for older in venv.glob(f"{WHEEL_PREFIX}*.whl"):
            if older.name != wheel.name:
                older.unlink()
    return done


def _pip(python: Path, *args: str) -> None:
    _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args])


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    # without the PYTHONPATH this runs from: pip would take the wheel on it
    # for an installed data-sandbox
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(command, capture_output=True, text=True, cwd="/", env=env)
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip()[-1500:]
        raise ToolsError(f"{' '.join(command[:4])} ... failed ({done.returncode}): {said}")
    return done


def main(argv: list[str]) -> int:
    args = [a for a in argv if a != "--with-dependencies"]
    if len(args) != 2:
        print(
            "usage: python3 -m sandbox.host.tools VENV WHEEL [--with-dependencies]",
            file=sys.stderr,
        )
        return 2
    if sys.version_info < MIN_PYTHON:
        found = ".".join(str(n) for n in sys.version_info[:3])
        print(
            f"{sys.executable} is Python {found}; the project needs"
            f" {'.'.join(str(n) for n in MIN_PYTHON)} or later (set host_tools_python3)",
            file=sys.stderr,
        )
        return 1
    try:
        done = install(Path(args[0]), Path(args[1]), "--with-dependencies" in argv)
    except (ToolsError, OSError) as exc:
        print(f"installing the project's tools failed: {exc}", file=sys.stderr)
        return 1
    print(", ".join(done) if done else "unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
