"""Per-user passwords (auth type per-user-password, the demo's logins): `up`
makes one 0600 file per user, the hub checks a login against it, and
`sandbox credentials` shows each person theirs."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.config.loader import load_config
from sandbox.governance.catalog import staged_datasets
from sandbox.host.layout import Layout
from sandbox.host.secrets import ensure_secrets, password_secret
from sandbox.hub.settings import HubInputs, hub_settings
from sandbox.provisioning.ansible import _hub_vars
from sandbox.provisioning.context import Context
from sandbox.provisioning.plan import build


def login(folder: Path, name: str, password: str) -> str | None:
    # JupyterHub's authenticator: a second to import, so not at collection
    from sandbox.hub.password_login import PerUserPasswordAuthenticator

    authenticator = PerUserPasswordAuthenticator(passwords_dir=str(folder))
    answer = authenticator.authenticate(None, {"username": name, "password": password})
    return asyncio.run(answer)


def test_each_user_gets_a_typeable_password_of_their_own(tmp_path: Path):
    names = [password_secret(u) for u in ("alice", "bob")]
    assert ensure_secrets(tmp_path, names) == names
    alice, bob = ((tmp_path / n).read_text().strip() for n in names)
    assert alice != bob and 12 <= len(alice) <= 20
    assert stat.S_IMODE((tmp_path / names[0]).stat().st_mode) == 0o600
    with pytest.raises(ValueError):
        password_secret("../cookie_secret")


def test_a_login_needs_the_users_own_password(tmp_path: Path):
    ensure_secrets(tmp_path, [password_secret("alice"), password_secret("bob")])
    alice = (tmp_path / "password_alice").read_text().strip()
    bob = (tmp_path / "password_bob").read_text().strip()
    assert login(tmp_path, "alice", alice) == "alice"
    assert login(tmp_path, "alice", bob) is None  # another person's password
    assert login(tmp_path, "alice", "") is None
    assert login(tmp_path, "carol", alice) is None  # no file: no login
    assert login(tmp_path, "../password_alice", alice) is None


def test_the_demo_uses_per_user_passwords(demo_copy: Path):
    loaded = load_config(demo_copy)
    sandbox = loaded.config.sandbox("demo")
    assert sandbox.auth.type == "per-user-password" and sandbox.auth.personal
    layout = Layout(Path("/srv/state"))
    inputs = HubInputs(layout, "sandbox-notebook:abc", "/venv/bin/python", "/chp")
    settings = hub_settings(sandbox, staged_datasets(loaded, sandbox, layout), inputs)
    assert settings["traitlets"]["JupyterHub"]["authenticator_class"] == (
        "sandbox.hub.password_login.PerUserPasswordAuthenticator"
    )


def test_up_makes_a_password_file_per_user(demo_copy: Path, tmp_path: Path):
    env = Context(Layout(tmp_path / "state"))
    loaded = load_config(demo_copy)
    plan = build(loaded, loaded.config.sandbox("demo"), env)
    names = _hub_vars(plan, env)["password_secrets"]
    assert names == [password_secret(u) for u in plan.sandbox.users]
    assert "password_alice" in names and "password_admin" in names


def test_credentials_prints_each_persons_password(demo_copy: Path, tmp_path: Path, monkeypatch):
    state = tmp_path / "state"
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(state))
    secrets = Layout(state).secrets_dir("demo")
    users = load_config(demo_copy).config.sandbox("demo").users
    ensure_secrets(secrets, [password_secret(u) for u in users])
    result = CliRunner().invoke(cli, ["-c", str(demo_copy), "credentials", "demo", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["passwords"]["alice"] == (secrets / "password_alice").read_text().strip()
    assert shown["user_password"] is None
    text = CliRunner().invoke(cli, ["-c", str(demo_copy), "credentials", "demo"]).output
    assert "admin" in text and shown["passwords"]["bob"] in text
