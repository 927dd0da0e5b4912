"""Hubs behind real identity providers on 127.0.0.1, shared by the
integration tests (tests/integration/test_identity.py) and the browser test
(tests/e2e/test_oidc_login.py). A plugin of tests/conftest.py: the OIDC
provider and its hub are session fixtures, so one `sandbox up` serves both.

oidc-provider-mock (PyPI) serves users with a ``groups`` claim. Each test
module logs in with users of its own: test_identity.py moves piet between
groups at the provider, the browser test never touches ana, piet or kees."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
import yaml

from tests.conftest import PROJECT, SANDBOX_BIN, Deployment, require_docker

OIDC_PORT = 18141  # the hub's; the provider takes a free port
OIDC_SANDBOX = "idtest"
CLIENT_SECRET = "oidc-client-secret-7f3a9c2e-never-logged"
TAX = {"woz-2024", "cbs-wijken-2024"}
PUBLIC_SPACE = {"meldingen-openbare-ruimte-2024", "cbs-wijken-2024"}
# the demo's analyst groups bound to the provider's groups
BOUND = {"belastingen": "tax-analysts", "leefomgeving": "public-space"}

# valid through tomorrow: plan admits him, a start after tomorrow is refused
KEES = {
    "name": "kees",
    "organisation": "GGD Zuid",
    "agreement": {
        "reference": "SOK-2026-03",
        "valid_until": (date.today() + timedelta(days=1)).isoformat(),
    },
}

# subject -> groups at the provider
OIDC_USERS = {
    # tests/integration/test_identity.py
    "ana": ["tax-analysts"],
    "piet": ["public-space"],
    "mallory": ["facilities"],
    "kees": [],  # a chain partner: listed as a member, in no group of ours at the provider
    # tests/e2e/test_oidc_login.py
    "eva": ["tax-analysts"],
    "olaf": ["facilities"],
}


@contextmanager
def oidc_provider(users: dict[str, list[str]]) -> Iterator[str]:
    """oidc-provider-mock on 127.0.0.1 (its own helper binds "localhost");
    yields its issuer URL."""
    from oidc_provider_mock import app
    from oidc_provider_mock._storage import User
    from werkzeug.serving import make_server

    claims = [
        User(sub=name, claims={"preferred_username": name, "groups": groups})
        for name, groups in users.items()
    ]
    server = make_server("127.0.0.1", 0, app(user_claims=claims), threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def set_groups(provider: str, user: str, groups: list[str]) -> None:
    """Moves ``user`` to ``groups`` at the provider (counts from the next login)."""
    answer = requests.put(
        f"{provider}/users/{user}",
        json={"preferred_username": user, "groups": groups},
        timeout=10,
    )
    assert answer.status_code < 300, answer.text


def bind_groups(sandbox: dict, bound: dict[str, str]) -> None:
    for group in sandbox["groups"]:
        if group["name"] in bound:
            group["idp_group"] = bound[group["name"]]
            group["members"] = []


def provisioned(
    root: Path, name: str, port: int, auth: dict, partner: dict | None = None
) -> Iterator[Deployment]:
    """`sandbox up` of the demo with ``auth``, its analyst groups bound to the
    provider's tax-analysts and public-space; `down --purge` after."""
    require_docker()
    shutil.copytree(PROJECT / "config", root / "config")
    config = root / "config" / "sandbox.yaml"
    data = yaml.safe_load(config.read_text())
    sandbox = data["sandboxes"][0]
    sandbox.update({"name": name, "auth": auth})
    sandbox["hub"]["port"] = port
    bind_groups(sandbox, BOUND)
    if partner:
        next(g for g in sandbox["groups"] if g["name"] == "leefomgeving")["members"] = [partner]
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    clock = root / "today"
    clock.write_text(date.today().isoformat())
    env = {
        **os.environ,
        "SANDBOX_CONFIG": str(config),
        "SANDBOX_STATE_DIR": str(root / "state"),
        "SANDBOX_CLOCK_FILE": str(clock),
        "COLUMNS": "200",
    }
    first = subprocess.run(
        [SANDBOX_BIN, "up"], env=env, capture_output=True, text=True, timeout=1800
    )
    deployed = Deployment(config, root / "state", env, first, clock, port, name)
    try:
        if first.returncode != 0:
            pytest.fail(f"sandbox up failed:\n{first.stdout}\n{first.stderr}", pytrace=False)
        yield deployed
    finally:
        deployed.sandbox("down", "--purge", "--yes", check=False)


def secret_file(root: Path, name: str, value: str) -> str:
    path = root / name
    path.write_text(value + "\n")
    path.chmod(0o600)
    return str(path)


def oidc_auth(issuer: str, root: Path) -> dict:
    return {
        "type": "oidc",
        "issuer": issuer,
        "client_id": "data-sandbox",
        "client_secret_file": secret_file(root, "client-secret", CLIENT_SECRET),
        "scopes": ["openid", "profile"],
    }


def hub_groups(hub: Deployment, user: str) -> list[str]:
    """``user``'s groups in the hub (those of her last login)."""
    token = hub.secret("cli_token")
    answer = requests.get(
        f"{hub.url}/hub/api/users/{user}",
        headers={"Authorization": f"token {token}"},
        timeout=10,
    )
    return sorted(answer.json()["groups"])


def mounted(hub: Deployment, user: str) -> set[str]:
    """The datasets under /data in ``user``'s running server."""
    container = f"sandbox-{hub.name}-{user}"
    listed = subprocess.run(
        ["docker", "exec", container, "ls", "/data"], check=True, capture_output=True, text=True
    )
    return set(listed.stdout.split()) - {"NOTICE.md"}


@pytest.fixture(scope="session")
def provider() -> Iterator[str]:
    """The issuer URL of oidc-provider-mock serving OIDC_USERS."""
    with oidc_provider(OIDC_USERS) as issuer:
        yield issuer


@pytest.fixture(scope="session")
def oidc_hub(tmp_path_factory: pytest.TempPathFactory, provider: str) -> Iterator[Deployment]:
    """The demo behind the provider on port 18141, kees a listed partner of
    leefomgeving; one `sandbox up` for every test that logs in through OIDC."""
    root = tmp_path_factory.mktemp("oidc")
    yield from provisioned(root, OIDC_SANDBOX, OIDC_PORT, oidc_auth(provider, root), KEES)
