"""The container spawners' own parts, without an engine."""

from __future__ import annotations

from types import SimpleNamespace

from sandbox.spawner import SandboxDockerSpawner, SandboxSwarmSpawner


def test_home_is_a_volume_data_are_read_only_binds_and_tmp_a_tmpfs():
    spawner = SandboxSwarmSpawner(
        volumes={"sandbox-demo-home-{username}": "/home/jovyan"},
        read_only_volumes={"/srv/state/datasets/woz/1": "/data/woz"},
        tmp_size=1024,
    )
    spawner.user = SimpleNamespace(name="alice")
    mounts = {m["Target"]: m for m in spawner.mounts}
    assert mounts["/home/jovyan"]["Type"] == "volume"
    assert mounts["/home/jovyan"]["Source"] == "sandbox-demo-home-alice"
    assert mounts["/home/jovyan"]["ReadOnly"] is False
    assert mounts["/data/woz"]["Type"] == "bind"
    assert mounts["/data/woz"]["Source"] == "/srv/state/datasets/woz/1"
    assert mounts["/data/woz"]["ReadOnly"] is True
    assert mounts["/tmp"]["Type"] == "tmpfs"
    assert mounts["/tmp"]["TmpfsOptions"] == {"SizeBytes": 1024, "Mode": 0o1777}


def test_docker_calls_of_different_users_run_in_parallel():
    # DockerSpawner's own executor has one thread for every user's calls
    first, second = SandboxDockerSpawner(), SandboxSwarmSpawner()
    assert first.executor is second.executor
    assert first.executor._max_workers == 8


def test_start_returns_once_the_server_listens_or_after_http_timeout():
    import asyncio
    import socket
    import time

    async def scenario() -> tuple[float, float]:
        spawner = SandboxDockerSpawner(http_timeout=2)
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        loop = asyncio.get_running_loop()
        loop.call_later(0.3, listener.listen)  # the "server" comes up after 0.3 s
        began = time.monotonic()
        assert await spawner.until_listening(("127.0.0.1", port)) == ("127.0.0.1", port)
        ready = time.monotonic() - began
        listener.close()
        began = time.monotonic()
        await spawner.until_listening(("127.0.0.1", port))  # nobody listens any more
        return ready, time.monotonic() - began

    ready, gave_up = asyncio.run(scenario())
    assert 0.25 <= ready < 1.5  # waited for the listener, not for the timeout
    assert gave_up >= 1.9
