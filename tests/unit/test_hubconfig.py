"""The hub configuration is a pure function of the model: tested without a hub."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.config.loader import load_config
from sandbox.config.model import Network
from sandbox.governance.catalog import staged_datasets
from sandbox.host import names
from sandbox.host.layout import Layout
from sandbox.hub.settings import (
    NO_ICC,
    HubInputs,
    hub_settings,
    network_spec,
    user_mounts,
)


@pytest.fixture
def demo(demo_copy: Path):
    loaded = load_config(demo_copy)
    sandbox = loaded.config.sandbox("demo")
    layout = Layout(Path("/srv/state"))
    return sandbox, staged_datasets(loaded, sandbox, layout), layout


def settings_for(demo, **changes) -> dict:
    sandbox, staged, layout = demo
    inputs = HubInputs(layout, "sandbox-notebook:abc", "/venv/bin/python", "/chp")
    return hub_settings(sandbox.model_copy(update=changes), staged, inputs)


def test_users_are_group_members_and_admins(demo):
    auth = settings_for(demo)["traitlets"]["Authenticator"]
    assert auth["admin_users"] == ["admin"]
    assert sorted(auth["allowed_users"]) == ["alice", "bob", "carol", "dave", "erin", "frank"]
    # users still in the hub's database but no longer configured cannot log in
    assert auth["allow_existing_users"] is False


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
    assert spawner["remove"] is True and host["auto_remove"] is False  # see live-restore
    assert spawner["extra_create_kwargs"]["user"] == "1000:1000"
    assert spawner["volumes"] == {"sandbox-demo-home-{username}": "/home/jovyan"}
    assert host["read_only"] is True
    assert set(host["tmpfs"]) == {"/tmp", "/var/tmp", "/run"}
    assert all("noexec" in opts and "size=" in opts for opts in host["tmpfs"].values())
    assert host["tmpfs"]["/tmp"].endswith(",mode=1777") and host["tmpfs"]["/run"].endswith(
        ",mode=755"
    )
    assert host["log_config"] == {
        "type": "json-file",
        "config": {"max-size": "10m", "max-file": "3"},
    }


def test_no_egress_means_no_network_and_egress_an_own_bridge(demo):
    spawner = settings_for(demo)["traitlets"]["SandboxDockerSpawner"]
    assert spawner["network_name"] == "none"  # the demo: network.egress false
    open_sandbox = settings_for(demo, network=Network(egress=True))
    assert open_sandbox["traitlets"]["SandboxDockerSpawner"]["network_name"] == "sandbox-demo"
    sandbox = demo[0]
    assert network_spec(sandbox) is None
    network = network_spec(sandbox.model_copy(update={"network": Network(egress=True)}))
    assert network and network["create"] == [
        ["docker", "network", "create", "--label", "org.data-sandbox.sandbox=demo",
         "--label", "org.data-sandbox.design=bridge; no icc", "--opt", NO_ICC, "sandbox-demo"]
    ]  # fmt: skip
    assert network["labelled"] == "sandbox-demo"
    for key in ("ip", "use_internal_ip", "loopback"):
        assert key not in spawner


def test_hub_proxy_and_registry_listen_on_unix_sockets(demo):
    settings = settings_for(demo)["traitlets"]
    hub, sockets = settings["JupyterHub"], "%2Fsrv%2Fstate%2Fsockets%2Fdemo%2Fhub%2F"
    assert hub["hub_bind_url"] == hub["hub_connect_url"] == f"http+unix://{sockets}hub.sock"
    assert hub["hub_socket_mode"] == 0o666  # the folder is reachable by root and containers only
    proxy_api = "http+unix://%2Fsrv%2Fstate%2Fsockets%2Fdemo%2Fproxy.sock"
    assert settings["ConfigurableHTTPProxy"]["api_url"] == proxy_api
    registry = next(s for s in hub["services"] if s["name"] == "registry")
    assert registry["url"] == "http://127.0.0.1:0"  # the proxy's route: a port picked at start
    assert settings_for(demo)["registry"]["socket"] == "/srv/state/sockets/demo/hub/registry.sock"
    # containers see the hub's socket folder at /sandbox/hub, read-only
    assert settings["Spawner"]["environment"]["SANDBOX_REGISTRY_API"] == (
        "http+unix://%2Fsandbox%2Fhub%2Fregistry.sock/services/registry/api"
    )
    spawner = settings["SandboxDockerSpawner"]
    assert spawner["hub_connect_url"] == "http+unix://%2Fsandbox%2Fhub%2Fhub.sock"
    assert spawner["state_dir"] == "/srv/state"


def test_hub_ports_and_files(demo):
    hub = settings_for(demo)["traitlets"]["JupyterHub"]
    assert (hub["ip"], hub["port"]) == ("127.0.0.1", 8000)
    assert "hub_port" not in hub and "hub_ip" not in hub
    assert hub["cookie_secret_file"] == "/srv/state/sandboxes/demo/hub/secrets/cookie_secret"
    assert hub["cleanup_servers"] is False
    assert set(hub["load_groups"]) == {"belastingen", "leefomgeving", "management", "data-office"}
    # every answer names the sandbox: `up` and `status` check who answers on the port
    assert hub["tornado_settings"]["headers"] == {"X-Data-Sandbox": "demo"}


def test_idle_culler_is_a_hub_service_with_a_narrow_role(demo):
    hub = settings_for(demo)["traitlets"]["JupyterHub"]
    culler = next(s for s in hub["services"] if s["name"] == "idle-culler")
    assert "--timeout=3600" in culler["command"]
    assert "--url=http://127.0.0.1:8000/hub/api" in culler["command"]  # through the proxy
    role = next(r for r in hub["load_roles"] if r["name"] == "idle-culler")
    assert "delete:servers" in role["scopes"] and "admin:users" not in role["scopes"]


def test_no_secret_values_in_the_settings(demo):
    settings = settings_for(demo)
    # the login form's labels say "Password"; they are fixed texts, not values
    settings["traitlets"]["JupyterHub"].pop("template_vars")
    text = repr(settings)
    names = ("SharedPassword", "shared-password", "PerUserPassword", "per-user-password")
    for name in (*names, "password_login"):
        text = text.replace(name, "")  # the authenticator's name, not a value
    assert "password" not in text
    assert "api_token" not in text


def test_swarm_services_carry_the_same_hardening(demo):
    sandbox, staged, layout = demo
    swarm = sandbox.model_copy(update={"spawner": "swarm"})
    inputs = HubInputs(layout, "sandbox-notebook:abc", "/venv/bin/python", "/chp")
    settings = hub_settings(swarm, staged, inputs)["traitlets"]
    assert settings["JupyterHub"]["spawner_class"] == "sandbox.hub.swarm.SandboxSwarmSpawner"
    spawner = settings["SandboxSwarmSpawner"]
    spec = spawner["extra_container_spec"]
    assert spec["user"] == "1000:1000" and spec["cap_drop"] == ["ALL"]
    assert spec["read_only"] is True
    log = spawner["extra_task_spec"]["log_driver"]
    assert log["Options"] == {"max-size": "10m", "max-file": "3"}
    assert "user" not in spawner["extra_create_kwargs"]  # not an argument of create_service
    assert spawner["extra_create_kwargs"]["labels"]["org.data-sandbox.sandbox"] == "demo"
    assert spawner["pids_limit"] == 512 and spawner["tmpfs"]["/tmp"]["size"] == 512 * 1024**2
    assert spawner["mem_limit"] == 2 * 1024**3 and spawner["cpu_limit"] == 1.0
    # each server gets an overlay network of its own from the spawner: none
    # made for the whole sandbox, no published port, found by DNS
    assert spawner["network_name"] == "" and network_spec(swarm) is None
    assert spawner["use_internal_ip"] is True and spawner["egress"] is False
    assert spawner["extra_endpoint_spec"] == {"mode": "dnsrr"}
    assert spawner["hub_connect_url"] == "http://hub:8081"
    assert spawner["relay_script"].endswith("sandbox/host/relay.py")
    assert spawner["extra_task_spec"]["restart_policy"]["Condition"] == "none"
    # placed on nodes that staged exactly these dataset versions
    (constraint,) = spawner["extra_placement_spec"]["constraints"]
    digest = names.staged_digest(str(s.path) for s in staged.values())
    assert constraint == f"node.labels.org.data-sandbox.staged.demo == {digest}"
    assert "extra_host_config" not in spawner  # ignored by services; nothing pretends
    assert spawner["user_datasets"] == user_mounts(sandbox, staged)


def test_a_sandbox_with_an_expiry_date_runs_the_expiry_service(demo):
    hub = settings_for(demo)["traitlets"]["JupyterHub"]
    service = next(s for s in hub["services"] if s["name"] == "expiry")
    assert service["command"][-3:] == [
        "sandbox.hub.expiry",
        "/srv/state/sandboxes/demo/hub/hub.json",
        "http://127.0.0.1:8000/hub/api",
    ]
    role = next(r for r in hub["load_roles"] if r["name"] == "expiry")
    assert role["scopes"] == ["list:users", "read:servers", "delete:servers"]
    without = settings_for(demo, expires=None)["traitlets"]["JupyterHub"]
    assert "expiry" not in [s["name"] for s in without["services"]]


def test_team_folders_are_for_groups_that_did_not_opt_out():
    from sandbox.config.model import Sandbox
    from sandbox.hub.settings import team_folder_settings

    sandbox = Sandbox.model_validate(
        {
            "name": "demo",
            "groups": [
                {"name": "belastingen", "members": ["alice", "bob"]},
                {
                    "name": "stewards",
                    "role": "steward",
                    "members": ["erin"],
                    "shared_folder": False,
                },
            ],
        }
    )
    settings = team_folder_settings(sandbox)
    assert settings["team_folders"] == {"belastingen": "sandbox-demo-shared-belastingen"}
    assert settings["member_groups"]["alice"] == ["belastingen"]
    assert settings["member_groups"]["erin"] == ["stewards"]
    assert settings["groups_at_login"] is False
