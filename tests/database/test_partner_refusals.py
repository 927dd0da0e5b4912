"""A partner's start after their agreement ended is in the record: a refused
access-log row per granted dataset, or an audit entry when none is granted."""

from __future__ import annotations

import datetime as dt
import logging
from types import SimpleNamespace

import pytest
from tornado import web

from sandbox.hub.spawner import GovernedMounts
from sandbox.registry import access_log, audit
from sandbox.registry.db import open_registry_url

PARTNERS = {
    "k.devries": {
        "organisation": "GGD Zuid",
        "reference": "SOK-2026-03",
        "valid_until": "2027-06-30",
    }
}
WOZ = {"id": "woz-2024", "version": "2024.1", "digest": "ab" * 32, "purposes": ["research"]}


def start(registry_url: str, datasets: list[dict]) -> None:
    mounts = GovernedMounts(
        partners=PARTNERS,
        sandbox_name="lab",
        registry_url=registry_url,
        user_datasets={"k.devries": datasets},
    )
    mounts.user = SimpleNamespace(name="k.devries")  # type: ignore[attr-defined]
    mounts.log = logging.getLogger("test")  # type: ignore[attr-defined]
    with pytest.raises(web.HTTPError):
        mounts.refuse_expired_partner(dt.date(2027, 7, 1), "trace1")


def test_a_refused_partner_start_is_recorded(registry_url):
    start(registry_url, [WOZ])
    start(registry_url, [])
    engine = open_registry_url(registry_url)
    [row] = access_log.entries(engine, "lab")
    assert (row.user, row.dataset, row.decision) == ("k.devries", "woz-2024", "refused")
    assert "SOK-2026-03 with GGD Zuid expired on 2027-06-30" in row.reason
    [entry] = audit.entries(engine, "refuse")
    assert entry["subject"] == "lab/k.devries"
    assert audit.verify(engine).ok
