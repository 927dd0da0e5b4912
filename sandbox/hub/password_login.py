"""Per-user passwords: each user logs in with a password of their own, which
``up`` makes (``sandbox.host.secrets``: one 0600 file per user in the hub's
secrets folder) and ``sandbox credentials`` shows to the operator, who hands
each person theirs. The access log then names a person, not a shared login."""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Any

from jupyterhub.auth import Authenticator
from traitlets import Unicode

from ..host.secrets import PASSWORD_PREFIX, is_username


class PerUserPasswordAuthenticator(Authenticator):
    passwords_dir = Unicode(config=True, help="the hub's secrets folder (set at hub start)")

    async def authenticate(self, handler: Any, data: dict[str, Any]) -> str | None:
        name = self.normalize_username(str(data.get("username", "")))
        given = str(data.get("password", ""))
        if not (self.passwords_dir and is_username(name) and given):
            return None
        try:  # read at each login: a user `up` just added needs no hub restart
            expected = (Path(self.passwords_dir) / f"{PASSWORD_PREFIX}{name}").read_text()
        except OSError:
            return None
        if hmac.compare_digest(expected.strip().encode(), given.encode()):
            return name
        return None
