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
