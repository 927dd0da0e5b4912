from __future__ import annotations

import http.client
import json
import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit


class RegistryError(Exception):
    """The registry refused a request; ``status`` is the HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class UnixConnection(http.client.HTTPConnection):
    """HTTP over a unix socket: the registry's socket, mounted read-only from
    the hub's host (the container has no network to reach it by)."""

    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def connection(url: str, timeout: float = 30) -> tuple[http.client.HTTPConnection, str]:
    """A connection for ``http://``, ``https://`` or ``http+unix://`` URLs, and
    the path (with query) to request on it."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if parts.scheme == "http+unix":
        return UnixConnection(unquote(parts.netloc), timeout), path
    if parts.scheme == "https":
        return http.client.HTTPSConnection(parts.netloc, timeout=timeout), path
    return http.client.HTTPConnection(parts.netloc, timeout=timeout), path


def mounted_datasets(data_dir: Path) -> dict[str, dict[str, Any]]:
    """dataset id -> version and file checksums, from each /data/<id>/datapackage.json."""
    found: dict[str, dict[str, Any]] = {}
    if not data_dir.is_dir():
        return found
    for package_file in sorted(data_dir.glob("*/datapackage.json")):
        try:
            package = json.loads(package_file.read_text())
        except (OSError, ValueError):
            continue
        found[package_file.parent.name] = {
            "version": package.get("version"),
            "files": {r["path"]: r.get("hash", "") for r in package.get("resources", [])},
        }
    return found


class Registry:
    def __init__(self, url: str | None = None, token: str | None = None, data_dir: str = "/data"):
        self.url = (url or os.environ.get("SANDBOX_REGISTRY_API", "")).rstrip("/")
        self.token = token or os.environ.get("JUPYTERHUB_API_TOKEN", "")
        self.data_dir = Path(os.environ.get("SANDBOX_DATA_DIR", data_dir))

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        if not self.url:
            raise RegistryError(0, "no registry configured (SANDBOX_REGISTRY_API is not set)")
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"token {self.token}", "Content-Type": "application/json"}
        conn, target = connection(self.url + path)
        try:
            conn.request(method, target, body=data, headers=headers)
            answer = conn.getresponse()
            payload = answer.read()
        except OSError as exc:
            raise RegistryError(0, f"registry unreachable: {exc}") from None
        finally:
            conn.close()
        if answer.status >= 400:
            try:
                message = json.loads(payload).get("error", answer.reason)
            except (ValueError, AttributeError):
                message = answer.reason
            raise RegistryError(answer.status, str(message))
        return json.loads(payload or b"null")

    def register(self, title: str, purpose: str, **fields: Any) -> Experiment:
        """Register an experiment (state proposed) with the mounted dataset versions."""
        versions = mounted_datasets(self.data_dir)
        fields.setdefault("datasets", sorted(versions))
        body = {"title": title, "purpose": purpose, "dataset_versions": versions, **fields}
        return Experiment(self, self._call("POST", "/experiments", body))

    def get(self, experiment_id: str) -> Experiment:
        return Experiment(self, self._call("GET", f"/experiments/{experiment_id}"))

    def list(self) -> list[Experiment]:
        return [Experiment(self, item) for item in self._call("GET", "/experiments")]

    def me(self) -> dict[str, Any]:
        return self._call("GET", "/me")


class Experiment:
    def __init__(self, client: Registry, data: dict[str, Any]):
        self._client = client
        self.data = data

    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def state(self) -> str:
        return self.data["state"]

    def transition(self, to: str, reason: str = "") -> Experiment:
        """Move to the next state; approved, stopped and in_production need a
        reason (the registry refuses the step without one: RegistryError 400)."""
        body = {"to": to, "reason": reason}
        self._client._call("POST", f"/experiments/{self.id}/transitions", body)
        return self.refresh()

    def amend(self, reason: str = "", **fields: Any) -> Experiment:
        """Give some fields new values, e.g. ``amend(risks="...", reason="DPIA
        done")``: an amendment event in the experiment's history; what was
        registered stays there too."""
        body = {"fields": fields, "reason": reason}
        self._client._call("POST", f"/experiments/{self.id}/amendments", body)
        return self.refresh()

    def refresh(self) -> Experiment:
        self.data = self._client._call("GET", f"/experiments/{self.id}")
        return self

    def __repr__(self) -> str:
        return f"<Experiment {self.id} {self.data.get('title')!r}: {self.state}>"


registry = Registry()
