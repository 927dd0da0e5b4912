"""Rule 8: a sandbox that may hold tier 2 data logs people in with credentials
of their own, so that the access log names the person who got the data."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.errors import PolicyViolation
from sandbox.governance.policy import RULES, enforce, evaluate
from tests.unit.test_policy import (
    DROP,
    PSEUDO,
    TODAY,
    assert_located,
    build,
    card,
    group,
    line_of,
)


def test_rule9_is_documented():
    assert "personal credentials" in RULES[8]


@pytest.mark.parametrize("kind", ["per-user-password", "native"])
def test_rule9_personal_passwords_pass_at_tier2(tmp_path: Path, kind: str) -> None:
    loaded = build(tmp_path, PSEUDO, group("team", ("pseudo", "research")), auth={"type": kind})
    assert evaluate(loaded, TODAY) == []


def test_rule9_an_identity_provider_passes(tmp_path: Path) -> None:
    oidc = {
        "type": "oidc",
        "issuer": "https://login.example.org",
        "client_id": "sandbox",
        "client_secret_file": "/etc/sandbox/client-secret",
    }
    loaded = build(tmp_path, PSEUDO, group("team", ("pseudo", "research")), auth=oidc)
    assert evaluate(loaded, TODAY) == []


def test_rule9_shared_password_with_tier2_data_fails_at_the_auth_key(tmp_path: Path) -> None:
    loaded = build(
        tmp_path, PSEUDO, group("team", ("pseudo", "research")), auth={"type": "shared-password"}
    )
    [violation] = evaluate(loaded, TODAY)
    assert violation.rule == 8 and not violation.warning
    assert violation.sandbox == "lab"
    assert "may hold tier 3 data, so everyone needs credentials of their own" in violation.message
    assert_located(violation, loaded.path, line_of(loaded.path, "auth:"))
    with pytest.raises(PolicyViolation, match="rule 8"):
        enforce(loaded, TODAY)


def test_rule9_counts_max_tier_not_only_the_grants(tmp_path: Path) -> None:
    """A sandbox that may hold tier 2 data needs personal logins before it does."""
    loaded = build(
        tmp_path, [card("open")], group("team", ("open", "research")), max_tier=2, auth=DROP
    )
    [violation] = evaluate(loaded, TODAY)
    assert violation.rule == 8 and "may hold tier 2 data" in violation.message
    assert_located(violation, loaded.path, line_of(loaded.path, "max_tier:"))


def test_rule9_shared_password_is_fine_below_tier2(tmp_path: Path) -> None:
    loaded = build(
        tmp_path,
        [card("open")],
        group("team", ("open", "research")),
        max_tier=1,
        auth={"type": "shared-password"},
    )
    assert evaluate(loaded, TODAY) == []
