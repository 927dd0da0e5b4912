"""The Docker engine settings data-sandbox relies on, merged into daemon.json.

Standard library only: the ``docker_engine`` role runs it on target hosts
before it starts ``dockerd`` itself, and ``tests/ensure-docker.sh`` before the
test engine starts, so both run the engine the same way.

``python -m sandbox.host.dockerd PATH [--swarm]`` writes PATH and prints
``changed`` or ``unchanged``; an existing file keeps every key of the
operator's that these settings do not decide.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

# Every container's stdout is capped, so no user can fill /var/lib/docker.
LOG_OPTIONS = {"max-size": "10m", "max-file": "3"}


def required(swarm: bool) -> dict[str, Any]:
    """Settings that are always ours to decide."""
    return {
        # a dockerd restart keeps running servers (swarm mode refuses to run with it)
        "live-restore": not swarm,
        # no traffic between containers on the default bridge
        "icc": False,
        "no-new-privileges": True,
        # published ports through iptables, not a userland proxy on every address
        "userland-proxy": False,
    }


def merged(existing: dict[str, Any], swarm: bool = False) -> dict[str, Any]:
    """The operator's settings with ours on top; logging is only filled in
    where the operator chose nothing (or chose json-file without limits)."""
    result = {**existing, **required(swarm)}
    driver = result.setdefault("log-driver", "json-file")
    if driver in ("json-file", "local"):
        result["log-opts"] = {**LOG_OPTIONS, **existing.get("log-opts", {})}
    return result


def write(path: Path, swarm: bool = False) -> bool:
    """Merge into PATH; return whether it changed."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    try:
        existing = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(existing, dict):
        raise ValueError(f"{path} must hold a JSON object")
    wanted = merged(existing, swarm)
    if wanted == existing:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".daemon.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(wanted, indent=2, sort_keys=True) + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return True


def main(argv: list[str]) -> int:
    args = [a for a in argv if a != "--swarm"]
    if len(args) != 1:
        print("usage: python -m sandbox.host.dockerd PATH [--swarm]", file=sys.stderr)
        return 2
    try:
        changed = write(Path(args[0]), swarm="--swarm" in argv)
    except (OSError, ValueError) as exc:
        print(f"daemon.json: {exc}", file=sys.stderr)
        return 1
    print("changed" if changed else "unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
