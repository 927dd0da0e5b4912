"""OIDC logins: oauthenticator's GenericOAuthenticator with the sandbox's
group mapping (the endpoints come from the issuer's discovery document, read
at hub start by ``identity.configure_identity``)."""

from __future__ import annotations

from typing import Any

from oauthenticator.generic import GenericOAuthenticator
from traitlets import Unicode

from .authenticators import GroupMapping


class SandboxOIDCAuthenticator(GroupMapping, GenericOAuthenticator):
    issuer = Unicode("", config=True, help="where the discovery document is (runtime reads it)")
    groups_claim = Unicode("groups", config=True, help="userinfo claim listing IdP groups")

    def idp_groups(self, auth_state: dict[str, Any]) -> list[str]:
        claim = (auth_state.get(self.user_auth_state_key) or {}).get(self.groups_claim) or []
        return [str(g) for g in claim] if isinstance(claim, list) else [str(claim)]

    async def update_auth_model(self, auth_model: dict[str, Any]) -> dict[str, Any]:
        return self.apply_groups(auth_model, self.idp_groups(auth_model["auth_state"]))

    async def get_user_groups(self, auth_state: dict[str, Any]) -> set[str]:
        user = auth_state.get(self.user_auth_state_key) or {}
        name = self.normalize_username(self.user_info_to_username(user))
        return set(self.mapped(name, self.idp_groups(auth_state)))
