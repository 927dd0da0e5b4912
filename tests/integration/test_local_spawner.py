"""`spawner: local` (no Docker at all): a tier-0 sandbox with processes on the
host, datasets linked read-only under ~/data. Needs no Docker engine."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import requests

from sandbox.config.scaffold import scaffold
from tests.conftest import SANDBOX_BIN
from tests.hubclient import HubUser

PORT = 18200


@pytest.fixture(scope="module")
def local_sandbox(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("local")
    scaffold(root / "config", port=PORT)
    config = root / "config" / "sandbox.yaml"
    text = config.read_text().replace("spawner: docker", "spawner: local")
    config.write_text(text.replace("lang: en", "lang: nl"))
    env = {
        **os.environ,
        "SANDBOX_CONFIG": str(config),
        "SANDBOX_STATE_DIR": str(root / "state"),
        "COLUMNS": "200",
    }

    def sandbox(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SANDBOX_BIN, *args], env=env, capture_output=True, text=True, timeout=600
        )

    up = sandbox("up")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield root, up, sandbox
    finally:
        sandbox("down")


def test_local_sandbox_warns_and_skips_docker(local_sandbox):
    _, up, _ = local_sandbox
    assert "spawner local: no isolation" in up.stdout
    assert "skipped Check the Docker engine" in up.stdout


def test_local_server_sees_the_granted_dataset_read_only(local_sandbox):
    root, _, _ = local_sandbox
    password = (root / "state/sandboxes/first/hub/secrets/user_password").read_text().strip()
    user = HubUser(f"http://127.0.0.1:{PORT}", "analyst1", password)
    assert user.login_status == 302
    user.spawn(timeout=120)
    try:
        link = root / "state/sandboxes/first/homes/analyst1/data/example-public"
        assert link.is_symlink()
        data = Path(os.readlink(link))
        assert data.is_relative_to(root / "state" / "datasets")
        assert (link / "example.csv").read_text().startswith("year,value")
        assert oct((data / "example.csv").stat().st_mode & 0o777) == "0o444"
        server = f"http://127.0.0.1:{PORT}/user/analyst1"
        user.session.get(f"{server}/lab", timeout=30)  # OAuth with the hub; sets _xsrf
        xsrf = user.session.cookies.get("_xsrf", path="/user/analyst1/")
        contents = user.session.get(
            f"{server}/api/contents/data/example-public",
            headers={"X-XSRFToken": xsrf or ""},
            timeout=30,
        )
        assert contents.status_code == 200
        names = sorted(item["name"] for item in contents.json()["content"])
        assert names == ["DATACARD.md", "datapackage.json", "example.csv", "quality.json"]
    finally:
        user.stop()


def test_hub_pages_speak_the_sandboxs_language(local_sandbox):
    page = requests.get(f"http://127.0.0.1:{PORT}/hub/login", timeout=10).text
    assert 'id="sandbox-banner"' in page and 'data-sandbox="first"' in page
    assert "niveau 0: open data" in page and "verloopt op" in page
    assert "<h1>Inloggen</h1>" in page and "Wachtwoord" in page


def test_home_and_spawn_pages_speak_it_too(local_sandbox):
    root, _, _ = local_sandbox
    password = (root / "state/sandboxes/first/hub/secrets/user_password").read_text().strip()
    user = HubUser(f"http://127.0.0.1:{PORT}", "analyst1", password)
    home = user.session.get(f"http://127.0.0.1:{PORT}/hub/home", timeout=30).text
    assert "Mijn server starten" in home and "sandbox-link-catalog" in home
