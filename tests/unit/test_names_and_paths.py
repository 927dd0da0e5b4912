"""Each fact stated once: every path in the state directory comes from
``sandbox.host.layout.Layout``, every name Python shares with the playbooks and
Docker from ``sandbox.host.names``; the playbooks receive both as extravars
and spell neither."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from sandbox.config.loader import load_config
from sandbox.config.model import Network
from sandbox.host import names
from sandbox.host.layout import Layout
from sandbox.hub.settings import HubInputs, hub_settings, network_spec

PROJECT = Path(__file__).resolve().parents[2]
PACKAGE = PROJECT / "sandbox"
PLAYBOOKS = PROJECT / "playbooks"
ROOT = Path("/srv/state")

# Layout's methods and where each puts its path, relative to the state directory.
LAYOUT = {
    "sandboxes_dir": ((), "sandboxes"),
    "sandbox_dir": (("demo",), "sandboxes/demo"),
    "applied": (("demo",), "sandboxes/demo/applied.json"),
    "hub_checksum_cache": (("demo",), "sandboxes/demo/checksums.json"),
    "notices_dir": (("demo",), "sandboxes/demo/notices"),
    "homes_dir": (("demo",), "sandboxes/demo/homes"),
    "hub_dir": (("demo",), "sandboxes/demo/hub"),
    "secrets_dir": (("demo",), "sandboxes/demo/hub/secrets"),
    "secret": (("demo", "cookie_secret"), "sandboxes/demo/hub/secrets/cookie_secret"),
    "hub_settings": (("demo",), "sandboxes/demo/hub/hub.json"),
    "hub_loader": (("demo",), "sandboxes/demo/hub/jupyterhub_config.py"),
    "hub_database": (("demo",), "sandboxes/demo/hub/jupyterhub.sqlite"),
    "pidfile": (("demo",), "sandboxes/demo/hub/jupyterhub.pid"),
    "logfile": (("demo",), "sandboxes/demo/hub/jupyterhub.log"),
    "proxy_pidfile": (("demo",), "sandboxes/demo/hub/proxy.pid"),
    "sockets_root": ((), "sockets"),
    "sockets_dir": (("demo",), "sockets/demo"),
    "hub_sockets": (("demo",), "sockets/demo/hub"),
    "hub_socket": (("demo",), "sockets/demo/hub/hub.sock"),
    "registry_socket": (("demo",), "sockets/demo/hub/registry.sock"),
    "proxy_api_socket": (("demo",), "sockets/demo/proxy.sock"),
    "datasets_dir": ((), "datasets"),
    "dataset_version_dir": (("woz", "1-abc"), "datasets/woz/1-abc"),
    "staged_marker": (("woz", "1-abc"), "datasets/woz/1-abc/.staged"),
    "uploads_dir": ((), "uploads"),
    "upload_dir": (("woz",), "uploads/woz"),
    "upload_extras": (("woz",), "uploads/woz-extras.json"),
    "verify_cache": ((), "checksums.json"),
    "dockerd_pidfile": ((), "dockerd/dockerd.pid"),
    "dockerd_logfile": ((), "dockerd/dockerd.log"),
    "proxy_prefix": ((), "proxy"),
    "proxy_command": ((), "proxy/node_modules/.bin/configurable-http-proxy"),
    "cache_dir": ((), "cache"),
    "restored_config": ((), "restored-config"),
}


def test_the_layout_puts_every_path_where_the_readme_says():
    layout = Layout(ROOT)
    public = {
        name
        for name, value in vars(Layout).items()
        if not name.startswith("_") and callable(value) and name != "root"
    }
    per_user = {"user_sockets", "server_socket"}  # named by a digest: checked below
    assert public - per_user == set(LAYOUT), "a new Layout method needs its row in LAYOUT"
    for method, (args, relative) in LAYOUT.items():
        assert getattr(layout, method)(*args) == ROOT / relative, method
    assert layout.registry_db == ROOT / "registry.sqlite"
    user = layout.server_socket("demo", "alice")
    assert user.parent.parent == layout.sockets_dir("demo") and user.name == "jupyter.sock"


# File names the layout decides. Python elsewhere never spells one: it asks
# the layout. Exceptions, with why:
LEAF_NAMES = {
    "checksums.json", "applied.json", "notices", "homes", "hub.json",
    "jupyterhub_config.py", "jupyterhub.sqlite", "jupyterhub.pid", "jupyterhub.log",
    "proxy.pid", "uploads", "dockerd.pid", "dockerd.log", "restored-config",
    "registry.sqlite", "jupyter.sock", "hub.sock", "registry.sock", "proxy.sock",
    ".staged", "-extras.json",
}  # fmt: skip
ALLOWED = {
    # the names of the members of a backup archive, not of the state directory
    ("sandbox/provisioning/backup.py", "jupyterhub.sqlite"),
    ("sandbox/provisioning/backup.py", "registry.sqlite"),
    # the project's copy of the loader, which the hub's copy is made from
    ("sandbox/provisioning/context.py", "jupyterhub_config.py"),
    # the loader runs inside the hub and reads the hub.json beside itself
    ("sandbox/hub/jupyterhub_config.py", "hub.json"),
}


def test_python_builds_no_state_path_by_hand():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = str(path.relative_to(PROJECT))
        if where in ("sandbox/host/layout.py", "sandbox/host/names.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Constant)
                and node.value in LEAF_NAMES
                and (where, node.value) not in ALLOWED
            ):
                found.append(f"{where}:{node.lineno}: {node.value!r}")
    assert not found, "ask sandbox.host.layout.Layout instead:\n" + "\n".join(found)


def test_python_spells_no_shared_name():
    """Labels and the sandbox-<name> prefixes live in sandbox/host/names.py."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = str(path.relative_to(PROJECT))
        if where == "sandbox/host/names.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "org.data-sandbox" in line or re.search(r"sandbox-\{[^}]*\}-", line):
                found.append(f"{where}:{number}: {line.strip()}")
    assert not found, "use sandbox.host.names:\n" + "\n".join(found)


def test_names_fit_together():
    assert names.container_name("demo", "alice") == "sandbox-demo-alice"
    assert names.container_name("demo", "alice").startswith(names.container_prefix("demo"))
    assert names.home_volume("demo", "alice") == "sandbox-demo-home-alice"
    assert names.home_volume("demo", "alice").startswith(names.home_volume_prefix("demo"))
    assert names.network_config_name("demo") == names.network_name("demo") + "-config"
    assert set(names.LABELS.values()) == {
        names.LABEL_SANDBOX, names.LABEL_USER, names.LABEL_IMAGE, names.LABEL_DESIGN,
    }  # fmt: skip
    assert all(label.startswith("org.data-sandbox.") for label in names.LABELS.values())


@pytest.fixture
def loaded(demo_copy: Path):
    return load_config(demo_copy)


def test_hub_settings_take_their_paths_and_names_from_the_modules(loaded):
    sandbox = loaded.config.sandbox("demo")
    layout = Layout(ROOT)
    from sandbox.governance.catalog import staged_datasets

    inputs = HubInputs(layout, "sandbox-notebook:abc", "/venv/bin/python", "/chp")
    settings = hub_settings(sandbox, staged_datasets(loaded, sandbox, layout), inputs)
    hub, spawner = (
        settings["traitlets"]["JupyterHub"],
        settings["traitlets"]["SandboxDockerSpawner"],
    )
    assert hub["db_url"] == f"sqlite:///{layout.hub_database('demo')}"
    assert settings["traitlets"]["ConfigurableHTTPProxy"]["pid_file"] == str(
        layout.proxy_pidfile("demo")
    )
    assert spawner["checksum_cache"] == str(layout.hub_checksum_cache("demo"))
    assert spawner["notices_dir"] == str(layout.notices_dir("demo"))
    assert spawner["name_template"] == names.container_prefix("demo") + "{username}"
    assert list(spawner["volumes"]) == [names.home_volume_prefix("demo") + "{username}"]
    labels = spawner["extra_create_kwargs"]["labels"]
    assert labels == {names.LABEL_SANDBOX: "demo", names.LABEL_USER: "{username}"}
    local = hub_settings(
        sandbox.model_copy(update={"spawner": "local"}),
        staged_datasets(loaded, sandbox, layout),
        inputs,
    )
    assert local["traitlets"]["SandboxLocalSpawner"]["homes_dir"] == str(layout.homes_dir("demo"))
    egress = network_spec(sandbox.model_copy(update={"network": Network(egress=True)}))
    assert egress and egress["design_label"] == names.LABEL_DESIGN


# --- the playbooks


def role_files(role: Path) -> list[Path]:
    return sorted(p for p in role.rglob("*.yml") if p.parent.name != "meta")


def playbook_files() -> list[Path]:
    return sorted(PLAYBOOKS.rglob("*.yml"))


def test_the_playbooks_spell_no_shared_name_and_build_no_path():
    spelled = ["org.data-sandbox", ".staged", "sandbox_state_dir", "sandbox-{{", "hub.json"]
    found = []
    for path in playbook_files():
        if path.parent.name == "meta":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split(" #", 1)[0]
            where = f"{path.relative_to(PROJECT)}:{number}: {line.strip()}"
            found += [f"{where} (spells {word})" for word in spelled if word in code]
            # "{{ x }}/name": a path built in YAML (a trailing slash is no path);
            # the build context is a temporary folder whose files the Dockerfile names
            built = re.search(r"\}\}/[\w.-]", code) or re.search(r"~ *'/", code)
            if built and "images_context.path" not in code:
                found.append(f"{where} (builds a path)")
    assert not found, "pass it from sandbox/provisioning/ansible.py:\n" + "\n".join(found)
