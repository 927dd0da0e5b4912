"""Secret files: created once, 0600, never printed or logged.

``python -m sandbox.host.secrets DIR NAME...`` creates the missing ones and prints
only the names it created (for Ansible's ``changed_when``).
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from pathlib import Path

# Every hub's secrets: the hub role creates them, `up` checks they are there.
HUB_SECRETS = ("cookie_secret", "proxy_token", "cli_token", "user_password", "admin_password")

# Passwords people type are shorter; tokens and keys are 256 bits.
_TYPED = {"user_password": 12}
# auth type per-user-password: one file per user, password_<username>
PASSWORD_PREFIX = "password_"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")  # config.model.USERNAME


def is_username(name: str) -> bool:
    return bool(_USERNAME.match(name))


def password_secret(user: str) -> str:
    """The secret file of a user's own password."""
    if not is_username(user):
        raise ValueError(f"not a username: {user!r}")
    return PASSWORD_PREFIX + user


def new_secret(name: str) -> str:
    if name in _TYPED:
        return secrets.token_urlsafe(_TYPED[name])
    if name.startswith(PASSWORD_PREFIX):
        return secrets.token_urlsafe(_TYPED["user_password"])
    return secrets.token_hex(32)


def ensure_secrets(directory: Path, names: list[str]) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(directory, 0o700)
    created = []
    for name in names:
        path = directory / name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            os.chmod(path, 0o600)
            continue
        with os.fdopen(fd, "w") as handle:
            handle.write(new_secret(name) + "\n")
        created.append(name)
    return created


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: python -m sandbox.host.secrets DIR NAME...", file=sys.stderr)
        return 2
    created = ensure_secrets(Path(argv[0]), argv[1:])
    print("created: " + ",".join(created) if created else "unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
