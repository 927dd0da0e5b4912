"""`up -i` on targets without a checkout, its pure parts: the project's
wheel (content key, version, cache) and the Pythons and proxy `up` names per
host. The Ansible runs are in tests/integration/test_host_tools.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from sandbox.config.loader import load_config
from sandbox.host import tools
from sandbox.host.layout import Layout
from sandbox.provisioning import wheel
from sandbox.provisioning.ansible import extravars, host_tools_venv
from sandbox.provisioning.context import Context
from sandbox.provisioning.plan import build

PROJECT = Path(__file__).resolve().parents[2]


# --- the wheel


def small_project(root: Path) -> Path:
    (root / "sandbox" / "host").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "data-sandbox"\nversion = "0.1.0"\n')
    (root / "README.md").write_text("readme\n")
    (root / "sandbox" / "__init__.py").write_text("")
    (root / "sandbox" / "host" / "staging.py").write_text("x = 1\n")
    return root


def test_the_content_key_follows_the_sources_and_nothing_else(tmp_path: Path):
    project = small_project(tmp_path)
    key = wheel.content_key(project)
    assert len(key) == wheel.KEY_LENGTH and key == wheel.content_key(project)
    cache = project / "sandbox" / "host" / "__pycache__"
    cache.mkdir()
    (cache / "staging.cpython-311.pyc").write_bytes(b"\0")
    assert wheel.content_key(project) == key  # compiled files are no source
    (project / "sandbox" / "host" / "staging.py").write_text("x = 2\n")
    changed = wheel.content_key(project)
    assert changed != key
    (project / "sandbox" / "host" / "staging.py").rename(project / "sandbox" / "host" / "moved.py")
    assert wheel.content_key(project) != changed  # a path is part of it
    (project / "README.md").write_text("other\n")
    assert [p.as_posix() for p in wheel.sources(project)] == [
        "README.md",
        "pyproject.toml",
        "sandbox/__init__.py",
        "sandbox/host/moved.py",
    ]


def test_the_wheel_version_carries_the_key():
    assert wheel.wheel_version('[project]\nversion = "0.1.0"\n', "abc123") == "0.1.0+abc123"
    assert wheel.wheel_version('[project]\nversion = "1.2+old"\n', "k") == "1.2+k"
    built = Path("data_sandbox-0.1.0+abc123-py3-none-any.whl")
    assert tools.wheel_version(built) == "0.1.0+abc123"
    assert wheel.Wheel(built, True, 0.0).version == "0.1.0+abc123"


def test_a_cached_wheel_is_found_by_its_key(tmp_path: Path):
    (tmp_path / "data_sandbox-0.1.0+aaa-py3-none-any.whl").write_bytes(b"")
    assert (
        wheel.cached_wheel(tmp_path, "aaa") == tmp_path / "data_sandbox-0.1.0+aaa-py3-none-any.whl"
    )
    assert wheel.cached_wheel(tmp_path, "bbb") is None


def test_a_wheel_needs_a_source_checkout(tmp_path: Path):
    from sandbox.errors import ProvisionError

    with pytest.raises(ProvisionError, match="source checkout"):
        wheel.project_wheel(tmp_path, tmp_path / "cache", "python3")


def test_the_tools_helper_says_how_it_is_used(capsys):
    assert tools.main([]) == 2
    assert "usage: python3 -m sandbox.host.tools VENV WHEEL" in capsys.readouterr().err


# --- what `up` names per host


@pytest.fixture
def plans(demo_copy: Path, tmp_path: Path):
    loaded = load_config(demo_copy)
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[nodes]\nnode-a\n")
    here = Context(layout=Layout(tmp_path / "state"))
    there = Context(layout=Layout(tmp_path / "state"), inventory=inventory)
    sandbox = loaded.config.sandbox("demo")
    return loaded, here, there, [build(loaded, sandbox, here)]


def test_without_an_inventory_every_python_is_this_venvs(plans):
    _, here, _, built = plans
    variables = extravars(built, here)
    assert variables["sandbox_python"] == variables["sandbox_host_python"] == here.python
    assert variables["sandbox_wheel"] == ""
    assert variables["sandbox_proxy_command"] == here.proxy_command
    assert here.python in json.dumps(variables["sandbox_hubs"][0]["settings"])


def test_with_an_inventory_the_pythons_are_chosen_per_host(plans, tmp_path: Path):
    _, _, there, built = plans
    variables = extravars(built, there, tmp_path / "data_sandbox-0.1.0+k-py3-none-any.whl")
    assert variables["sandbox_wheel"].endswith("data_sandbox-0.1.0+k-py3-none-any.whl")
    default = yaml.safe_load((PROJECT / "playbooks/roles/host_tools/defaults/main.yml").read_text())
    assert host_tools_venv(there) == default["host_tools_venv"] == "/opt/data-sandbox/venv"
    # helpers: the host's venv (its own host_tools_venv, else the role's default)
    assert variables["sandbox_host_python"] == (
        "{{ [host_tools_venv | default(\"/opt/data-sandbox/venv\"), 'bin', 'python'] | path_join }}"
    )
    # the hub: this venv on the controller itself, the host's venv elsewhere
    hub = variables["sandbox_python"]
    assert json.dumps(there.python) in hub and "ansible_connection" in hub
    assert "sandbox_host_python" in hub
    proxy = variables["sandbox_proxy_command"]
    assert json.dumps(str(there.layout.proxy_command())) in proxy
    # the hub's settings name the host's, rendered where hub.json is written
    settings = json.dumps(variables["sandbox_hubs"][0]["settings"])
    assert json.dumps(there.python)[1:-1] not in settings
    assert "{{ sandbox_python }}" in settings
