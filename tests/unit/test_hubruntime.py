"""The hub-side loader: applies hub.json and secrets to a traitlets config."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from tornado import web
from traitlets.config import Config

from sandbox.hubruntime import configure, make_pre_spawn_hook, network_gateway
from sandbox.secrets import ensure_secrets


def write_settings(tmp_path: Path, **extra) -> Path:
    secrets = tmp_path / "secrets"
    ensure_secrets(secrets, ["proxy_token", "cli_token", "user_password", "admin_password"])
    settings = {
        "sandbox": "demo",
        "expires": "2027-12-31",
        "secrets_dir": str(secrets),
        "auth": "shared-password",
        "bridge_network": None,
        "traitlets": {
            "JupyterHub": {"port": 8000, "services": [{"name": "sandbox-cli"}]},
            "SandboxDockerSpawner": {"image": "x"},
        },
        **extra,
    }
    path = tmp_path / "hub.json"
    path.write_text(json.dumps(settings))
    return path


def test_configure_applies_settings_and_reads_secrets(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("CONFIGPROXY_AUTH_TOKEN", raising=False)
    c = Config()
    configure(c, write_settings(tmp_path))
    assert c.JupyterHub.port == 8000
    assert c.SandboxDockerSpawner.image == "x"
    secrets = tmp_path / "secrets"
    assert c.JupyterHub.services[0]["api_token"] == (secrets / "cli_token").read_text().strip()
    password = (secrets / "user_password").read_text().strip()
    assert c.SharedPasswordAuthenticator.user_password == password
    import os

    assert os.environ["CONFIGPROXY_AUTH_TOKEN"] == (secrets / "proxy_token").read_text().strip()


def test_pre_spawn_hook_refuses_after_expiry():
    settings = {"sandbox": "demo", "expires": "2027-12-31"}
    make_pre_spawn_hook(settings, today=lambda: date(2027, 12, 31))(None)
    with pytest.raises(web.HTTPError) as refused:
        make_pre_spawn_hook(settings, today=lambda: date(2028, 1, 1))(None)
    assert refused.value.status_code == 403
    assert "expired on 2027-12-31" in str(refused.value.log_message)


class FakeNetworks:
    def __init__(self, attrs):
        self.attrs = attrs

    def get(self, name):
        return self


class FakeClient:
    def __init__(self, attrs):
        self.networks = FakeNetworks(attrs)


def test_gateway_of_a_bridge_network():
    client = FakeClient({"IPAM": {"Config": [{"Subnet": "10.9.0.0/16", "Gateway": "10.9.0.1"}]}})
    assert network_gateway("sandbox-demo", client) == "10.9.0.1"
    with pytest.raises(RuntimeError, match="no gateway"):
        network_gateway("sandbox-demo", FakeClient({"IPAM": {"Config": []}}))


def test_bridge_containers_reach_the_hub_and_registry_on_the_gateway(tmp_path, monkeypatch):
    import sandbox.hubruntime as runtime

    monkeypatch.setattr(runtime, "network_gateway", lambda name: "10.9.0.1")
    path = write_settings(tmp_path, bridge_network="sandbox-demo")
    settings = json.loads(path.read_text())
    settings["traitlets"]["JupyterHub"]["services"].append(
        {"name": "registry", "url": "http://127.0.0.1:8003", "command": ["x"]}
    )
    settings["traitlets"]["Spawner"] = {"environment": {"SANDBOX_NAME": "demo"}}
    path.write_text(json.dumps(settings))
    c = Config()
    configure(c, path)
    assert (c.JupyterHub.hub_ip, c.JupyterHub.hub_connect_ip) == ("10.9.0.1", "10.9.0.1")
    registry = next(s for s in c.JupyterHub.services if s["name"] == "registry")
    assert registry["url"] == "http://10.9.0.1:8003"
    assert c.Spawner.environment == {
        "SANDBOX_NAME": "demo",
        "SANDBOX_REGISTRY_API": "http://10.9.0.1:8003/services/registry/api",
    }
