"""Packages a hub needs beyond the project's own (its authenticator).

``python -m sandbox.host.packages NAME==VERSION...`` installs, with the pip of
this interpreter, the requirements not already met and prints what it
installed, or ``unchanged`` (for Ansible's ``changed_when``).
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata


def missing(requirements: list[str]) -> list[str]:
    """Requirements (NAME==VERSION) whose exact version is not installed."""
    result = []
    for requirement in requirements:
        name, _, version = requirement.partition("==")
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed is None or (version and installed != version):
            result.append(requirement)
    return result


def main(argv: list[str]) -> int:
    needed = missing(argv)
    if needed:
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, *needed], check=True)
    print("installed: " + ",".join(needed) if needed else "unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
