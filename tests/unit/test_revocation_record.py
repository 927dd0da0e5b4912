"""Each revocation `up` carries out is recorded right after it took effect:
when a later one fails, those already done are in the record."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from sandbox.config.model import Sandbox
from sandbox.errors import ProvisionError
from sandbox.host.layout import Layout
from sandbox.provisioning import actions, revocation
from sandbox.provisioning.context import Context


class FakeHub:
    """The hub API: carol's deletion fails."""

    def __init__(self, sandbox, layout) -> None:
        self.deleted: list[str] = []

    def servers(self, user: str) -> dict:
        return {"": {}}

    def delete_user(self, user: str) -> None:
        if user == "carol":
            raise ProvisionError("hub API DELETE /users/carol: 500")
        self.deleted.append(user)


@pytest.fixture
def recorded(monkeypatch) -> list[str]:
    """Who each recorded revocation was for, in order (the hub API faked)."""
    monkeypatch.setattr(revocation, "HubAdmin", FakeHub)
    users: list[str] = []
    monkeypatch.setattr(
        revocation,
        "record",
        lambda url, actor, sandbox, done: users.extend(d.revocation.user for d in done),
    )
    return users


def removing_three(tmp_path: Path) -> tuple[SimpleNamespace, Context]:
    """A plan that removes alice, bob and carol (whose deletion fails)."""
    model = Sandbox.model_validate({"name": "demo", "groups": [{"name": "g", "members": ["dave"]}]})
    had = {"users": ["alice", "bob", "carol", "dave"], "grants": {}, "datasets": {}}
    plan = SimpleNamespace(
        sandbox=model, desired={"users": ["dave"], "grants": {}}, had=had, staged={}
    )
    return plan, Context(layout=Layout(tmp_path))


def test_the_users_revoked_before_one_that_fails_are_recorded(tmp_path: Path, recorded):
    plan, env = removing_three(tmp_path)
    with pytest.raises(ProvisionError, match="carol"):
        actions.revoke(plan, env, "it-admin")  # type: ignore[arg-type]
    assert recorded == ["alice", "bob"]


def test_a_revocation_recorded_before_a_failure_is_not_recorded_again(
    tmp_path: Path, recorded, monkeypatch
):
    plan, env = removing_three(tmp_path)
    with pytest.raises(ProvisionError):
        actions.revoke(plan, env, "it-admin")  # type: ignore[arg-type]
    # the next up plans all three again (applied.json did not move on); carol's hub is mended
    monkeypatch.setattr(FakeHub, "delete_user", lambda self, user: None)
    actions.revoke(plan, env, "it-admin")  # type: ignore[arg-type]
    assert recorded == ["alice", "bob", "carol"]
