"""`up` checks that the hub answering on the sandbox's port is this sandbox's:
here another program holds the port and answers as the hub of sandbox
`other` (a stand-in "proxy" in the state directory's pidfile makes the port
check pass), and `up` fails with exit 1 naming it, with the end of
this hub's log. A real Ansible run and a real hub; no Docker needed."""

from __future__ import annotations

import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sandbox.config.scaffold import scaffold
from sandbox.host.layout import Layout
from sandbox.hub.settings import SANDBOX_HEADER
from tests.conftest import SANDBOX_BIN, stand_in_process

PORT = 18210


class OtherHub(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header(SANDBOX_HEADER, "other")
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"version": "5.0.0"}')

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def other_hub():
    server = ThreadingHTTPServer(("127.0.0.1", PORT), OtherHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield
    server.shutdown()
    server.server_close()


def test_up_fails_when_another_sandboxs_hub_answers_on_the_port(tmp_path_factory, other_hub):
    tmp_path = tmp_path_factory.mktemp("w")  # short: socket paths under it must fit 107 bytes
    scaffold(tmp_path / "config", port=PORT)
    config = tmp_path / "config" / "sandbox.yaml"
    config.write_text(config.read_text().replace("spawner: docker", "spawner: local"))
    state = tmp_path / "state"
    pidfile = Layout(state).proxy_pidfile("first")
    pidfile.parent.mkdir(parents=True)
    env = {
        **os.environ,
        "SANDBOX_CONFIG": str(config),
        "SANDBOX_STATE_DIR": str(state),
        "COLUMNS": "200",
    }
    # a live process the state dir takes for its proxy (its command names it)
    try:
        with stand_in_process("configurable-http-proxy") as stand_in:
            pidfile.write_text(str(stand_in.pid))
            up = subprocess.run(
                [SANDBOX_BIN, "up", "--full"], env=env, capture_output=True, text=True, timeout=600
            )
        said = up.stdout + up.stderr
        assert up.returncode == 1, said
        assert "is answered by the hub of sandbox other, not this one" in said
        assert "jupyterhub.log" in said and "Traceback" not in up.stderr
    finally:
        pidfile.unlink(missing_ok=True)
        subprocess.run([SANDBOX_BIN, "down"], env=env, capture_output=True, timeout=300)
    # down stops what this hub started, its proxy too (found by its pidfile)
    assert not processes_naming(str(state)), processes_naming(str(state))


def processes_naming(text: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in command:
            found.append(command)
    return found
