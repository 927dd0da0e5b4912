"""Each fact stated once: every path in the state directory comes from
``sandbox.host.layout.Layout``, every name Python shares with the playbooks and
Docker from ``sandbox.host.names``; the playbooks receive both as extravars
and spell neither. Every role declares what it reads (meta/argument_specs.yml),
and what ``sandbox up`` passes passes that check."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from sandbox.config.loader import load_config
from sandbox.config.model import Network
from sandbox.host import names
from sandbox.host.layout import Layout
from sandbox.hub.settings import HubInputs, hub_settings, network_spec
from sandbox.provisioning.ansible import extravars
from sandbox.provisioning.context import Context
from sandbox.provisioning.plan import build

PROJECT = Path(__file__).resolve().parents[2]
PACKAGE = PROJECT / "sandbox"
PLAYBOOKS = PROJECT / "playbooks"
ROLES = sorted(p for p in (PLAYBOOKS / "roles").iterdir() if p.is_dir())
ROOT = Path("/srv/state")

# Layout's methods and where each puts its path, relative to the state directory.
LAYOUT = {
    "sandboxes_dir": ((), "sandboxes"),
    "sandbox_dir": (("demo",), "sandboxes/demo"),
    "applied": (("demo",), "sandboxes/demo/applied.json"),
    "access_kept": (("demo",), "sandboxes/demo/access.json"),
    "revocations_done": (("demo",), "sandboxes/demo/revoked.json"),
    "retention_destroyed": ((), "retention-destroyed.json"),
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
    "witness_file": ((), "audit/heads.jsonl"),
    "airlock_dir": (("demo",), "sandboxes/demo/airlock"),
    "offboarding_pending": (("demo",), "sandboxes/demo/offboarding.json"),
    "offboarding_dir": (("demo",), "offboarding/demo"),
    "outbox_dir": (("demo",), "sandboxes/demo/outbox"),
}


def test_the_layout_puts_every_path_where_the_readme_says():
    layout = Layout(ROOT)
    public = {
        name
        for name, value in vars(Layout).items()
        if not name.startswith("_") and callable(value) and name != "root"
    }
    per_user = {"user_sockets", "server_socket"}  # named by a digest: checked below
    listing = {"hub_logs"}  # what exists: checked below
    assert public - per_user - listing == set(LAYOUT), "a new Layout method needs its row in LAYOUT"
    for method, (args, relative) in LAYOUT.items():
        assert getattr(layout, method)(*args) == ROOT / relative, method
    assert layout.registry_db == ROOT / "registry.sqlite"
    user = layout.server_socket("demo", "alice")
    assert user.parent.parent == layout.sockets_dir("demo") and user.name == "jupyter.sock"
    assert layout.hub_logs() == []  # no state here


def test_hub_logs_are_the_logs_of_the_hubs_there(tmp_path: Path):
    layout = Layout(tmp_path)
    for name in ("demo", "other"):
        layout.logfile(name).parent.mkdir(parents=True)
    layout.logfile("demo").write_text("")
    assert layout.hub_logs() == [layout.logfile("demo")]


# File names the layout decides. Python elsewhere never spells one: it asks
# the layout. Exceptions, with why:
LEAF_NAMES = {
    "checksums.json", "applied.json", "notices", "homes", "hub.json",
    "jupyterhub_config.py", "jupyterhub.sqlite", "jupyterhub.pid", "jupyterhub.log",
    "proxy.pid", "uploads", "dockerd.pid", "dockerd.log", "restored-config",
    "registry.sqlite", "jupyter.sock", "hub.sock", "registry.sock", "proxy.sock", "heads.jsonl",
    ".staged", "-extras.json", "offboarding.json", "offboarding",
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
    assert names.relay_name("sandbox-demo-alice") == "sandbox-demo-alice--relay"
    assert names.server_network("sandbox-demo-alice") == "sandbox-demo-alice--net"
    assert "--" not in names.docker_escaped("a--b.-c")  # so no server is named like a relay
    long = names.server_network("sandbox-demo-" + "x" * 60)
    assert len(long) == 58 and long != names.server_network("sandbox-demo-" + "x" * 61)
    assert names.staged_digest(["/b", "/a"]) == names.staged_digest(["/a", "/b"])
    assert names.staged_digest(["/a"]) != names.staged_digest(["/a", "/b"])
    assert set(names.LABELS.values()) == {
        names.LABEL_SANDBOX, names.LABEL_USER, names.LABEL_IMAGE, names.LABEL_DESIGN,
        names.LABEL_GROUP,
    }  # fmt: skip
    assert names.team_volume("demo", "belastingen") == "sandbox-demo-shared-belastingen"
    assert names.team_mount("belastingen") == "/shared/belastingen"
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


@pytest.fixture
def variables(loaded, tmp_path: Path) -> dict[str, Any]:
    """What `sandbox up` passes for a docker sandbox without network, one with
    its own bridge, a swarm one and a local one."""
    env = Context(layout=Layout(tmp_path / "state"))
    demo = loaded.config.sandbox("demo")
    sandboxes = [
        demo,
        demo.model_copy(update={"name": "open", "network": Network(egress=True)}),
        demo.model_copy(update={"name": "swarm", "spawner": "swarm"}),
        demo.model_copy(update={"name": "local", "spawner": "local"}),
    ]
    return extravars([build(loaded, sandbox, env) for sandbox in sandboxes], env)


def argument_specs(role: Path) -> dict[str, Any]:
    return yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]


def validate(options: dict[str, Any], values: dict[str, Any]) -> list[str]:
    given = {name: values[name] for name in options if name in values}
    return list(ArgumentSpecValidator(options).validate(given).error_messages)


def test_what_sandbox_up_passes_is_what_each_role_declares(variables):
    assert variables["sandbox_labels"] == names.LABELS
    for role in ROLES:
        for entry, spec in argument_specs(role).items():
            if entry == "stop":  # once per sandbox, as `hub` (playbooks/down.yml)
                for hub in variables["sandbox_hubs"]:
                    errors = validate(spec["options"], {**variables, "hub": hub})
                    assert not errors, f"{role.name} {entry} {hub['name']}: {errors}"
            else:
                errors = validate(spec["options"], variables)
                assert not errors, f"{role.name} {entry}: {errors}"


def test_a_missing_input_is_named(variables):
    spec = argument_specs(PLAYBOOKS / "roles" / "hub")["main"]["options"]
    values = {k: v for k, v in variables.items() if k != "sandbox_proxy_prefix"}
    values["sandbox_hubs"] = [
        {k: v for k, v in variables["sandbox_hubs"][0].items() if k != "loader"}
    ]
    assert validate(spec, values) == [
        "missing required arguments: sandbox_proxy_prefix",
        "missing required arguments: loader found in sandbox_hubs",
    ]


def referenced(text: str) -> set[str]:
    """Names read in Jinja: inside {{ }} and in conditions (when, until, ...)."""
    expressions = re.findall(r"\{\{(.*?)\}\}", text, re.S)
    expressions += re.findall(
        r"^\s*(?:- )?(?:when|until|changed_when|failed_when):(.*)$", text, re.M
    )
    return {
        name
        for expression in expressions
        for name in re.findall(r"(?<![\w.'\"])([a-z][a-z0-9_]*)", expression)
    }


def tasks_of(items: list[dict[str, Any]]):
    for task in items or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from tasks_of(task.get(key, []))


def role_made(role: Path) -> set[str]:
    """What a role sets itself: registered results, facts, task and block vars,
    loop variables, and its internal values (vars/main.yml)."""
    made: set[str] = set()
    for path in sorted((role / "tasks").glob("*.yml")):
        for task in tasks_of(yaml.safe_load(path.read_text())):
            made |= {task["register"]} if "register" in task else set()
            made |= set(task.get("vars", {}))
            made |= (
                {task["loop_control"]["loop_var"]}
                if "loop_var" in task.get("loop_control", {})
                else set()
            )
            made |= set(task.get("ansible.builtin.set_fact", {}))
    internal = role / "vars" / "main.yml"
    return made | (set(yaml.safe_load(internal.read_text())) if internal.exists() else set())


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.name)
def test_every_role_declares_what_it_reads_and_documents_it(role: Path):
    meta = yaml.safe_load((role / "meta" / "main.yml").read_text())
    info = meta["galaxy_info"]
    assert info["license"] == "EUPL-1.2" and meta["dependencies"] == []
    assert info["author"] and info["description"] and info["min_ansible_version"]
    assert {p["name"] for p in info["platforms"]} == {"Debian", "Ubuntu"}
    declared = {name for spec in argument_specs(role).values() for name in spec["options"]}
    text = "\n".join(p.read_text() for p in role_files(role))
    reads = {n for n in referenced(text) if n.startswith(("sandbox_", f"{role.name}_"))}
    undeclared = reads - declared - role_made(role)
    assert not undeclared, f"{role.name} reads {sorted(undeclared)} without declaring them"
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
    assert set(defaults) <= declared, f"{role.name}: a default is missing from argument_specs"
    readme = (role / "README.md").read_text()
    missing = sorted(name for name in declared if f"`{name}`" not in readme)
    assert not missing, f"{role.name}/README.md does not mention {missing}"


def test_every_extravar_is_read_somewhere():
    declared = {
        name for role in ROLES for spec in argument_specs(role).values() for name in spec["options"]
    }
    site = (PLAYBOOKS / "site.yml").read_text()
    source = (PACKAGE / "provisioning" / "ansible.py").read_text()
    for name in re.findall(r'"(sandbox_\w+)":', source):
        assert name in declared or name in site, f"{name} is passed but read nowhere"
