"""Rule 9: a sandbox that may hold tier 2 data and listens beyond this
machine is reached through TLS (an https hub.public_url: a reverse proxy
terminates it in front of the hub)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.errors import PolicyViolation
from sandbox.governance.policy import RULES, enforce, evaluate
from tests.unit.test_policy import (
    PSEUDO,
    TODAY,
    assert_located,
    build,
    group,
    line_of,
)

PERSONAL = {"type": "per-user-password"}


def test_rule10_is_documented():
    assert "TLS" in RULES[9]


def test_rule10_a_tier2_hub_on_every_address_without_tls_fails_at_the_ip(tmp_path: Path):
    loaded = build(
        tmp_path,
        PSEUDO,
        group("team", ("pseudo", "research")),
        auth=PERSONAL,
        hub={"ip": "0.0.0.0", "port": 8000},
    )
    [violation] = evaluate(loaded, TODAY)
    assert violation.rule == 9 and not violation.warning
    assert "listens on 0.0.0.0, beyond this machine, without TLS" in violation.message
    assert "hub.public_url: https://" in violation.message
    assert_located(violation, loaded.path, line_of(loaded.path, "ip: 0.0.0.0"))
    with pytest.raises(PolicyViolation, match="rule 9"):
        enforce(loaded, TODAY)


def test_rule10_an_http_public_url_is_no_tls(tmp_path: Path):
    loaded = build(
        tmp_path,
        PSEUDO,
        group("team", ("pseudo", "research")),
        auth=PERSONAL,
        hub={"ip": "0.0.0.0", "public_url": "http://sandbox.example.org"},
    )
    [violation] = evaluate(loaded, TODAY)
    assert violation.rule == 9
    assert_located(violation, loaded.path, line_of(loaded.path, "public_url:"))


@pytest.mark.parametrize(
    "hub",
    [
        {"ip": "127.0.0.1"},  # loopback: a reverse proxy on this machine reaches it
        {"ip": "0.0.0.0", "public_url": "https://sandbox.example.org"},
    ],
)
def test_rule10_loopback_or_an_https_public_url_passes(tmp_path: Path, hub):
    loaded = build(tmp_path, PSEUDO, group("team", ("pseudo", "research")), auth=PERSONAL, hub=hub)
    assert evaluate(loaded, TODAY) == []


def test_rule10_a_tier0_hub_may_listen_everywhere(tmp_path: Path):
    loaded = build(tmp_path, [], max_tier=0, hub={"ip": "0.0.0.0"})
    assert [v for v in evaluate(loaded, TODAY) if v.rule == 8] == []
