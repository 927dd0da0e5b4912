"""A tiny JupyterHub client for tests: log in through the form, spawn, wait."""

from __future__ import annotations

import json
import time
from pathlib import Path

import requests


def login_password(secrets: Path, user: str, admin: bool = False) -> str:
    """The password ``user`` logs in with: their own (auth per-user-password,
    made by `up`), else the sandbox's shared user or admin password."""
    own = secrets / f"password_{user}"
    if own.is_file():
        return own.read_text().strip()
    return (secrets / ("admin_password" if admin else "user_password")).read_text().strip()


class HubUser:
    def __init__(self, base: str, name: str, password: str):
        self.base, self.name = base, name
        self.session = requests.Session()
        self.session.get(f"{base}/hub/login", timeout=10)
        answer = self.session.post(
            f"{base}/hub/login",
            data={"username": name, "password": password, "_xsrf": self._xsrf},
            allow_redirects=False,
            timeout=10,
        )
        self.login_status = answer.status_code

    @property
    def _xsrf(self) -> str:
        return self.session.cookies.get("_xsrf", path="/hub/") or self.session.cookies.get(
            "_xsrf", ""
        )

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"X-XSRFToken": self._xsrf}
        return self.session.request(
            method, f"{self.base}/hub/api{path}", headers=headers, timeout=30, **kwargs
        )

    def spawn(self, timeout: float = 180) -> float:
        """Start the default server; return seconds until the hub says it is
        ready. Like the spawn page of a browser, it follows the hub's progress
        event stream instead of asking again and again."""
        start = time.monotonic()
        answer = self.api("POST", f"/users/{self.name}/server")
        if answer.status_code not in (201, 202, 400):
            raise AssertionError(f"spawn: {answer.status_code} {answer.text}")
        events = self.session.get(
            f"{self.base}/hub/api/users/{self.name}/server/progress",
            headers={"X-XSRFToken": self._xsrf, "Accept": "text/event-stream"},
            stream=True,
            timeout=(10, timeout),
        )
        with events:
            for line in events.iter_lines(decode_unicode=True):
                if not line or not line.startswith("data:"):
                    continue
                event = json.loads(line.removeprefix("data:"))
                if event.get("ready"):
                    return time.monotonic() - start
                if event.get("failed"):
                    raise AssertionError(f"spawn of {self.name} failed: {event.get('message')}")
                if time.monotonic() - start > timeout:
                    break
        raise AssertionError(f"server of {self.name} not ready after {timeout}s")

    def stop(self, timeout: float = 60) -> None:
        self.api("DELETE", f"/users/{self.name}/server")
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if not self.api("GET", f"/users/{self.name}").json().get("servers"):
                return
            time.sleep(0.3)
        raise AssertionError(f"server of {self.name} did not stop")
