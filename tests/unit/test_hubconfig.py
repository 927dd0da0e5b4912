"""The hub configuration is a pure function of the model: tested without a hub."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.catalog import staged_datasets
from sandbox.config import load_config
from sandbox.hubconfig import HubInputs, hub_settings, user_mounts
from sandbox.layout import Layout


@pytest.fixture
def demo(demo_copy: Path):
    loaded = load_config(demo_copy)
    sandbox = loaded.config.sandbox("demo")
    layout = Layout(Path("/srv/state"))
    return sandbox, staged_datasets(loaded, sandbox, layout), layout


def settings_for(demo, mode: str = "bridge") -> dict:
    sandbox, staged, layout = demo
    inputs = HubInputs(layout, "sandbox-notebook:abc", "/venv/bin/python", "/chp", mode)
    return hub_settings(sandbox, staged, inputs)


def test_users_are_group_members_and_admins(demo):
    auth = settings_for(demo)["traitlets"]["Authenticator"]
    assert auth["admin_users"] == ["admin"]
    assert sorted(auth["allowed_users"]) == ["alice", "bob", "carol", "dave", "erin"]


def test_each_user_gets_exactly_the_datasets_of_their_groups(demo):
    sandbox, staged, _ = demo
    mounts = user_mounts(sandbox, staged)
    ids = {user: [m["id"] for m in entries] for user, entries in mounts.items()}
    assert ids["alice"] == ["cbs-wijken-2024", "woz-2024"]
    assert ids["bob"] == ids["alice"]
    assert ids["dave"] == ["cbs-wijken-2024", "meldingen-openbare-ruimte-2024"]
    assert ids["carol"] == [] and ids["admin"] == []
    woz = mounts["alice"][1]
    assert woz["path"].startswith("/srv/state/datasets/woz-2024/2024.1-")


def test_containers_are_hardened_and_limited(demo):
    spawner = settings_for(demo)["traitlets"]["SandboxDockerSpawner"]
    host = spawner["extra_host_config"]
    assert host["cap_drop"] == ["ALL"]
    assert host["security_opt"] == ["no-new-privileges"]
    assert host["privileged"] is False
    assert host["pids_limit"] == 512
    assert spawner["mem_limit"] == 2 * 1024**3
    assert spawner["cpu_limit"] == 1.0
    assert spawner["remove"] is True
    assert spawner["extra_create_kwargs"]["user"] == "1000:1000"
    assert spawner["volumes"] == {"sandbox-demo-home-{username}": "/home/jovyan"}


def test_bridge_mode_uses_the_sandbox_network(demo):
    spawner = settings_for(demo, "bridge")["traitlets"]["SandboxDockerSpawner"]
    assert spawner["network_name"] == "sandbox-demo"
    assert spawner["loopback"] is False
    assert "ip" not in spawner


def test_loopback_mode_binds_servers_to_127_0_0_1(demo):
    settings = settings_for(demo, "loopback")["traitlets"]
    assert settings["SandboxDockerSpawner"]["network_name"] == "host"
    assert settings["SandboxDockerSpawner"]["ip"] == "127.0.0.1"
    assert settings["JupyterHub"]["hub_ip"] == "127.0.0.1"


def test_hub_ports_and_files(demo):
    hub = settings_for(demo)["traitlets"]["JupyterHub"]
    assert (hub["ip"], hub["port"], hub["hub_port"]) == ("127.0.0.1", 8000, 8001)
    assert hub["cookie_secret_file"] == "/srv/state/sandboxes/demo/hub/secrets/cookie_secret"
    assert hub["cleanup_servers"] is False
    assert set(hub["load_groups"]) == {"belastingen", "leefomgeving", "management", "data-office"}


def test_idle_culler_is_a_hub_service_with_a_narrow_role(demo):
    hub = settings_for(demo)["traitlets"]["JupyterHub"]
    culler = next(s for s in hub["services"] if s["name"] == "idle-culler")
    assert "--timeout=3600" in culler["command"]
    role = next(r for r in hub["load_roles"] if r["name"] == "idle-culler")
    assert "delete:servers" in role["scopes"] and "admin:users" not in role["scopes"]


def test_no_secret_values_in_the_settings(demo):
    settings = settings_for(demo)
    # the login form's labels say "Password"; they are fixed texts, not values
    settings["traitlets"]["JupyterHub"].pop("template_vars")
    text = repr(settings)
    assert "password" not in text.replace("SharedPasswordAuthenticator", "").replace(
        "shared-password", ""
    )
    assert "api_token" not in text


def test_swarm_services_carry_the_same_hardening(demo):
    sandbox, staged, layout = demo
    swarm = sandbox.model_copy(update={"spawner": "swarm"})
    inputs = HubInputs(layout, "sandbox-notebook:abc", "/venv/bin/python", "/chp", "loopback")
    settings = hub_settings(swarm, staged, inputs)["traitlets"]
    assert settings["JupyterHub"]["spawner_class"] == "sandbox.spawner.SandboxSwarmSpawner"
    spawner = settings["SandboxSwarmSpawner"]
    spec = spawner["extra_container_spec"]
    assert spec["user"] == "1000:1000" and spec["cap_drop"] == ["ALL"]
    assert "user" not in spawner["extra_create_kwargs"]  # not an argument of create_service
    assert spawner["extra_create_kwargs"]["labels"]["org.data-sandbox.sandbox"] == "demo"
    assert spawner["pids_limit"] == 512 and spawner["tmp_size"] == 512 * 1024**2
    assert spawner["mem_limit"] == 2 * 1024**3 and spawner["cpu_limit"] == 1.0
    assert spawner["network_name"] == "host" and spawner["loopback"] is True
    assert spawner["extra_placement_spec"] == {"constraints": ["node.role == manager"]}
    assert "extra_host_config" not in spawner  # ignored by services; nothing pretends
    assert spawner["user_datasets"] == user_mounts(sandbox, staged)
