"""A hub-managed service that ends a sandbox's access at its expiry date.

The pre-spawn hook refuses new servers after ``expires``; this service stops
the ones still running. It checks when it starts and then hourly, and, when
tests or drills pin "today" in a clock file, again as soon as that file
changes. Each server it stops is recorded: a ``revoked`` access-log row per
dataset the user had mounted, under one audit entry (kind ``revoke``).

Run by the hub as ``python -m sandbox.hub.expiry HUB_JSON HUB_API_URL`` with
the token the hub hands its services (``JUPYTERHUB_API_TOKEN``).
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import requests

from ..registry import access_log
from ..registry.db import open_registry_url
from .runtime import clock
from .settings import HubSettings

CHECK_EVERY = 3600.0  # seconds between checks (the clock file is watched every second)
REASON = "the sandbox expired on {expires}"
PAGINATED = "application/jupyterhub-pagination+json"  # JupyterHub 2+: pages with a "next"


def expired(settings: HubSettings, today: date) -> bool:
    expires = settings["expires"]
    return bool(expires) and today > date.fromisoformat(str(expires))


def user_datasets(settings: HubSettings) -> dict[str, list[dict[str, Any]]]:
    """The spawner's username -> granted datasets, whichever spawner it is."""
    for section in settings["traitlets"].values():
        if "user_datasets" in section:
            return dict(section["user_datasets"])
    return {}


class Expiry:
    def __init__(self, settings: HubSettings, api: str, token: str):
        self.settings, self.api = settings, api.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {token}"

    def running(self) -> list[str]:
        """Users with a running server, from every page of the hub's list
        (a page holds 200 users by default)."""
        found: list[dict[str, Any]] = []
        offset: int | None = 0
        while offset is not None:
            answer = self.session.get(
                f"{self.api}/users",
                params={"state": "active", "offset": str(offset)},
                headers={"Accept": PAGINATED},
                timeout=30,
            )
            answer.raise_for_status()
            body = answer.json()
            if isinstance(body, list):  # a hub without pagination: all in one answer
                found += body
                break
            found += body["items"]
            following = (body.get("_pagination") or {}).get("next")
            offset = following["offset"] if following and body["items"] else None
        return sorted(u["name"] for u in found if u.get("servers"))

    def stop_all(self) -> list[str]:
        """Stop every running server, recording each as soon as it is stopped."""
        stopped = []
        for user in self.running():
            answer = self.session.delete(f"{self.api}/users/{user}/server", timeout=60)
            if answer.status_code in (202, 204):
                self.record([user])
                stopped.append(user)
        return stopped

    def record(self, users: list[str]) -> None:
        url = self.settings["registry"]["registry_url"]
        if not (users and url):
            return
        engine, name = open_registry_url(url), self.settings["sandbox"]
        reason = REASON.format(expires=self.settings["expires"])
        granted = user_datasets(self.settings)
        for user in users:
            trace, at = uuid.uuid4().hex, datetime.now(UTC)
            rows = [
                access_log.mount_entry(entry, trace, at, user, name, "revoked", reason)
                for entry in granted.get(user, [])
            ]
            details = {"expired": self.settings["expires"], "server_stopped": True}
            access_log.record_revocation(engine, "expiry", name, user, rows, details)

    def check(self, today: date) -> list[str]:
        """Stop and record every running server when the sandbox has expired."""
        if not expired(self.settings, today):
            return []
        return self.stop_all()


def clock_stamp(clock_file: str) -> float | None:
    try:
        return os.stat(clock_file).st_mtime_ns if clock_file else None
    except OSError:
        return None


def run(
    expiry: Expiry,
    today: Callable[[], date],
    clock_file: str,
    sleep: Callable[[float], None] = time.sleep,
    rounds: int | None = None,
) -> None:
    """Check now, then hourly or when the clock file changes (``rounds``: tests)."""
    done = 0
    while rounds is None or done < rounds:
        stamp = clock_stamp(clock_file)
        try:
            stopped = expiry.check(today())
            if stopped:
                print(f"expired: stopped the servers of {', '.join(stopped)}", flush=True)
        except (requests.RequestException, OSError, ValueError) as exc:
            print(f"expiry check failed: {exc}", file=sys.stderr, flush=True)
        done += 1
        waited = 0.0
        while waited < CHECK_EVERY and (rounds is None or done < rounds):
            sleep(1.0)
            waited += 1.0
            if clock_file and clock_stamp(clock_file) != stamp:
                break


def main(argv: list[str]) -> None:
    settings: HubSettings = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    expiry = Expiry(settings, argv[2], os.environ["JUPYTERHUB_API_TOKEN"])
    run(expiry, clock(settings["clock_file"] or None), settings["clock_file"])


if __name__ == "__main__":
    main(sys.argv)
