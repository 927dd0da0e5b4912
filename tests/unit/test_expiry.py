"""The hub's expiry service: when a sandbox counts as expired, that it stops
every running server and records each, and that it checks again as soon as
the clock file changes (tests and drills) instead of waiting an hour."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.hub import expiry
from sandbox.registry import access_log, audit
from sandbox.registry.db import open_registry_url

SETTINGS: Any = {
    "sandbox": "demo",
    "expires": "2027-12-31",
    "clock_file": "",
    "registry": {"registry_url": ""},
    "traitlets": {
        "JupyterHub": {"port": 8000},
        "SandboxDockerSpawner": {
            "user_datasets": {"alice": [{"id": "woz-2024", "version": "2024.1", "digest": "d"}]}
        },
    },
}


class FakeAnswer:
    def __init__(self, status: int, body: Any = None):
        self.status_code, self.body = status, body

    def json(self) -> Any:
        return self.body

    def raise_for_status(self) -> None:
        assert self.status_code < 400


class FakeSession:
    """The hub's /users as JupyterHub 2+ pages it (``page`` users a page)."""

    def __init__(self, users: list[dict], page: int = 200, fail_on: str = ""):
        self.users, self.deleted, self.headers = users, [], {}
        self.page, self.fail_on = page, fail_on

    def get(self, url: str, **kwargs) -> FakeAnswer:
        assert url.endswith("/users") and kwargs["params"]["state"] == "active"
        assert kwargs["headers"]["Accept"] == expiry.PAGINATED
        offset = int(kwargs["params"]["offset"])
        items = self.users[offset : offset + self.page]
        more = offset + self.page < len(self.users)
        following = {"offset": offset + self.page, "limit": self.page} if more else None
        return FakeAnswer(200, {"items": items, "_pagination": {"next": following}})

    def delete(self, url: str, **kwargs) -> FakeAnswer:
        if self.fail_on and url.endswith(f"/users/{self.fail_on}/server"):
            raise requests.ConnectionError("the hub went away")
        self.deleted.append(url)
        return FakeAnswer(202)


def service(settings: Any, users: list[dict]) -> expiry.Expiry:
    found = expiry.Expiry(settings, "http://127.0.0.1:8000/hub/api/", "token")
    found.session = FakeSession(users)  # type: ignore[assignment]
    return found


RUNNING = [{"name": "alice", "servers": {"": {}}}, {"name": "bob", "servers": {}}]


def test_a_sandbox_expires_the_day_after_its_expiry_date():
    assert not expiry.expired(SETTINGS, date(2027, 12, 31))
    assert expiry.expired(SETTINGS, date(2028, 1, 1))
    assert not expiry.expired({**SETTINGS, "expires": None}, date(2099, 1, 1))


def test_before_expiry_nothing_is_stopped():
    checked = service(SETTINGS, RUNNING)
    assert checked.check(date(2027, 12, 31)) == []
    assert checked.session.deleted == []  # type: ignore[attr-defined]


def test_after_expiry_every_running_server_is_stopped_and_recorded(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    settings = {**SETTINGS, "registry": {"registry_url": url}}
    checked = service(settings, RUNNING)
    assert checked.check(date(2028, 1, 1)) == ["alice"]
    assert checked.session.deleted == [  # type: ignore[attr-defined]
        "http://127.0.0.1:8000/hub/api/users/alice/server"
    ]
    engine = open_registry_url(url)
    rows = access_log.entries(engine, "demo", "alice")
    assert [(r.dataset, r.decision, r.reason) for r in rows] == [
        ("woz-2024", "revoked", "the sandbox expired on 2027-12-31")
    ]
    assert [e["subject"] for e in audit.entries(engine, "revoke")] == ["demo/alice"]


class Counting:
    def __init__(self) -> None:
        self.days: list[date] = []

    def check(self, today: date) -> list[str]:
        self.days.append(today)
        return []


def test_a_changed_clock_file_is_checked_within_seconds_not_an_hour(tmp_path: Path):
    clock = tmp_path / "today"
    clock.write_text("2027-12-31")
    counting, slept = Counting(), []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 3:
            clock.write_text("2028-01-01")
            os.utime(clock, ns=(1, 10**18))  # a new mtime even on a coarse clock

    def today() -> date:
        return date.fromisoformat(clock.read_text())

    expiry.run(counting, today, str(clock), sleep, rounds=2)  # type: ignore[arg-type]
    assert counting.days == [date(2027, 12, 31), date(2028, 1, 1)]
    assert sum(slept) == 3.0


def test_without_a_clock_file_the_next_check_is_an_hour_later():
    counting, slept = Counting(), []
    expiry.run(counting, lambda: date(2028, 1, 1), "", slept.append, rounds=2)  # type: ignore[arg-type]
    assert len(counting.days) == 2 and sum(slept) == expiry.CHECK_EVERY


def test_the_spawner_grants_are_found_whatever_the_spawner():
    assert list(expiry.user_datasets(SETTINGS)) == ["alice"]


def test_every_page_of_users_is_checked(tmp_path: Path):
    users = [{"name": f"user{i:03}", "servers": {}} for i in range(250)]
    users[240]["servers"] = {"": {}}  # on the second page of 200
    checked = service(SETTINGS, users)
    assert checked.check(date(2028, 1, 1)) == ["user240"]


def test_a_stopped_server_is_recorded_before_the_next_one_is_stopped(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    settings = {**SETTINGS, "registry": {"registry_url": url}}
    checked = service(settings, [{"name": n, "servers": {"": {}}} for n in ("alice", "bob")])
    checked.session = FakeSession(checked.session.users, fail_on="bob")  # type: ignore[attr-defined]
    with pytest.raises(requests.ConnectionError):
        checked.check(date(2028, 1, 1))
    engine = open_registry_url(url)
    assert [e["subject"] for e in audit.entries(engine, "revoke")] == ["demo/alice"]
