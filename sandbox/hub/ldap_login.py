"""LDAP logins: jupyterhub-ldapauthenticator with the sandbox's group mapping."""

from __future__ import annotations

from typing import Any

import ldap3
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn
from ldapauthenticator import LDAPAuthenticator
from traitlets import Unicode

from .authenticators import GroupMapping


class SandboxLDAPAuthenticator(GroupMapping, LDAPAuthenticator):
    """LDAPAuthenticator binds the user; the user's groups are then searched
    under ``group_base`` (it reports only ``allowed_groups`` it was given)."""

    group_base = Unicode("", config=True, help="where groups are searched")
    group_member_attribute = Unicode("member", config=True, help="member (DNs) or memberUid")

    async def authenticate(self, handler: Any, data: dict[str, Any]) -> dict[str, Any] | None:
        auth_model = await super().authenticate(handler, data)
        if auth_model is None:
            return None
        groups = self.directory_groups(auth_model["name"], data["password"])
        auth_model.setdefault("admin", None)
        auth_model["auth_state"]["ldap_groups"] = groups
        return self.apply_groups(auth_model, groups)

    def user_dns(self, username: str) -> list[str]:
        if self.lookup_dn:
            _, dn = self.resolve_username(username)
            return [dn] if dn else []
        return [t.format(username=escape_rdn(username)) for t in self.bind_dn_template]

    def directory_groups(self, username: str, password: str) -> list[str]:
        """The cn of every group under group_base that lists the user."""
        if not self.group_base:
            return []
        dns = self.user_dns(username)
        conn = None
        if self.lookup_dn_search_user:
            conn = self.get_connection(self.lookup_dn_search_user, self.lookup_dn_search_password)
        else:  # search as the user who just logged in
            for dn in dns:
                conn = self.get_connection(dn, password)
                if conn:
                    break
        if not conn:
            self.log.warning("login of %s: cannot search the directory for groups", username)
            return []
        if self.group_member_attribute.lower() == "memberuid":
            match = f"(memberUid={escape_filter_chars(username)})"
        else:
            match = "".join(
                f"({self.group_member_attribute}={escape_filter_chars(dn)})" for dn in dns
            )
            match = f"(|{match})"
        conn.search(self.group_base, match, search_scope=ldap3.SUBTREE, attributes=["cn"])
        names = sorted({str(value) for entry in conn.entries for value in entry.cn.values})
        conn.unbind()
        return names
