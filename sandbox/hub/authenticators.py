"""What the hub's authenticators for identity providers share (their classes
are in ``oidc_login`` and ``ldap_login``, loaded by the hub only when
``auth.type`` is oidc or ldap; ``up`` installs their packages).

Both turn the provider's groups into the sandbox's groups at every login
(``identity.sandbox_groups``) and hand them to JupyterHub, which rewrites the
user's hub groups (``manage_groups``). A user in no sandbox group who is not
an admin is refused.
"""

from __future__ import annotations

from typing import Any

from traitlets import Dict, HasTraits, Unicode

from .identity import sandbox_groups


class GroupMapping(HasTraits):
    group_map = Dict(config=True, help="IdP group -> sandbox groups it makes one a member of")
    member_groups = Dict(config=True, help="username -> sandbox groups listing them as members")
    admin_idp_group = Unicode("", config=True, help="members of this IdP group are admins")

    def mapped(self, username: str, idp_groups: list[str]) -> list[str]:
        return sandbox_groups(username, idp_groups, self.group_map, self.member_groups)

    def apply_groups(self, auth_model: dict[str, Any], idp_groups: list[str]) -> dict[str, Any]:
        """Sandbox groups and admin status of this login, into ``auth_model``."""
        auth_model["groups"] = self.mapped(auth_model["name"], idp_groups)
        if self.admin_idp_group and self.admin_idp_group in idp_groups:
            auth_model["admin"] = True
        elif self.admin_idp_group and not auth_model.get("admin"):
            auth_model["admin"] = False  # left the admin group: no longer an admin
        return auth_model

    async def check_allowed(self, username: str, auth_model: dict[str, Any] | None) -> bool:
        if auth_model is None:  # a user already in the hub, re-checked at its start
            return username in self.member_groups
        if auth_model.get("admin"):
            return True
        allowed = bool(auth_model.get("groups"))
        if not allowed:
            self.log.warning(  # type: ignore[attr-defined]
                "login of %s refused: in no group of this sandbox", username
            )
        return allowed
