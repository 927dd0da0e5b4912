"""The hub-side loader: applies hub.json and secrets to a traitlets config."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest
from tornado import web
from traitlets.config import Config

from sandbox.host.secrets import ensure_secrets
from sandbox.hub.runtime import (
    configure,
    make_pre_spawn_hook,
    pass_docker_host,
    pick_service_ports,
)
from tests.conftest import stand_in_process


def write_settings(tmp_path: Path, **extra) -> Path:
    secrets = tmp_path / "secrets"
    ensure_secrets(secrets, ["proxy_token", "cli_token", "user_password", "admin_password"])
    settings = {
        "sandbox": "demo",
        "expires": "2027-12-31",
        "secrets_dir": str(secrets),
        "auth": "shared-password",
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
    assert os.environ["CONFIGPROXY_AUTH_TOKEN"] == (secrets / "proxy_token").read_text().strip()


def test_a_proxy_pidfile_naming_another_program_is_forgotten(tmp_path: Path, monkeypatch):
    """JupyterHub kills the live pid its proxy pidfile names at start: a pid
    since reused by another program must not be that pid."""
    monkeypatch.delenv("CONFIGPROXY_AUTH_TOKEN", raising=False)
    pidfile = tmp_path / "proxy.pid"
    traitlets = {"ConfigurableHTTPProxy": {"pid_file": str(pidfile)}}
    settings = write_settings(tmp_path)
    loaded = json.loads(settings.read_text())
    loaded["traitlets"].update(traitlets)
    settings.write_text(json.dumps(loaded))
    pidfile.write_text(str(os.getpid()))  # live, but pytest, not a proxy
    configure(Config(), settings)
    assert not pidfile.exists()
    with stand_in_process("configurable-http-proxy") as proxy:
        pidfile.write_text(str(proxy.pid))
        configure(Config(), settings)
        assert pidfile.read_text() == str(proxy.pid)  # a proxy: JupyterHub's to stop


def test_pre_spawn_hook_refuses_after_expiry():
    settings = ("demo", "2027-12-31")  # sandbox, expires
    make_pre_spawn_hook(*settings, today=lambda: date(2027, 12, 31))(None)
    with pytest.raises(web.HTTPError) as refused:
        make_pre_spawn_hook(*settings, today=lambda: date(2028, 1, 1))(None)
    assert refused.value.status_code == 403
    assert "expired on 2027-12-31" in str(refused.value.log_message)


def test_services_on_port_0_get_a_free_loopback_port():
    services = [{"name": "registry", "url": "http://127.0.0.1:0"}, {"name": "sandbox-cli"}]
    pick_service_ports(services)
    host, port = services[0]["url"].rsplit(":", 1)
    assert host == "http://127.0.0.1" and 1024 < int(port) < 65536
    assert services[1] == {"name": "sandbox-cli"}


def test_services_the_hub_runs_reach_the_hubs_docker_engine():
    services = [
        {"name": "registry", "command": ["python"], "environment": {"A": "1"}},
        {"name": "sandbox-cli"},  # not run by the hub
    ]
    pass_docker_host(services, "")
    assert services[0]["environment"] == {"A": "1"}
    pass_docker_host(services, "unix:///tmp/n1/docker.sock")
    assert services[0]["environment"] == {"A": "1", "DOCKER_HOST": "unix:///tmp/n1/docker.sock"}
    assert "environment" not in services[1]
