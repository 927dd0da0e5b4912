"""Backup and restore round trip: registry, hub state, secrets and config."""

from __future__ import annotations

import json
import os
from contextlib import nullcontext
from pathlib import Path

from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.config.scaffold import scaffold
from sandbox.host.secrets import ensure_secrets
from tests.conftest import postgres_database


def invoke(*args: str, env: dict[str, str]):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_backup_restore_round_trip(tmp_path: Path):
    round_trip(tmp_path, "", lambda: nullcontext(""))


def test_backup_restore_round_trip_on_postgresql(tmp_path: Path):
    # pg_dump --format=custom into the archive, pg_restore into an empty database
    with postgres_database() as source:
        round_trip(tmp_path, source, postgres_database)


def round_trip(tmp_path: Path, registry: str, fresh_registry) -> None:
    config = tmp_path / "config"
    scaffold(config)
    state = tmp_path / "state"
    env = {
        "SANDBOX_CONFIG": str(config / "sandbox.yaml"),
        "SANDBOX_STATE_DIR": str(state),
        "SANDBOX_ACTOR": "carol",
        "SANDBOX_REGISTRY_URL": registry,
    }
    register = (
        "experiments",
        "register",
        "--title",
        "t",
        "--team",
        "analysts",
        "--sandbox",
        "first",
        "--purpose",
        "exploration",
    )
    assert invoke(*register, env=env).exit_code == 0
    assert (
        invoke(
            "experiments", "transition", "EXP-0001", "--to", "approved", "--reason", "ok", env=env
        ).exit_code
        == 0
    )
    secrets = state / "sandboxes" / "first" / "hub" / "secrets"
    ensure_secrets(secrets, ["cookie_secret", "user_password"])
    before = json.loads(invoke("experiments", "show", "EXP-0001", "--json", env=env).stdout)

    archive = tmp_path / "backup.tar.gz"
    result = invoke("backup", "-o", str(archive), env=env)
    assert result.exit_code == 0, result.output
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    assert invoke("backup", "-o", str(archive), env=env).exit_code == 2  # never overwrites

    with fresh_registry() as target:
        fresh = {
            **env,
            "SANDBOX_STATE_DIR": str(tmp_path / "restored"),
            "SANDBOX_REGISTRY_URL": target,
        }
        result = invoke("restore", str(archive), env=fresh)
        assert result.exit_code == 0, result.output
        after = json.loads(invoke("experiments", "show", "EXP-0001", "--json", env=fresh).stdout)
        assert after == before
        verify = invoke("audit", "verify", env=fresh)
        assert verify.exit_code == 0 and "chain intact" in verify.output
    restored = tmp_path / "restored" / "sandboxes" / "first" / "hub" / "secrets"
    assert (restored / "cookie_secret").read_text() == (secrets / "cookie_secret").read_text()
    assert oct((restored / "user_password").stat().st_mode & 0o777) == "0o600"
    assert (tmp_path / "restored" / "restored-config" / "sandbox.yaml").is_file()
    again = invoke("restore", str(archive), env=fresh)
    assert again.exit_code == 2 and "not empty" in again.stderr
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(os.urandom(100))
    bad = invoke("restore", str(garbage), env={**env, "SANDBOX_STATE_DIR": str(tmp_path / "x")})
    assert bad.exit_code == 2 and "not a sandbox backup" in bad.stderr
