"""``python -m sandbox.host.orphanguard CMD...``: run CMD so that it dies with its
parent. Hub-managed services (registry, idle culler) would otherwise outlive a
killed hub and hold their port when the supervisor starts the hub again."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> None:
    if not argv:
        print("usage: python -m sandbox.host.orphanguard CMD...", file=sys.stderr)
        sys.exit(2)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() == 1:  # the parent died before prctl took effect
            sys.exit(1)
    except (OSError, AttributeError):
        pass  # not Linux: run unguarded
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
