"""Access that ends at `up`: revocations and how they are carried out.

A revocation is what a user had at the last `up` (``applied.json``) and no
longer has in the model: every dataset and the login of a user removed from
every group (and from the admins), or the datasets of grants their groups
lost. ``up`` carries each out on the running hub, after the hub restarted
with its new settings (which already refuse the login: the authenticator
allows the configured users only):

- a user removed from the sandbox is deleted from the hub (``DELETE
  /users/NAME``), which stops their server first: their cookies and tokens
  die with them, and the hub API no longer lists them;
- a user who lost a grant keeps their login, and a running server is
  stopped: the dataset is mounted at server start only, so the next start
  (by the user, from the spawn page) mounts what is still granted. The hub
  does not restart it for them: a server started on someone's behalf would
  run code they did not ask for.

Each revocation is written to the access log (decision ``revoked``, one row
per dataset) and to the audit chain (kind ``revoke``), after it took effect.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from ..config.model import Sandbox
from ..errors import ProvisionError
from ..governance.catalog import StagedDataset
from ..host.layout import Layout
from ..hub.settings import hub_api

REMOVED = "removed from every group of the sandbox"
LOST_GRANT = "no group of the user is granted this dataset any more"
STOP_TIMEOUT = 120.0  # seconds a server may take to stop


@dataclass(frozen=True)
class Revocation:
    user: str
    datasets: tuple[str, ...]
    login: bool  # removed from the sandbox altogether

    @property
    def key(self) -> str:
        """The same revocation, planned again, has the same key."""
        return f"{self.user}|{','.join(self.datasets)}|{'login' if self.login else ''}"

    def describe(self) -> str:
        what = [*self.datasets, *(["login"] if self.login else [])]
        return f"{', '.join(what)} (server will be stopped)"


@dataclass
class Enforced:
    """A revocation carried out: whether a server was running, and how long
    from the first request until it was gone."""

    revocation: Revocation
    sandbox: str = ""
    server_stopped: bool = False
    seconds: float = 0.0
    entries: list[Any] = field(default_factory=list)  # access_log.AccessEntry


def revocations(desired: Mapping[str, Any], applied: Mapping[str, Any] | None) -> list[Revocation]:
    """What ends between ``applied`` and ``desired`` (an applied.json from an
    older version has no grants: only removed users are found then)."""
    if applied is None:
        return []
    old_grants: Mapping[str, list[str]] = applied.get("grants") or {}
    new_grants: Mapping[str, list[str]] = desired.get("grants") or {}
    new_users = set(desired.get("users", []))
    found = []
    for user in sorted(applied.get("users", [])):
        had = old_grants.get(user, [])
        if user not in new_users:
            found.append(Revocation(user, tuple(sorted(had)), login=True))
            continue
        lost = sorted(set(had) - set(new_grants.get(user, [])))
        if lost:
            found.append(Revocation(user, tuple(lost), login=False))
    return found


class HubAdmin:
    """The hub API with the CLI's service token (scopes in hub.settings)."""

    def __init__(self, sandbox: Sandbox, layout: Layout, timeout: float = 10.0):
        token_file = layout.secret(sandbox.name, "cli_token")
        if not token_file.is_file():
            raise ProvisionError(
                f"sandbox {sandbox.name}: cannot revoke access: no hub token at {token_file} "
                "(run `sandbox up` where the state directory of the hub is)"
            )
        self.api = hub_api(sandbox)
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {token_file.read_text().strip()}"

    def request(self, method: str, path: str) -> requests.Response:
        try:
            return self.session.request(method, self.api + path, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ProvisionError(f"hub API {method} {path}: {exc}") from exc

    def servers(self, user: str) -> dict[str, Any] | None:
        """The user's servers; None when the hub does not know the user."""
        answer = self.request("GET", f"/users/{user}")
        if answer.status_code == 404:
            return None
        self._check(answer, f"GET /users/{user}")
        return answer.json().get("servers") or {}

    def delete_user(self, user: str) -> None:
        """Stop the user's server and delete them; wait while a stop is pending."""
        deadline = time.monotonic() + STOP_TIMEOUT
        while True:
            answer = self.request("DELETE", f"/users/{user}")
            if answer.status_code in (204, 404):
                return
            if answer.status_code != 400 or time.monotonic() > deadline:
                self._check(answer, f"DELETE /users/{user}")
            time.sleep(0.5)

    def stop_server(self, user: str) -> None:
        answer = self.request("DELETE", f"/users/{user}/server")
        if answer.status_code not in (202, 204, 400, 404):
            self._check(answer, f"DELETE /users/{user}/server")
        deadline = time.monotonic() + STOP_TIMEOUT
        while self.servers(user):
            if time.monotonic() > deadline:
                raise ProvisionError(f"the server of {user} did not stop in {STOP_TIMEOUT:.0f} s")
            time.sleep(0.3)

    @staticmethod
    def _check(answer: requests.Response, what: str) -> None:
        if answer.status_code >= 400:
            raise ProvisionError(f"hub API {what}: {answer.status_code} {answer.text[:200]}")


def enforce(
    sandbox: Sandbox,
    found: list[Revocation],
    applied_versions: Mapping[str, str],
    staged: Mapping[str, StagedDataset],
    layout: Layout,
    done_one: Callable[[Enforced], None] | None = None,
) -> list[Enforced]:
    """Carry out each revocation on the hub; return what was done, with the
    access-log entries to record. ``done_one`` is called (to record it) right
    after each took effect: a later one that fails leaves none unrecorded."""
    from ..registry.access_log import AccessEntry

    if not found:
        return []
    hub = HubAdmin(sandbox, layout)
    done = []
    for revocation in found:
        started = time.monotonic()
        running = bool(hub.servers(revocation.user))
        if revocation.login:
            hub.delete_user(revocation.user)
        elif running:
            hub.stop_server(revocation.user)
        result = Enforced(revocation, sandbox.name, running, time.monotonic() - started)
        trace, at = uuid.uuid4().hex, datetime.now(UTC)
        for dataset in revocation.datasets:
            known = staged.get(dataset)
            result.entries.append(
                AccessEntry(
                    trace_id=trace,
                    at=at,
                    user=revocation.user,
                    sandbox=sandbox.name,
                    dataset=dataset,
                    version=known.version if known else applied_versions.get(dataset, ""),
                    sha256=known.digest if known else "",
                    purpose="",
                    legal_basis=", ".join(known.legal_basis) if known else "",
                    processing_activity=known.processing_activity if known else "",
                    decision="revoked",
                    reason=REMOVED if revocation.login else LOST_GRANT,
                )
            )
        if done_one is not None:
            done_one(result)
        done.append(result)
    return done


def record(registry_url: str, actor: str, sandbox: str, done: list[Enforced]) -> None:
    """One audit entry per revoked user, holding their access-log rows."""
    from ..registry import access_log
    from ..registry.db import open_registry_url

    engine = open_registry_url(registry_url)
    for item in done:
        access_log.record_revocation(
            engine,
            actor or "unknown",
            sandbox,
            item.revocation.user,
            item.entries,
            {
                "datasets": list(item.revocation.datasets),
                "login": item.revocation.login,
                "server_stopped": item.server_stopped,
                "seconds": round(item.seconds, 2),
            },
        )
