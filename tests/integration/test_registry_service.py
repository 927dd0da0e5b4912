"""The registry service behind the real hub: authorization matrix, errors as
JSON 4xx, the OpenAPI document, and the HTML pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from sandbox.registry import store
from sandbox.registry.db import open_registry_url
from sandbox.registry.lifecycle import Experiment
from tests.conftest import Deployment
from tests.hubclient import HubUser

pytestmark = pytest.mark.docker

SCOPE = "access:services!service=registry"


class Client:
    def __init__(self, deployment: Deployment, name: str | None):
        self.base = f"{deployment.url}/services/registry/api"
        self.headers = {}
        self.user = None
        if name:
            self.user = HubUser(deployment.url, name, deployment.password(name))
            answer = self.user.api("POST", f"/users/{name}/tokens", json={"scopes": [SCOPE]})
            assert answer.status_code == 201, answer.text
            self.headers = {"Authorization": f"token {answer.json()['token']}"}

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(
            method, self.base + path, headers=self.headers, timeout=30, **kwargs
        )


@pytest.fixture(scope="module")
def clients(deployment: Deployment):
    names = ["alice", "dave", "carol", "erin", "admin"]
    made = {name: Client(deployment, name) for name in names}
    made["anonymous"] = Client(deployment, None)
    return made


@pytest.fixture(scope="module")
def other_sandbox_experiment(deployment: Deployment) -> str:
    """An experiment of another sandbox in the same organisation's registry."""
    engine = open_registry_url(f"sqlite:///{deployment.state / 'registry.sqlite'}")
    record = Experiment(
        "OTHER-1",
        "Elders",
        "jeugd",
        "other",
        "zoe",
        "policy-research",
        datetime.now(UTC),
        "zoe",
    )
    store.register(engine, record)
    return record.id


NEW = {"title": "WOZ-model", "team": "belastingen", "purpose": "policy-research"}


def test_authorization_matrix(clients, other_sandbox_experiment):
    alice, dave = clients["alice"], clients["dave"]
    created = alice.call("POST", "/experiments", json=NEW)
    assert created.status_code == 201, created.text
    mine = created.json()["id"]
    assert created.json()["owner"] == "alice" and created.json()["sandbox"] == "itest"
    daves = dave.call("POST", "/experiments", json={**NEW, "team": "leefomgeving"}).json()["id"]
    other = other_sandbox_experiment

    expected = {
        # (caller, method, path, body): status
        ("anonymous", "GET", "/me"): 401,
        ("anonymous", "GET", "/experiments"): 401,
        ("anonymous", "POST", "/experiments"): 401,
        ("anonymous", "GET", f"/experiments/{mine}"): 401,
        ("anonymous", "GET", "/openapi.json"): 200,
        ("alice", "GET", "/me"): 200,
        ("alice", "GET", f"/experiments/{daves}"): 200,  # same sandbox: readable
        ("alice", "GET", f"/experiments/{other}"): 404,  # other sandbox: invisible
        ("dave", "GET", f"/experiments/{mine}"): 200,
        ("carol", "GET", f"/experiments/{other}"): 200,  # managers read everything
        ("carol", "POST", "/experiments"): 403,
        ("erin", "GET", f"/experiments/{other}"): 200,  # stewards read everything
        ("erin", "POST", "/experiments"): 403,
        ("admin", "GET", f"/experiments/{other}"): 200,
    }
    for (who, method, path), status in expected.items():
        body = {"json": NEW} if method == "POST" else {}
        answer = clients[who].call(method, path, **body)
        assert answer.status_code == status, (who, method, path, answer.text)
        if status >= 400:
            assert "error" in answer.json()

    transitions = {
        ("alice", mine): 201,  # her own
        ("dave", mine): 403,  # not his
        ("carol", mine): 403,
        ("erin", mine): 403,
        ("alice", other): 404,
        ("anonymous", mine): 401,
    }
    for (who, experiment_id), status in transitions.items():
        answer = clients[who].call(
            "POST",
            f"/experiments/{experiment_id}/transitions",
            json={"to": "approved", "reason": "agreed with the team lead"},
        )
        assert answer.status_code == status, (who, experiment_id, answer.text)

    seen = {
        who: {e["id"] for e in clients[who].call("GET", "/experiments").json()}
        for who in ("alice", "carol", "erin")
    }
    assert {mine, daves} <= seen["alice"] and other not in seen["alice"]
    assert {mine, daves, other} <= seen["carol"] and seen["carol"] == seen["erin"]
    assert alice.call("GET", "/me").json() == {
        "name": "alice",
        "roles": ["analyst"],
        "sandbox": "itest",
    }


@pytest.mark.parametrize(
    "method, path, body, status, message",
    [
        ("POST", "/experiments", "{not json", 400, "not valid JSON"),
        ("POST", "/experiments", '{"title": "x"}', 400, "purpose is required"),
        (
            "POST",
            "/experiments",
            '{"title": "x", "team": "a", "purpose": "p", "x": 1}',
            400,
            "unknown field",
        ),
        ("GET", "/experiments/EXP-9999", None, 404, "unknown experiment"),
    ],
)
def test_bad_requests_get_json_errors(clients, method, path, body, status, message):
    answer = clients["alice"].call(method, path, data=body)
    assert answer.status_code == status
    assert message in answer.json()["error"]


def test_bad_transitions_are_refused_and_write_nothing(clients):
    alice = clients["alice"]
    experiment_id = alice.call("POST", "/experiments", json=NEW).json()["id"]
    for body, status, message in (
        ({"to": "launched"}, 400, "unknown state"),
        ({"to": "in_production"}, 409, "not allowed"),
        ({"state": "approved"}, 400, "expected"),
        ({"to": "approved"}, 400, "needs a reason"),
    ):
        answer = alice.call("POST", f"/experiments/{experiment_id}/transitions", json=body)
        assert answer.status_code == status and message in answer.json()["error"]
    events = alice.call("GET", f"/experiments/{experiment_id}").json()["events"]
    assert [e["to_state"] for e in events] == ["proposed"]


def test_openapi_document_validates(clients):
    from openapi_spec_validator import validate

    document = clients["anonymous"].call("GET", "/openapi.json").json()
    validate(document)
    assert "/experiments/{id}/transitions" in document["paths"]


def test_html_pages_for_a_logged_in_user(clients, deployment: Deployment):
    session = clients["carol"].user.session
    listing = session.get(f"{deployment.url}/services/registry/", timeout=30)
    assert listing.status_code == 200
    assert "<table id='experiments'>" in listing.text and "OTHER-1" in listing.text
    detail = session.get(f"{deployment.url}/services/registry/experiments/OTHER-1", timeout=30)
    assert detail.status_code == 200 and "<table id='events'>" in detail.text
    catalog = session.get(f"{deployment.url}/services/registry/catalog", timeout=30)
    assert catalog.status_code == 200 and "woz-2024" in catalog.text
    alice = clients["alice"].user.session.get(f"{deployment.url}/services/registry/catalog")
    assert "mounted at /data/woz-2024" in alice.text
    assert "not granted" in alice.text  # meldingen exists but is not hers
    assert "id='access-log'" not in alice.text  # the access log is for stewards and admins
    erin = clients["erin"].user.session.get(f"{deployment.url}/services/registry/catalog")
    assert erin.status_code == 200 and "<table id='access-log'>" in erin.text
    dutch = session.get(f"{deployment.url}/services/registry/catalog?lang=nl", timeout=30)
    assert "<html lang='nl'>" in dutch.text and "Datacatalogus" in dutch.text
