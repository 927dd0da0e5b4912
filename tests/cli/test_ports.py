"""A hub's port taken by another program: validate warns, plan and up refuse
(exit 2, naming a free port), and init scaffolds on a free port."""

from __future__ import annotations

import os
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.host.layout import Layout
from sandbox.provisioning.ports import free_port, listening
from tests.conftest import stand_in_process

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def taken() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


@pytest.fixture
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Short: the sockets under the state dir must fit in 107 bytes."""
    return tmp_path_factory.mktemp("s")


@pytest.fixture
def config(tmp_path: Path, monkeypatch, taken: int, state_dir: Path) -> Path:
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(state_dir))
    shutil.copytree(PROJECT / "config", tmp_path / "config")
    path = tmp_path / "config" / "sandbox.yaml"
    path.write_text(path.read_text().replace("port: 8000", f"port: {taken}"))
    return path


@pytest.mark.parametrize("command", ["plan", "up"])
def test_plan_and_up_refuse_a_port_another_program_holds(config: Path, taken: int, command):
    result = CliRunner().invoke(cli, ["-c", str(config), command])
    assert result.exit_code == 2, result.output
    assert f"port {taken} on 127.0.0.1 is in use by another program" in result.stderr
    assert re.search(r"port \d+ is free", result.stderr)
    assert not (config.parent.parent / "s" / "sandboxes").exists()


def test_validate_warns(config: Path, taken: int):
    result = CliRunner().invoke(cli, ["-c", str(config), "validate"])
    assert result.exit_code == 0
    assert f"warning: sandbox demo: port {taken} on 127.0.0.1 is in use" in result.stderr


def test_the_port_of_this_sandboxs_own_running_proxy_is_fine(config: Path, state_dir: Path):
    pidfile = Layout(state_dir).proxy_pidfile("demo")
    pidfile.parent.mkdir(parents=True)
    with stand_in_process("configurable-http-proxy") as proxy:
        pidfile.write_text(str(proxy.pid))
        result = CliRunner().invoke(cli, ["-c", str(config), "plan", "--json"])
        assert result.exit_code == 0, result.output
        # a live pid of another program (a reused pid) is not our proxy
        pidfile.write_text(str(os.getpid()))
        result = CliRunner().invoke(cli, ["-c", str(config), "plan", "--json"])
        assert result.exit_code == 2 and "in use by another program" in result.stderr


def test_init_picks_a_free_port(tmp_path: Path, taken: int):
    assert listening("127.0.0.1", taken)
    port = free_port("127.0.0.1", taken)
    assert port > taken and not listening("127.0.0.1", port)
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "org")])
    assert result.exit_code == 0
    written = re.search(r"port: (\d+)", (tmp_path / "org" / "sandbox.yaml").read_text())
    assert written and not listening("127.0.0.1", int(written.group(1)))
