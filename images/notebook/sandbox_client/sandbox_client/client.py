from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


class RegistryError(Exception):
    """The registry refused a request; ``status`` is the HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


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
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Authorization", f"token {self.token}")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("error", exc.reason)
            except ValueError:
                message = exc.reason
            raise RegistryError(exc.code, str(message)) from None
        except urllib.error.URLError as exc:
            raise RegistryError(0, f"registry unreachable: {exc.reason}") from None

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
        self._client._call("POST", f"/experiments/{self.id}/transitions", {"to": to, "reason": reason})
        return self.refresh()

    def refresh(self) -> Experiment:
        self.data = self._client._call("GET", f"/experiments/{self.id}")
        return self

    def __repr__(self) -> str:
        return f"<Experiment {self.id} {self.data.get('title')!r}: {self.state}>"


registry = Registry()
