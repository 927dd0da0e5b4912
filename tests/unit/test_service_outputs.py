"""The airlock at the registry service, in process: a user who is both analyst
and steward requests an output and cannot approve or reject it herself (403,
nothing recorded); another steward can. Stewards see a requested image, by
its bytes, and no one else fetches it; the pages name the states in the
sandbox's language. make_app on a loopback port with a real SQLite registry,
the user in a test header (the hub would have authenticated her)."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPResponse
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from sandbox.config.loader import load_config
from sandbox.host.layout import Layout
from sandbox.hub.settings import HubInputs, registry_settings
from sandbox.provisioning.plan import catalog_summary
from sandbox.registry.db import open_registry_url
from sandbox.registry.service import app, outputs

PROJECT = Path(__file__).resolve().parents[2]
ROOT = "/services/registry/"
API = ROOT + "api/"
USER = "X-Test-User"
SAFE = "wijk,klasse,aantal\nA,<1945,12\nA,>1945,15\nB,<1945,40\n"
PNG = base64.b64decode(  # one pixel
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
SVG = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"


@pytest.fixture(autouse=True)
def user_from_a_test_header(monkeypatch: pytest.MonkeyPatch) -> None:
    """No hub here: the handlers' base takes the caller's name from a header;
    every decision after that (roles, 403) is the service's."""

    def from_header(handler: app.Base) -> dict[str, str] | None:
        name = handler.request.headers.get(USER)
        handler._token_authenticated = "Authorization" in handler.request.headers  # type: ignore[attr-defined]
        return {"name": name} if name else None

    monkeypatch.setattr(app.Base, "get_current_user", from_header)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Any]:
    """The demo sandbox's registry settings (tier 2) with erin both analyst and
    steward, homes in a folder (as the local spawner has them)."""
    loaded = load_config(PROJECT / "config" / "sandbox.yaml", verify_checksums=False)
    layout = Layout(tmp_path / "state")
    inputs = HubInputs(
        layout=layout,
        image="notebook",
        python="python",
        proxy_command="configurable-http-proxy",
        organisation=loaded.config.organisation.name,
        catalog=tuple(catalog_summary(loaded)),
        tier=2,  # the demo's woz-2024 is tier 2: two approvals
    )
    config = copy.deepcopy(registry_settings(loaded.config.sandbox("demo"), inputs))
    assert config["airlock"]["tier"] >= 2
    config["roles"]["erin"] = sorted({*config["roles"]["erin"], "analyst"})
    homes = tmp_path / "homes"
    (homes / "erin").mkdir(parents=True)
    (homes / "erin" / "t.csv").write_text(SAFE)
    (homes / "alice").mkdir()
    (homes / "alice" / "plot.png").write_bytes(PNG)
    (homes / "alice" / "drawing.png").write_bytes(SVG)  # an SVG named as a PNG
    config["airlock"]["homes_dir"] = str(homes)
    engine = open_registry_url(f"sqlite:///{tmp_path / 'r.sqlite'}")
    loop = asyncio.new_event_loop()
    sock, port = bind_unused_port()
    application = app.make_app(config, engine, ROOT)

    async def start() -> HTTPServer:
        served = HTTPServer(application)
        served.add_sockets([sock])
        return served

    served = loop.run_until_complete(start())

    def call(method: str, path: str, user: str, body: Any = None) -> HTTPResponse:
        headers = {USER: user}
        if method == "POST":
            headers["Authorization"] = "token checked-by-the-hub"

        async def fetch() -> HTTPResponse:
            return await AsyncHTTPClient().fetch(
                f"http://127.0.0.1:{port}{path}",
                method=method,
                headers=headers,
                body=json.dumps(body) if method == "POST" else None,
                raise_error=False,
                follow_redirects=False,
            )

        return loop.run_until_complete(fetch())

    yield call
    served.stop()
    loop.run_until_complete(served.close_all_connections())
    loop.close()
    engine.dispose()


def test_an_analyst_who_is_a_steward_cannot_review_her_own_request(server):
    asked = server("POST", API + "outputs", "erin", {"path": "t.csv", "justification": "table 3"})
    assert asked.code == 201, asked.body
    rid = json.loads(asked.body)["id"]
    for decision in ("approve", "reject"):
        answer = server(
            "POST",
            f"{API}outputs/{rid}/reviews",
            "erin",
            {"decision": decision, "reason": "mine", "override": True},
        )
        assert answer.code == 403, (decision, answer.body)
        assert b"cannot review their own request" in answer.body
    shown = json.loads(server("GET", f"{API}outputs/{rid}", "erin").body)
    assert (shown["state"], shown["events"]) == ("checked", [])
    # her page shows the request without the review form
    page = server("GET", f"{ROOT}outputs/{rid}", "erin")
    assert page.code == 200 and b"id='request'" in page.body
    assert b"id='review'" not in page.body
    # another steward may review it: one approval of the two tier 2 needs
    approved = server(
        "POST", f"{API}outputs/{rid}/reviews", "frank", {"decision": "approve", "reason": "ok"}
    )
    assert approved.code == 200, approved.body
    assert (json.loads(approved.body)["state"], json.loads(approved.body)["approvals"]) == (
        "checked",
        1,
    )


def test_stewards_preview_a_requested_image_and_no_one_else_fetches_it(server):
    asked = server("POST", API + "outputs", "alice", {"path": "plot.png", "justification": "fig"})
    assert asked.code == 201, asked.body
    rid = json.loads(asked.body)["id"]
    image = f"{ROOT}outputs/{rid}/images/plot.png"
    page = server("GET", f"{ROOT}outputs/{rid}", "frank").body.decode()
    assert f"<img class='preview' src='{image}'" in page
    shown = server("GET", image, "frank")
    assert shown.code == 200 and shown.body == PNG
    assert shown.headers["Content-Type"] == "image/png"
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in shown.headers["Content-Security-Policy"]
    # a plain analyst who is not the requester, the requester herself, a manager
    for user in ("bob", "alice", "carol"):
        assert server("GET", image, user).code == 403, user
    assert "<img" not in server("GET", f"{ROOT}outputs/{rid}", "alice").body.decode()
    assert server("GET", f"{ROOT}outputs/{rid}/images/other.png", "frank").code == 404


def test_an_image_is_known_by_its_bytes_not_its_name(server):
    asked = server(
        "POST", API + "outputs", "alice", {"path": "drawing.png", "justification": "fig"}
    )
    rid = json.loads(asked.body)["id"]
    assert "<img" not in server("GET", f"{ROOT}outputs/{rid}", "frank").body.decode()
    assert server("GET", f"{ROOT}outputs/{rid}/images/drawing.png", "frank").code == 404
    assert outputs.image_type(PNG) == "image/png"
    assert outputs.image_type(b"\xff\xd8\xff\xe0\x00\x10JFIF") == "image/jpeg"
    assert outputs.image_type(b"GIF89a\x01\x00") == outputs.image_type(b"GIF87a") == "image/gif"
    assert outputs.image_type(SVG) is None and outputs.image_type(b"") is None


def test_the_pages_name_a_requests_state_in_dutch(server):
    asked = server("POST", API + "outputs", "erin", {"path": "t.csv", "justification": "table 3"})
    rid = json.loads(asked.body)["id"]
    listed = server("GET", f"{ROOT}outputs?lang=nl", "frank").body.decode()
    assert "<td class='state'>gecontroleerd</td>" in listed and ">checked<" not in listed
    detail = server("GET", f"{ROOT}outputs/{rid}?lang=nl", "frank").body.decode()
    assert f"{rid}: t.csv (gecontroleerd)" in detail and "data-state='checked'" in detail
    assert json.loads(server("GET", f"{API}outputs/{rid}", "frank").body)["state"] == "checked"
    english = server("GET", f"{ROOT}outputs/{rid}?lang=en", "frank").body.decode()
    assert f"{rid}: t.csv (checked)" in english
