"""HTTPS through a TLS-terminating reverse proxy, as docs/guide.md shows it:
the hub listens on loopback, `hub.public_url` names the https address, and a
second configurable-http-proxy with the certificate stands in front. A login,
a server start and the registry service's OAuth login all go through https
(their redirects on the public URL, the session cookie marked Secure). No
Docker needed (spawner local, tier 0)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
import requests

from sandbox.config.scaffold import scaffold
from tests.conftest import PROJECT, SANDBOX_BIN
from tests.hubclient import HubUser

HUB_PORT, TLS_PORT, FRONT_API_PORT = 18220, 18443, 18444
PUBLIC = f"https://localhost:{TLS_PORT}"


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1."""
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return key, cert


@pytest.fixture(scope="module")
def behind_tls(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("tls")
    key, cert = certificate(root)
    scaffold(root / "config", port=HUB_PORT)
    config = root / "config" / "sandbox.yaml"
    text = config.read_text().replace("spawner: docker", "spawner: local")
    text = text.replace(f"port: {HUB_PORT}", f"port: {HUB_PORT}, public_url: {PUBLIC}")
    config.write_text(text)
    env = {
        **os.environ,
        "SANDBOX_CONFIG": str(config),
        "SANDBOX_STATE_DIR": str(root / "state"),
        "COLUMNS": "200",
    }
    up = subprocess.run([SANDBOX_BIN, "up"], env=env, capture_output=True, text=True, timeout=600)
    # the reverse proxy of the guide's example
    front = subprocess.Popen(
        [str(PROJECT / "node_modules/.bin/configurable-http-proxy"),
         "--ip", "127.0.0.1", "--port", str(TLS_PORT),
         "--ssl-key", str(key), "--ssl-cert", str(cert),
         "--default-target", f"http://127.0.0.1:{HUB_PORT}",
         "--api-ip", "127.0.0.1", "--api-port", str(FRONT_API_PORT)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{PUBLIC}/hub/api/", verify=str(cert), timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the TLS proxy did not come up"
                time.sleep(0.2)
        yield root, cert, up, env
    finally:
        front.terminate()
        front.wait(timeout=30)
        subprocess.run([SANDBOX_BIN, "down"], env=env, capture_output=True, timeout=300)


def test_up_names_the_public_url(behind_tls):
    _, _, up, env = behind_tls
    assert f"{PUBLIC}/" in up.stdout
    credentials = subprocess.run(
        [SANDBOX_BIN, "credentials", "first"], env=env, capture_output=True, text=True
    )
    assert f"URL:            {PUBLIC}/" in credentials.stdout


def test_login_spawn_and_service_login_go_through_https(behind_tls, monkeypatch):
    root, cert, _, _ = behind_tls
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))  # HubUser's session trusts it
    password = (root / "state/sandboxes/first/hub/secrets/user_password").read_text().strip()
    user = HubUser(PUBLIC, "analyst1", password)
    assert user.login_status == 302
    cookie = next(c for c in user.session.cookies if c.name == "jupyterhub-session-id")
    assert cookie.secure  # the hub knows it is reached over https
    user.spawn(timeout=120)
    try:
        lab = user.session.get(f"{PUBLIC}/user/analyst1/lab", timeout=30)  # OAuth with the hub
        assert lab.status_code == 200 and lab.url.startswith(PUBLIC)
        assert all(not r.headers["Location"].startswith("http://") for r in lab.history)
        xsrf = user.session.cookies.get("_xsrf", path="/user/analyst1/")
        status = user.session.get(
            f"{PUBLIC}/user/analyst1/api/status", headers={"X-XSRFToken": xsrf or ""}, timeout=30
        )
        assert status.status_code == 200, status.text[:300]
        # the registry service's OAuth login: every redirect on the public https URL
        page = user.session.get(f"{PUBLIC}/services/registry/", timeout=30)
        assert page.status_code == 200, page.text[:500]
        hops = [r.headers["Location"] for r in page.history]
        assert hops and all(not h.startswith("http://") for h in hops), hops
        assert "<table id='experiments'>" in page.text
    finally:
        user.stop()
