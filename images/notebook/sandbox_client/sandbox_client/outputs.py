"""Ask for an output to leave the sandbox through the airlock.

    from sandbox_client import outputs
    outputs.request("results/crosstab.csv", "table 3 of the council report")

The file (or folder) is copied at once out of your home into the airlock,
checked for disclosure risks, and released only when stewards approve it.
From a terminal: ``sandbox-output request PATH --why TEXT``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from .client import Registry, RegistryError

HOME = "/home/jovyan"


def request(
    path: str, justification: str, experiment: str | None = None, client: Registry | None = None
) -> dict[str, Any]:
    """Request ``path`` (relative to your home, or under /home/jovyan); the
    answer holds the request's id, files with sha256, and what the checks found."""
    relative = os.path.relpath(os.path.abspath(path), HOME) if os.path.isabs(path) else path
    body = {"path": relative, "justification": justification, "experiment": experiment or ""}
    return (client or Registry())._call("POST", "/outputs", body)


def mine(client: Registry | None = None) -> list[dict[str, Any]]:
    """Your output requests and their state."""
    return (client or Registry())._call("GET", "/outputs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sandbox-output", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    asked = commands.add_parser("request", help="request a file or folder of your home")
    asked.add_argument("path")
    asked.add_argument("--why", required=True, help="why it must leave the sandbox")
    asked.add_argument("--experiment", default="")
    commands.add_parser("list", help="your requests")
    args = parser.parse_args(argv)
    try:
        if args.command == "request":
            answer = request(args.path, args.why, args.experiment)
            checks = answer["checks"]["status"]
            print(f"{answer['id']}: requested ({checks} by the automatic checks)")
        else:
            print(json.dumps(mine(), indent=2))
    except RegistryError as exc:
        print(f"sandbox-output: {exc.message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
