"""Chain partners: members from other organisations, admitted under an
agreement (rule 10 at plan time and at every server start)."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest
from tornado import web

from sandbox.config.model import ExternalMember, Group
from sandbox.governance.policy import evaluate, partner_listing, partner_refusal
from sandbox.hub.settings import partner_agreements, partner_groups
from tests.unit.test_policy import TODAY, assert_located, build, card, line_of

if TYPE_CHECKING:
    from sandbox.hub.spawner import GovernedMounts


PARTNER = {
    "name": "k.devries",
    "organisation": "GGD Zuid",
    "agreement": {"reference": "SOK-2026-03", "valid_until": dt.date(2027, 6, 30)},
}


def team(*members) -> dict:
    return {
        "name": "team",
        "members": list(members),
        "grants": [{"dataset": "open", "purpose": "research"}],
    }


def test_a_member_may_come_from_another_organisation():
    group = Group.model_validate({"name": "team", "members": ["alice", PARTNER]})
    assert group.member_names == ["alice", "k.devries"]
    [partner] = group.partners
    assert isinstance(partner, ExternalMember) and partner.organisation == "GGD Zuid"
    assert partner.agreement and partner.agreement.valid_until == dt.date(2027, 6, 30)


def test_a_partner_with_a_valid_agreement_passes_the_plan(tmp_path: Path):
    loaded = build(tmp_path, [card("open")], team("alice", PARTNER))
    assert evaluate(loaded, TODAY) == []
    sandbox = loaded.config.sandboxes[0]
    assert sandbox.users == ["alice", "k.devries"]
    assert sandbox.partner("k.devries") is not None and sandbox.partner("alice") is None
    agreements = partner_agreements(sandbox)
    assert agreements == {
        "k.devries": {
            "organisation": "GGD Zuid",
            "reference": "SOK-2026-03",
            "valid_until": "2027-06-30",
        }
    }


def test_a_partner_without_an_agreement_is_refused_at_their_line(tmp_path: Path):
    member = {"name": "k.devries", "organisation": "GGD Zuid"}
    loaded = build(tmp_path, [card("open")], team("alice", member))
    [violation] = evaluate(loaded, TODAY)
    assert violation.rule == 10 and not violation.warning
    assert (
        violation.message == "partner member k.devries: admitted from GGD Zuid without an agreement"
    )
    assert_located(violation, loaded.path, line_of(loaded.path, "name: k.devries"))


def test_a_partner_whose_agreement_expired_is_refused_at_valid_until(tmp_path: Path):
    expired = {
        **PARTNER,
        "agreement": {"reference": "SOK-2026-03", "valid_until": dt.date(2026, 5, 31)},
    }
    loaded = build(tmp_path, [card("open")], team("alice", expired))
    [violation] = evaluate(loaded, TODAY)
    assert violation.rule == 10
    assert "the agreement SOK-2026-03 with GGD Zuid expired on 2026-05-31" in violation.message
    assert_located(violation, loaded.path, line_of(loaded.path, "valid_until: 2026-05-31"))


def test_partner_refusal_counts_the_last_day_as_valid():
    day = dt.date(2027, 6, 30)
    assert partner_refusal("GGD Zuid", "SOK-1", day, day) is None
    later = dt.date(2027, 7, 1)
    assert "expired on 2027-06-30" in str(partner_refusal("GGD Zuid", "SOK-1", day, later))


def spawner_for(user: str, partners: dict) -> GovernedMounts:
    from sandbox.hub.spawner import GovernedMounts

    mounts = GovernedMounts(partners=partners, sandbox_name="lab")
    mounts.user = SimpleNamespace(name=user)  # type: ignore[attr-defined]
    mounts.log = logging.getLogger("test")  # type: ignore[attr-defined]
    return mounts


def test_a_start_after_the_agreement_ended_is_refused():
    partners = partner_agreements(build_sandbox())
    spawner = spawner_for("k.devries", partners)
    spawner.refuse_expired_partner(dt.date(2027, 6, 30), "t1")  # the last day: fine
    with pytest.raises(web.HTTPError) as refused:
        spawner.refuse_expired_partner(dt.date(2027, 7, 1), "t2")
    assert refused.value.status_code == 403
    assert "SOK-2026-03 with GGD Zuid expired on 2027-06-30" in str(refused.value.log_message)
    spawner_for("alice", partners).refuse_expired_partner(dt.date(2030, 1, 1), "t3")  # no partner


def build_sandbox():
    from sandbox.config.model import Sandbox

    return Sandbox.model_validate({"name": "lab", "groups": [team("alice", PARTNER)]})


GGD_GROUP = {
    "name": "ggd",
    "idp_group": "ggd-zuid-analysts",
    "organisation": "GGD Zuid",
    "agreement": {"reference": "SOK-2026-03", "valid_until": dt.date(2027, 6, 30)},
    "grants": [{"dataset": "open", "purpose": "research"}],
}
OIDC = {
    "type": "oidc",
    "issuer": "https://login.example.org",
    "client_id": "sandbox",
    "client_secret_file": "/etc/sandbox/client-secret",
}


def test_a_partner_group_of_the_identity_provider_passes_with_a_valid_agreement(tmp_path):
    loaded = build(tmp_path, [card("open")], GGD_GROUP, auth=OIDC)
    assert evaluate(loaded, TODAY) == []
    sandbox = loaded.config.sandboxes[0]
    assert partner_groups(sandbox) == {
        "ggd": {"organisation": "GGD Zuid", "reference": "SOK-2026-03", "valid_until": "2027-06-30"}
    }
    [row] = partner_listing(sandbox, TODAY)
    assert row["member"] == "idp_group ggd-zuid-analysts" and row["admitted"] is True


def test_a_partner_group_whose_agreement_ended_is_refused_at_plan(tmp_path):
    ended = {**GGD_GROUP, "agreement": {"reference": "SOK-1", "valid_until": dt.date(2026, 1, 31)}}
    loaded = build(tmp_path, [card("open")], ended, auth=OIDC)
    [violation] = evaluate(loaded, TODAY)
    assert violation.rule == 10 and violation.group == "ggd"
    assert violation.message == (
        "partner group ggd: the agreement SOK-1 with GGD Zuid expired on 2026-01-31"
    )
    assert_located(violation, loaded.path, line_of(loaded.path, "valid_until: 2026-01-31"))


def test_a_group_agreement_needs_its_organisation():
    with pytest.raises(ValueError, match="needs its organisation"):
        Group.model_validate(
            {"name": "g", "agreement": {"reference": "S", "valid_until": dt.date(2027, 1, 1)}}
        )


def test_whoever_the_provider_puts_in_a_partner_group_starts_nothing_after_it_ended():
    from sandbox.config.model import Sandbox
    from sandbox.hub.spawner import GovernedMounts

    sandbox = Sandbox.model_validate({"name": "lab", "auth": OIDC, "groups": [GGD_GROUP]})
    spawner = GovernedMounts(partner_groups=partner_groups(sandbox), sandbox_name="lab")
    spawner.log = logging.getLogger("test")  # type: ignore[attr-defined]
    spawner.user = SimpleNamespace(name="jan", groups=[SimpleNamespace(name="ggd")])  # type: ignore[attr-defined]
    spawner.refuse_expired_partner(dt.date(2027, 6, 30), "t1")
    with pytest.raises(web.HTTPError) as refused:
        spawner.refuse_expired_partner(dt.date(2027, 7, 1), "t2")
    assert "SOK-2026-03 with GGD Zuid expired on 2027-06-30" in str(refused.value.log_message)
    # the same user out of the partner group (the provider moved them) starts
    spawner.user = SimpleNamespace(name="jan", groups=[SimpleNamespace(name="intern")])  # type: ignore[attr-defined]
    spawner.refuse_expired_partner(dt.date(2027, 7, 1), "t3")


def test_listed_members_of_a_partner_group_are_partners_too():
    from sandbox.config.model import Sandbox

    group = {k: v for k, v in GGD_GROUP.items() if k != "idp_group"} | {"members": ["jan"]}
    sandbox = Sandbox.model_validate({"name": "lab", "groups": [group]})
    assert partner_agreements(sandbox)["jan"]["reference"] == "SOK-2026-03"
    assert partner_groups(sandbox) == {}  # listed: checked by name
    assert [r["member"] for r in partner_listing(sandbox, TODAY)] == ["jan"]
