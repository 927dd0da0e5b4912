"""The container spawners' own parts, without an engine."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from sandbox.host.layout import Layout

# the spawners (JupyterHub, DockerSpawner: a second to import) load in the tests,
# not at collection (IMPORT_GROUPS in tests/conftest.py)


def test_home_is_a_volume_data_are_read_only_binds_and_tmp_a_tmpfs():
    from sandbox.hub.swarm import SandboxSwarmSpawner

    spawner = SandboxSwarmSpawner(
        volumes={"sandbox-demo-home-{username}": "/home/jovyan"},
        read_only_volumes={"/srv/state/datasets/woz/1": "/data/woz"},
        tmpfs={"/tmp": {"size": 1024, "mode": 0o1777}, "/run": {"size": 512, "mode": 0o755}},
        state_dir="/srv/state",
        sandbox_name="demo",
    )
    spawner.user = SimpleNamespace(name="alice")
    mounts = {m["Target"]: m for m in spawner.mounts}
    # the socket folders are the relay's, on the hub's node: a server that may
    # run on another node listens on its own network instead
    assert "/sandbox/server" not in mounts and "/sandbox/hub" not in mounts
    assert not any("--ServerApp.sock" in arg for arg in spawner.get_args())
    assert mounts["/run"]["TmpfsOptions"] == {"SizeBytes": 512, "Mode": 0o755}
    assert mounts["/home/jovyan"]["Type"] == "volume"
    assert mounts["/home/jovyan"]["Source"] == "sandbox-demo-home-alice"
    assert mounts["/home/jovyan"]["ReadOnly"] is False
    assert mounts["/data/woz"]["Type"] == "bind"
    assert mounts["/data/woz"]["Source"] == "/srv/state/datasets/woz/1"
    assert mounts["/data/woz"]["ReadOnly"] is True
    assert mounts["/tmp"]["Type"] == "tmpfs"
    assert mounts["/tmp"]["TmpfsOptions"] == {"SizeBytes": 1024, "Mode": 0o1777}


def test_docker_calls_of_different_users_run_in_parallel():
    from sandbox.hub.spawner import SandboxDockerSpawner
    from sandbox.hub.swarm import SandboxSwarmSpawner

    # DockerSpawner's own executor has one thread for every user's calls
    first, second = SandboxDockerSpawner(), SandboxSwarmSpawner()
    assert first.executor is second.executor
    assert first.executor._max_workers == 8


def test_start_returns_once_the_server_listens_or_after_http_timeout():
    import asyncio
    import socket
    import tempfile
    import time

    from sandbox.hub.spawner import SandboxDockerSpawner

    async def scenario(state: str) -> tuple[float, float]:
        spawner = SandboxDockerSpawner(http_timeout=2, state_dir=state, sandbox_name="d")
        spawner.user = SimpleNamespace(name="alice")
        spawner.socket_folder.mkdir(parents=True)
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(spawner.socket_path))
        loop = asyncio.get_running_loop()
        loop.call_later(0.3, listener.listen)  # the "server" comes up after 0.3 s
        began = time.monotonic()
        await spawner.until_listening()
        ready = time.monotonic() - began
        listener.close()
        began = time.monotonic()
        await spawner.until_listening()  # nobody listens any more
        return ready, time.monotonic() - began

    # a short state dir: pytest's own may be too deep for a unix socket's path
    with tempfile.TemporaryDirectory(prefix="sbx-", dir="/tmp") as state:
        ready, gave_up = asyncio.run(scenario(state))
    assert 0.25 <= ready < 1.5  # waited for the listener, not for the timeout
    assert gave_up >= 1.9


def test_a_socket_server_keeps_its_exact_url():
    """JupyterHub stores a server's address as proto/ip/port: for a socket it
    lower-cases the path and appends ":80". The spawner gives every Server
    object the socket's exact URL back, also one rebuilt after a hub restart."""
    from jupyterhub.objects import Server

    from sandbox.hub.spawner import SandboxDockerSpawner

    spawner = SandboxDockerSpawner(state_dir="/Srv/State", sandbox_name="demo")
    spawner.user = SimpleNamespace(name="alice")
    socket = Layout(Path("/Srv/State")).server_socket("demo", "alice")
    exact = "http+unix://" + str(socket).replace("/", "%2F")
    spawner._server = Server(proto="http+unix", ip=exact.split("//")[1].lower(), port=80)
    spawner._server.base_url = "/user/alice/"
    assert spawner.server.host == exact
    assert spawner.server.url == exact + "/user/alice/"
    # a TCP server is left as it is
    spawner._server = Server(proto="http", ip="127.0.0.1", port=8888)
    assert spawner.server.url == "http://127.0.0.1:8888/"


def test_a_member_gets_her_groups_team_folders_read_write_and_nobody_elses():
    from sandbox.hub.swarm import SandboxSwarmSpawner

    spawner = SandboxSwarmSpawner(
        state_dir="/srv/state",
        sandbox_name="demo",
        team_folders={"belastingen": "sandbox-demo-shared-belastingen", "wonen": "v-wonen"},
        member_groups={"alice": ["belastingen", "stewards"], "dave": ["wonen"]},
    )
    spawner.user = SimpleNamespace(name="alice", groups=[])
    spawner.team_mounted = spawner.team_groups()
    mounts = {m["Target"]: m for m in spawner.mounts}
    # stewards has no team folder (opted out): only belastingen's is mounted
    assert spawner.team_mounted == ["belastingen"]
    assert mounts["/shared/belastingen"]["Source"] == "sandbox-demo-shared-belastingen"
    assert mounts["/shared/belastingen"]["Type"] == "volume"
    assert mounts["/shared/belastingen"]["ReadOnly"] is False
    assert "/shared/wonen" not in mounts


def test_with_an_identity_provider_the_team_folders_follow_the_login_groups():
    from sandbox.hub.spawner import SandboxDockerSpawner

    spawner = SandboxDockerSpawner(
        team_folders={"belastingen": "v-b", "wonen": "v-w"},
        member_groups={"alice": ["belastingen"]},
        groups_at_login=True,
    )
    spawner.user = SimpleNamespace(name="alice", groups=[SimpleNamespace(name="wonen")])
    assert spawner.team_groups() == ["wonen"]


def test_a_team_folder_is_given_to_the_servers_uid(tmp_path):
    import os

    from sandbox.hub.team_folders import give_to_servers

    folder = tmp_path / "_data"
    folder.mkdir(mode=0o755)
    give_to_servers(folder, os.getuid())
    assert folder.stat().st_mode & 0o7777 == 0o770
