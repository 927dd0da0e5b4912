"""The registry service's HTTP handlers, in process: make_app served on a loopback
port with a real SQLite registry, called over HTTP by tornado's client. No hub, no
Docker; tests/integration/test_registry_service.py runs the same service behind a
real hub.

Most tests call one server over a registry seeded once (``seeded``) and only read
it or are refused; they check that a refusal wrote nothing. Tests that write get a
fresh registry and server of their own (``fresh``)."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from functools import partial
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from tornado.httpclient import AsyncHTTPClient, HTTPResponse
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from sandbox.config.loader import load_config
from sandbox.host.layout import Layout
from sandbox.hub.settings import HubInputs, registry_settings
from sandbox.provisioning.plan import catalog_summary
from sandbox.registry import access_log, store
from sandbox.registry.access_log import AccessEntry
from sandbox.registry.db import open_registry_url
from sandbox.registry.lifecycle import PUBLICATION_CATEGORIES, Experiment
from sandbox.registry.service import app
from sandbox.reporting import report

PROJECT = Path(__file__).resolve().parents[2]
ROOT = "/services/registry/"
API = ROOT + "api/"
TODAY = date(2026, 1, 15)
USER_HEADER = "X-Test-User"
GROUPS_HEADER = "X-Test-Groups"  # the groups in the hub's identity model (identity providers)
NEW = {"title": "WOZ-model", "purpose": "policy-research"}
GATE = {"human_intervention": "a person decides", "risks": "bias, checked", "proportionality": "ok"}


# ------------------------------------------------------------------ serving


@pytest.fixture(scope="module", autouse=True)
def user_from_a_test_header() -> Iterator[None]:
    """The hub authenticates callers (HubOAuthenticated.get_current_user checks a
    token or the OAuth cookie against the hub's API); there is no hub here, so the
    handlers' base class takes the user's name from a test header instead. Every
    decision after that (roles, 401/403/404, what a page shows) is the service's."""

    def from_header(handler: app.Base) -> dict[str, str] | None:
        name = handler.request.headers.get(USER_HEADER)
        # as HubAuth marks a caller it knows by a token (not by the cookie)
        handler._token_authenticated = "Authorization" in handler.request.headers  # type: ignore[attr-defined]
        groups = handler.request.headers.get(GROUPS_HEADER)
        return (
            ({"name": name} | ({"groups": groups.split(",")} if groups else {})) if name else None
        )

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(app.Base, "get_current_user", from_header)
        yield


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> dict[str, Any]:
    """The registry section of the demo sandbox's hub.json, built as the hub config
    builds it (roles and teams from the groups, the catalog from the data cards)."""
    loaded = load_config(PROJECT / "config" / "sandbox.yaml", verify_checksums=False)
    inputs = HubInputs(
        layout=Layout(tmp_path_factory.mktemp("state")),
        image="notebook",
        python="python",
        proxy_command="configurable-http-proxy",
        organisation=loaded.config.organisation.name,
        catalog=tuple(catalog_summary(loaded)),
    )
    return registry_settings(loaded.config.sandbox("demo"), inputs)


@pytest.fixture(scope="module")
def empty_registry(tmp_path_factory) -> Path:
    """A migrated, empty registry, copied where one is needed (migrating takes a while)."""
    path = tmp_path_factory.mktemp("registry") / "empty.sqlite"
    open_registry_url(f"sqlite:///{path}").dispose()  # the last close folds the WAL in
    return path


def registry(empty: Path, folder: Path) -> Engine:
    path = folder / "r.sqlite"
    shutil.copyfile(empty, path)
    return open_registry_url(f"sqlite:///{path}")


class Client:
    """make_app(config, engine, prefix, today) on a loopback port, on an event loop of
    its own. ``user`` travels in the test header; POSTs carry an Authorization
    header (which the hub would have checked) unless ``token=False``."""

    def __init__(self, config: dict[str, Any], engine: Engine, today: date = TODAY):
        self.engine = engine
        self.loop = asyncio.new_event_loop()
        sock, self.port = bind_unused_port()
        application = app.make_app(config, engine, ROOT, lambda: today)

        async def start() -> HTTPServer:
            server = HTTPServer(application)
            server.add_sockets([sock])
            return server

        self.server = self.loop.run_until_complete(start())

    def call(
        self,
        method: str,
        path: str,
        user: str | None,
        body: Any = None,
        token: bool = True,
        headers: dict[str, str] | None = None,
    ) -> HTTPResponse:
        headers = {**(headers or {}), **({USER_HEADER: user} if user else {})}
        if method != "POST":
            body = None  # a GET carries none
        else:
            if token:
                headers["Authorization"] = "token checked-by-the-hub"
            if not isinstance(body, str):
                body = json.dumps(body) if body is not None else ""

        async def fetch() -> HTTPResponse:
            return await AsyncHTTPClient().fetch(
                f"http://127.0.0.1:{self.port}{path}",
                method=method,
                headers=headers,
                body=body,
                raise_error=False,
                follow_redirects=False,
            )

        return self.loop.run_until_complete(fetch())

    def get(self, path: str, user: str | None = None) -> HTTPResponse:
        return self.call("GET", path, user)

    def post(self, path: str, user: str | None, body: Any, token: bool = True) -> HTTPResponse:
        return self.call("POST", path, user, body, token)

    def close(self) -> None:
        self.server.stop()
        self.loop.run_until_complete(self.server.close_all_connections())
        self.loop.close()


@pytest.fixture(scope="module")
def serve() -> Iterator[Any]:
    """Start a Client; all are closed at the end of the module."""
    clients: list[Client] = []

    def start(config: dict[str, Any], engine: Engine, today: date = TODAY) -> Client:
        clients.append(Client(config, engine, today))
        return clients[-1]

    yield start
    for client in clients:
        client.close()


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def register(engine: Engine, owner: str, team: str, on: str, *steps: str, **fields: Any) -> str:
    """An experiment stored directly, then its lifecycle steps ("state@day")."""
    record = store.register(
        engine,
        Experiment(
            id="",
            title=f"{team} model",
            team=team,
            sandbox=fields.pop("sandbox", "demo"),
            owner=owner,
            purpose="policy-research",
            registered_at=at(on),
            registered_by=owner,
            **fields,
        ),
    )
    for step in steps:
        state, day = step.split("@")
        store.transition(engine, record.id, state, owner, f"to {state}", clock=partial(at, day))
    return record.id


def logged(user: str, dataset: str, minute: int) -> AccessEntry:
    return AccessEntry(
        trace_id="0123456789abcdef0123456789abcdef",
        at=datetime(2026, 1, 14, 9, minute, tzinfo=UTC),
        user=user,
        sandbox="demo",
        dataset=dataset,
        version="2024.1",
        sha256="ab" * 32,
        purpose="policy-research",
        legal_basis="public-task",
        decision="granted",
    )


@pytest.fixture(scope="module")
def seeded(settings, empty_registry, tmp_path_factory, serve) -> Client:
    """One server for the tests that only read or are refused, over a registry with
    experiments of two teams and two sandboxes (EXP-0001 in production, EXP-0002
    stopped, EXP-0003 approved, EXP-0004 in sandbox "other", EXP-0005 validated
    without the gate's fields) and an access log."""
    engine = registry(empty_registry, tmp_path_factory.mktemp("seeded"))
    validated = ("approved@2025-01-12", "exploring@2025-01-20", "validated@2025-02-20")
    production = "in_production@2025-03-01"
    ids = [
        register(engine, "alice", "belastingen", "2025-01-10", *validated, production, **GATE),
        register(engine, "dave", "leefomgeving", "2025-02-01", "stopped@2025-04-01"),
        register(engine, "bob", "belastingen", "2025-05-01", "approved@2025-05-02"),
        register(engine, "zoe", "jeugd", "2025-06-01", sandbox="other"),
        register(engine, "bob", "belastingen", "2025-06-10", *validated),  # no gate fields
    ]
    assert ids == ["EXP-0001", "EXP-0002", "EXP-0003", "EXP-0004", "EXP-0005"]
    access_log.record(
        engine, [logged("alice", "woz-2024", 1), logged("dave", "cbs-wijken-2024", 2)]
    )
    return serve(settings, engine)


@pytest.fixture
def fresh(settings, empty_registry, tmp_path, serve) -> Client:
    """A server over an empty registry of this test's own."""
    return serve(settings, registry(empty_registry, tmp_path))


def written(client: Client) -> tuple[int, int]:
    """What the registry holds: experiments and lifecycle events."""
    return len(store.listing(client.engine)), store.count_events(client.engine)


# ------------------------------------------------------------------ reading answers


def body(answer: HTTPResponse) -> Any:
    return json.loads(answer.body)


def error(answer: HTTPResponse) -> str:
    assert answer.headers["Content-Type"].startswith("application/json")
    return body(answer)["error"]


class Page(HTMLParser):
    """One HTML page: its start tags with their attributes, and its text."""

    def __init__(self, answer: HTTPResponse):
        super().__init__()
        assert answer.code == 200, answer.body
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[str] = []
        self.feed(answer.body.decode())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.texts.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [
            a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]

    def rows(self, attribute: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == "tr" and attribute in a]

    @property
    def lang(self) -> str | None:
        return self.find("html")[0].get("lang")

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.texts).split())

    def metric(self, path: str) -> Any:
        values = {a["data-value"] for _, a in self.tags if a.get("data-metric") == path}
        assert len(values) == 1, (path, values)  # shown once, or the same wherever shown
        return json.loads(values.pop() or "null")


# ------------------------------------------------------------------ who is calling


@pytest.mark.parametrize(
    "user, roles",
    [("alice", ["analyst"]), ("carol", ["manager"]), ("erin", ["steward"]), ("admin", ["admin"])],
)
def test_me_names_the_caller_their_roles_and_the_sandbox(seeded, user, roles):
    answer = seeded.get(API + "me", user)
    assert answer.code == 200
    assert body(answer) == {"name": user, "roles": roles, "sandbox": "demo"}


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "me"),
        ("GET", "experiments"),
        ("POST", "experiments"),
        ("GET", "experiments/EXP-0001"),
        ("POST", "experiments/EXP-0003/transitions"),
        ("GET", "report"),
    ],
)
def test_without_a_user_the_api_answers_401(seeded, method, path):
    before = written(seeded)
    answer = seeded.call(method, API + path, None, {"to": "stopped", **NEW})
    assert answer.code == 401
    assert error(answer) == "log in or send a JupyterHub token"
    assert written(seeded) == before


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "me"),
        ("GET", "experiments"),
        ("POST", "experiments"),
        ("GET", "experiments/EXP-0001"),
        ("POST", "experiments/EXP-0003/transitions"),
        ("GET", "report"),
    ],
)
def test_a_user_without_a_role_gets_403(seeded, method, path):
    before = written(seeded)
    answer = seeded.call(method, API + path, "mallory", {"to": "stopped", **NEW})
    assert answer.code == 403
    assert error(answer) == "mallory has no role in this sandbox"
    assert written(seeded) == before


@pytest.mark.parametrize("page", ["", "catalog", "experiments/EXP-0001", "dashboard"])
def test_a_user_without_a_role_gets_no_page(seeded, page):
    assert seeded.get(ROOT + page, "mallory").code == 403


def test_the_openapi_document_needs_no_login(seeded):
    answer = seeded.get(API + "openapi.json")
    assert answer.code == 200
    assert "/experiments/{id}/transitions" in body(answer)["paths"]


# ------------------------------------------------------------------ experiments


def test_an_analyst_registers_an_experiment_and_moves_it(fresh):
    answer = fresh.post(API + "experiments", "alice", {**NEW, **GATE, "datasets": ["woz-2024"]})
    assert answer.code == 201, answer.body
    created = body(answer)
    assert created["id"] == "EXP-0001"
    assert created["team"] == "belastingen"  # alice's group: the default
    assert created["sandbox"] == "demo"  # the sandbox whose service was called
    assert created["owner"] == created["registered_by"] == "alice"
    assert created["state"] == "proposed" and created["datasets"] == ["woz-2024"]
    assert [e["to_state"] for e in created["events"]] == ["proposed"]
    assert body(fresh.get(API + "experiments/EXP-0001", "alice")) == created

    path = API + "experiments/EXP-0001/transitions"
    answer = fresh.post(path, "alice", {"to": "approved", "reason": "agreed with the lead"})
    assert answer.code == 201
    event = body(answer)
    assert datetime.fromisoformat(event.pop("at")).tzinfo is not None
    assert event == {
        "experiment": "EXP-0001",
        "seq": 1,
        "from_state": "proposed",
        "to_state": "approved",
        "actor": "alice",
        "reason": "agreed with the lead",
    }
    assert fresh.post(path, "admin", {"to": "exploring"}).code == 201  # admins may move it
    for state in ("validated", "in_production"):  # through the gate: its fields are there
        assert fresh.post(path, "alice", {"to": state, "reason": "tested"}).code == 201

    now = body(fresh.get(API + "experiments/EXP-0001", "alice"))
    assert now["state"] == "in_production"
    assert [(e["to_state"], e["actor"]) for e in now["events"]] == [
        ("proposed", "alice"),
        ("approved", "alice"),
        ("exploring", "admin"),
        ("validated", "alice"),
        ("in_production", "alice"),
    ]
    assert [e["id"] for e in body(fresh.get(API + "experiments", "alice"))] == ["EXP-0001"]
    listing = Page(fresh.get(ROOT, "alice"))
    assert listing.find("a", href=ROOT + "experiments/EXP-0001")
    detail = Page(fresh.get(ROOT + "experiments/EXP-0001", "alice"))
    assert detail.find("table", id="events") and "agreed with the lead" in detail.text


def test_the_team_defaults_to_the_callers_group_unless_given(fresh):
    def team(user: str, **given: str) -> str:
        answer = fresh.post(API + "experiments", user, {**NEW, **given})
        assert answer.code == 201, answer.body
        return body(answer)["team"]

    assert team("dave") == "leefomgeving"
    assert team("bob") == "belastingen"
    assert team("alice", team="leefomgeving") == "leefomgeving"
    assert team("alice", team="") == "belastingen"


def test_a_goal_and_a_publication_category_are_stored_and_shown_back(fresh):
    sent = {**NEW, "goal": "Eerlijker WOZ-waarden.", "publication_category": "Overige algoritmes"}
    answer = fresh.post(API + "experiments", "alice", sent)
    assert answer.code == 201, answer.body
    created = body(answer)
    assert (created["goal"], created["publication_category"]) == (
        "Eerlijker WOZ-waarden.",
        "Overige algoritmes",
    )
    shown = body(fresh.get(API + f"experiments/{created['id']}", "alice"))
    assert (shown["goal"], shown["publication_category"]) == (
        "Eerlijker WOZ-waarden.",
        "Overige algoritmes",
    )
    stored = store.get(fresh.engine, created["id"]).experiment  # in the registry itself
    assert stored.publication_category == "Overige algoritmes"
    assert stored.goal == "Eerlijker WOZ-waarden."


def test_an_unknown_publication_category_gets_a_json_400_naming_the_categories(seeded):
    before = written(seeded)
    sent = {**NEW, "publication_category": "Categorie B"}
    answer = seeded.post(API + "experiments", "alice", sent)
    assert answer.code == 400, answer.body
    assert error(answer).endswith(
        f"publication_category 'Categorie B': not one of {', '.join(PUBLICATION_CATEGORIES)}"
        " (or empty)"
    )
    assert written(seeded) == before


def test_write_requests_need_an_authorization_header(seeded):
    before = written(seeded)
    for path, sent in (
        (API + "experiments", NEW),
        (API + "experiments/EXP-0003/transitions", {"to": "stopped"}),
    ):
        answer = seeded.post(path, "bob", sent, token=False)
        assert answer.code == 403
        assert error(answer) == "write requests need a token (Authorization header)"
    assert written(seeded) == before


@pytest.mark.parametrize("user", ["carol", "erin", "admin"])
def test_only_analysts_register_experiments(seeded, user):
    before = written(seeded)
    answer = seeded.post(API + "experiments", user, {**NEW, "team": "management"})
    assert answer.code == 403
    assert error(answer) == "only analysts register experiments"
    assert written(seeded) == before


@pytest.mark.parametrize(
    "sent, message",
    [
        ("{not json", "request body is not valid JSON"),
        ("[1, 2]", "request body must be a JSON object"),
        ({"title": "x"}, "purpose is required (a non-empty string)"),
        ({"title": "  ", "purpose": "p"}, "title is required (a non-empty string)"),
        ({**NEW, "owner": "mallory"}, "unknown field(s): owner"),
        ({**NEW, "team": "no/slashes"}, "team 'no/slashes'"),
    ],
)
def test_bad_new_experiments_get_a_json_400(seeded, sent, message):
    before = written(seeded)
    answer = seeded.post(API + "experiments", "alice", sent)
    assert answer.code == 400
    assert message in error(answer)
    assert written(seeded) == before


@pytest.mark.parametrize(
    "experiment, sent, status, message",
    [
        ("EXP-0003", {"to": "in_production"}, 409, "approved -> in_production is not allowed"),
        ("EXP-0003", {"to": "retired"}, 409, "(from approved: exploring, stopped)"),
        ("EXP-0003", {"to": "launched"}, 400, "unknown state 'launched'"),
        ("EXP-0003", {"state": "stopped"}, 400, 'expected {"to": STATE, "reason": TEXT}'),
        ("EXP-0003", {"to": "stopped", "by": "carol"}, 400, "expected {"),
        ("EXP-0003", "[]", 400, "request body must be a JSON object"),
        (
            "EXP-0005",
            {"to": "in_production", "reason": "tested"},
            409,
            "refused; missing: human_intervention, risks",
        ),
        ("EXP-0001", {"to": "validated"}, 403, "you may only move your own experiments"),
    ],
)
def test_invalid_transitions_get_a_json_error_and_write_nothing(
    seeded, experiment, sent, status, message
):
    before = written(seeded)
    answer = seeded.post(f"{API}experiments/{experiment}/transitions", "bob", sent)
    assert answer.code == status, answer.body
    assert message in error(answer)
    assert written(seeded) == before


def test_final_states_stay_final(seeded):
    answer = seeded.post(API + "experiments/EXP-0002/transitions", "dave", {"to": "approved"})
    assert answer.code == 409
    assert error(answer).endswith(
        "stopped -> approved is not allowed (from stopped: none: it is final)"
    )


@pytest.mark.parametrize(
    "given, message",
    [
        ({"team": "woz-project"}, "unknown team 'woz-project' in sandbox demo; known: belastingen"),
        ({"purpose": "marketing"}, "unknown purpose 'marketing'; known: policy-research"),
        ({"datasets": ["woz-2042"]}, "unknown dataset 'woz-2042'; known: cbs-wijken-2024"),
    ],
)
def test_names_the_sandbox_does_not_know_are_refused_with_the_known_ones(seeded, given, message):
    before = written(seeded)
    answer = seeded.post(API + "experiments", "alice", {**NEW, **given})
    assert answer.code == 400
    assert message in error(answer)
    assert written(seeded) == before


@pytest.mark.parametrize(
    "experiment, user, to",
    [("EXP-0003", "bob", "stopped"), ("EXP-0005", "bob", "in_production")],
)
@pytest.mark.parametrize("reason", [None, "", "  "])
def test_approving_stopping_and_promoting_need_a_reason(seeded, experiment, user, to, reason):
    before = written(seeded)
    sent = {"to": to} if reason is None else {"to": to, "reason": reason}
    answer = seeded.post(f"{API}experiments/{experiment}/transitions", user, sent)
    assert answer.code == 400
    assert f"-> {to} needs a reason" in error(answer)
    assert written(seeded) == before


def test_the_owner_amends_an_experiment_and_then_promotes_it(fresh):
    assert fresh.post(API + "experiments", "alice", {**NEW, "personal_data": True}).code == 201
    moves = API + "experiments/EXP-0001/transitions"
    for state in ("approved", "exploring", "validated"):
        assert fresh.post(moves, "alice", {"to": state, "reason": "ok"}).code == 201
    refused = fresh.post(moves, "alice", {"to": "in_production", "reason": "ready"})
    assert refused.code == 409 and "missing: human_intervention" in error(refused)

    fields = {**GATE, "dpia_reference": "DPIA-2024-07", "team": "leefomgeving"}
    answer = fresh.post(
        API + "experiments/EXP-0001/amendments", "alice", {"fields": fields, "reason": "DPIA done"}
    )
    assert answer.code == 201, answer.body
    event = body(answer)
    assert (event["from_state"], event["to_state"], event["actor"]) == (
        "validated",
        "validated",
        "alice",
    )
    assert event["changes"]["risks"] == {"from": "", "to": GATE["risks"]}
    assert event["changes"]["team"] == {"from": "belastingen", "to": "leefomgeving"}
    assert fresh.post(moves, "alice", {"to": "in_production", "reason": "ready"}).code == 201

    now = body(fresh.get(API + "experiments/EXP-0001", "carol"))
    assert now["team"] == "leefomgeving" and now["risks"] == GATE["risks"]
    assert now["state"] == "in_production"
    assert [("changes" in e, e["to_state"]) for e in now["events"]] == [
        (False, "proposed"),
        (False, "approved"),
        (False, "exploring"),
        (False, "validated"),
        (True, "validated"),
        (False, "in_production"),
    ]
    report = body(fresh.get(API + "report", "carol"))
    assert (
        report["by_team"]["leefomgeving"]["promoted"] == 1
        and "belastingen" not in (report["by_team"])
    )
    detail = Page(fresh.get(ROOT + "experiments/EXP-0001", "alice"))
    assert "risks: '' → 'bias, checked'" in detail.text and "DPIA done" in detail.text


@pytest.mark.parametrize(
    "experiment, user, sent, status, message",
    [
        ("EXP-0003", "bob", {"fields": {}}, 400, "nothing to amend: give at least one of"),
        ("EXP-0003", "bob", {"fields": {"title": "belastingen model"}}, 400, "nothing to amend"),
        ("EXP-0003", "bob", {"fields": {"colour": "red"}}, 400, "cannot amend colour"),
        ("EXP-0003", "bob", {"fields": {"sandbox": "other"}}, 400, "cannot amend sandbox"),
        ("EXP-0003", "bob", {"fields": {"owner": "mallory"}}, 400, "cannot amend owner"),
        ("EXP-0003", "bob", {"fields": {"title": " "}}, 400, "title may not be empty"),
        ("EXP-0003", "bob", {"fields": {"team": "jeugd"}}, 400, "unknown team 'jeugd'"),
        ("EXP-0003", "bob", {"risks": "x"}, 400, 'expected {"fields": {FIELD: VALUE'),
        ("EXP-0003", "bob", "[]", 400, "request body must be a JSON object"),
        ("EXP-0003", "alice", {"fields": {"risks": "x"}}, 403, "only amend your own"),
        ("EXP-0001", "bob", {"fields": {"risks": ""}}, 403, "only amend your own"),
        ("EXP-0001", "admin", {"fields": {"risks": ""}}, 400, "would leave the promotion gate's"),
        ("EXP-9999", "bob", {"fields": {"risks": "x"}}, 404, "unknown experiment 'EXP-9999'"),
    ],
)
def test_amendments_that_are_refused_write_nothing(seeded, experiment, user, sent, status, message):
    before = written(seeded)
    answer = seeded.post(f"{API}experiments/{experiment}/amendments", user, sent)
    assert answer.code == status, answer.body
    assert message in error(answer)
    assert written(seeded) == before


def test_unknown_experiments_are_404(seeded):
    for answer in (
        seeded.get(API + "experiments/EXP-9999", "carol"),
        seeded.post(API + "experiments/EXP-9999/transitions", "alice", {"to": "approved"}),
    ):
        assert answer.code == 404
        assert error(answer) == "unknown experiment 'EXP-9999'"
    assert seeded.get(ROOT + "experiments/EXP-9999", "carol").code == 404


def test_analysts_see_their_own_sandbox_and_move_only_their_own(seeded):
    before = written(seeded)
    listed = [e["id"] for e in body(seeded.get(API + "experiments", "alice"))]
    assert listed == ["EXP-0001", "EXP-0002", "EXP-0003", "EXP-0005"]  # not EXP-0004
    assert seeded.get(API + "experiments/EXP-0002", "alice").code == 200  # dave's, same sandbox
    other = seeded.get(API + "experiments/EXP-0004", "alice")  # another sandbox: invisible
    assert other.code == 404 and error(other) == "unknown experiment 'EXP-0004'"
    path = API + "experiments/EXP-0004/transitions"
    assert seeded.post(path, "alice", {"to": "approved"}).code == 404
    assert seeded.get(ROOT + "experiments/EXP-0004", "alice").code == 404
    assert "EXP-0004" not in Page(seeded.get(ROOT, "alice")).text

    for user in ("alice", "carol", "erin"):  # bob's experiment
        answer = seeded.post(API + "experiments/EXP-0003/transitions", user, {"to": "stopped"})
        assert answer.code == 403, user
        assert error(answer) == "you may only move your own experiments"
    assert written(seeded) == before


@pytest.mark.parametrize("user", ["carol", "erin", "admin"])
def test_managers_stewards_and_admins_read_everything(seeded, user):
    every = ["EXP-0001", "EXP-0002", "EXP-0003", "EXP-0004", "EXP-0005"]
    assert [e["id"] for e in body(seeded.get(API + "experiments", user))] == every
    other = body(seeded.get(API + "experiments/EXP-0004", user))
    assert other["sandbox"] == "other" and other["owner"] == "zoe"
    listing = Page(seeded.get(ROOT, user))
    assert [a["href"] for a in listing.find("a") if "/experiments/" in (a["href"] or "")] == [
        f"{ROOT}experiments/{i}" for i in every
    ]
    assert Page(seeded.get(ROOT + "experiments/EXP-0004", user)).find("table", id="events")


def test_the_experiment_pages(seeded):
    listing = Page(seeded.get(ROOT, "alice"))
    assert listing.find("table", id="experiments") and listing.lang == "en"
    assert "Gemeente Voorbeeld" in listing.text and "alice (analyst)" in listing.text
    detail = Page(seeded.get(ROOT + "experiments/EXP-0001", "alice"))
    assert detail.find("table", id="events")
    for shown in ("belastingen model", "a person decides", "bias, checked", "In production"):
        assert shown in detail.text, shown


# ------------------------------------------------------------------ report and dashboard


def without_clock(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in figures.items() if k != "generated_at"}


@pytest.mark.parametrize("user", ["carol", "admin"])
def test_the_manager_reads_the_report(seeded, user):
    answer = seeded.get(API + "report", user)
    assert answer.code == 200
    served = body(answer)
    assert without_clock(served) == without_clock(report.compute(store.summaries(seeded.engine)))
    assert served["overall"]["registered"] == 5 and served["overall"]["promoted"] == 1
    assert served["overall"]["stopped"] == 1 and set(served["by_sandbox"]) == {"demo", "other"}


def test_the_report_filters(seeded):
    answer = seeded.get(API + "report?team=belastingen&since=2025-01-01&until=2025-04-01", "carol")
    assert answer.code == 200
    belastingen = [s for s in store.summaries(seeded.engine) if s.team == "belastingen"]
    expected = report.compute(belastingen, date(2025, 1, 1), date(2025, 4, 1))
    assert without_clock(body(answer)) == without_clock(expected)
    assert body(answer)["overall"]["registered"] == 1
    assert body(answer)["since"] == "2025-01-01" and body(answer)["until"] == "2025-04-01"

    other = body(seeded.get(API + "report?sandbox=other", "carol"))
    assert list(other["by_sandbox"]) == ["other"] and other["overall"]["registered"] == 1
    answer = seeded.get(API + "report?since=31-01-2025", "carol")
    assert answer.code == 400
    assert error(answer) == "since: expected a date like 2025-01-31"


@pytest.mark.parametrize("user", ["alice", "dave", "erin"])
def test_analysts_and_stewards_get_403_on_the_report_and_the_dashboard(seeded, user):
    answer = seeded.get(API + "report", user)
    assert answer.code == 403
    assert error(answer) == "the dashboard is for managers"
    assert seeded.get(ROOT + "dashboard", user).code == 403


def test_the_dashboard_shows_the_reports_figures(seeded):
    page = Page(seeded.get(ROOT + "dashboard", "carol"))
    assert page.lang == "en" and "Experiments to production" in page.text
    assert page.find("form", id="filters", action=ROOT + "dashboard")
    expected: dict[str, Any] = report.compute(store.summaries(seeded.engine))
    for path in ("overall.registered", "overall.promoted", "overall.stopped", "funnel.approved"):
        group, name = path.split(".")
        assert page.metric(path) == expected[group][name], path
    filtered = Page(seeded.get(ROOT + "dashboard?team=leefomgeving", "carol"))
    assert filtered.metric("overall.registered") == 1
    assert seeded.get(ROOT + "dashboard?until=tomorrow", "carol").code == 400


# ------------------------------------------------------------------ catalog and languages


def test_the_steward_sees_the_access_log_on_the_catalog_page(seeded):
    steward = Page(seeded.get(ROOT + "catalog", "erin"))
    assert steward.find("table", id="access-log")
    assert [(r["data-user"], r["data-dataset"]) for r in steward.rows("data-user")] == [
        ("dave", "cbs-wijken-2024"),  # newest first
        ("alice", "woz-2024"),
    ]
    assert len(steward.rows("data-dataset")) == 3 + 2  # the cards, and the log's rows
    for user in ("alice", "carol"):
        page = Page(seeded.get(ROOT + "catalog", user))
        assert not page.find("table", id="access-log") and not page.rows("data-user"), user
        assert [r["data-dataset"] for r in page.rows("data-for-you")] == [
            "cbs-wijken-2024",
            "meldingen-openbare-ruimte-2024",
            "woz-2024",
        ]


def test_the_catalog_says_what_is_mounted_for_the_caller(seeded, settings, serve):
    def for_alice(client: Client) -> dict[str | None, str | None]:
        page = Page(client.get(ROOT + "catalog", "alice"))
        return {r["data-dataset"]: r["data-for-you"] for r in page.rows("data-for-you")}

    assert for_alice(seeded) == {
        "cbs-wijken-2024": "mounted",
        "meldingen-openbare-ruimte-2024": "not-granted",
        "woz-2024": "mounted",
    }
    assert "mounted at /data/woz-2024" in Page(seeded.get(ROOT + "catalog", "alice")).text
    later = serve(settings, seeded.engine, today=date(2027, 7, 1))  # woz's agreement ended
    assert for_alice(later)["woz-2024"] == "lapsed"


@pytest.mark.parametrize(
    "page, dutch, english",
    [
        ("", "Experimenten", "Experiments"),
        ("catalog", "Datacatalogus", "Dataset catalog"),
        ("dashboard", "Experimenten naar productie", "Experiments to production"),
    ],
)
def test_lang_nl_gives_dutch(seeded, page, dutch, english):
    default = Page(seeded.get(ROOT + page, "carol"))
    assert default.lang == "en" and english in default.text and dutch not in default.text
    chosen = Page(seeded.get(f"{ROOT}{page}?lang=nl", "carol"))
    assert chosen.lang == "nl" and dutch in chosen.text


def test_a_dutch_sandbox_speaks_dutch_unless_asked_otherwise(seeded, settings, serve):
    dutch = serve({**settings, "lang": "nl"}, seeded.engine)
    page = Page(dutch.get(ROOT + "catalog", "alice"))
    assert page.lang == "nl" and "Datacatalogus" in page.text
    english = Page(dutch.get(ROOT + "catalog?lang=en", "alice"))
    assert english.lang == "en" and "Dataset catalog" in english.text
    assert english.find("a", href=ROOT + "catalog?lang=en")  # the choice stays in the links
    assert body(dutch.get(API + "me", "alice"))["name"] == "alice"


def test_with_an_identity_provider_the_groups_of_the_last_login_give_roles_and_teams(
    settings, empty_registry, tmp_path, serve
):
    """eva is in no members list: the provider put her in belastingen at login."""
    roles = {"belastingen": "analyst", "data-office": "steward"}
    client = serve({**settings, "group_roles": roles}, registry(empty_registry, tmp_path))
    me = client.call("GET", API + "me", "eva", headers={GROUPS_HEADER: "belastingen"})
    assert body(me)["roles"] == ["analyst"]
    made = client.call(
        "POST", API + "experiments", "eva", NEW, headers={GROUPS_HEADER: "belastingen"}
    )
    assert made.code == 201, made.body
    assert body(made)["team"] == "belastingen"
    # without a mapped group (or without group roles: no provider) eva has no role
    assert client.call("GET", API + "me", "eva", headers={GROUPS_HEADER: "other"}).code == 403
    assert (
        serve(settings, client.engine)
        .call("GET", API + "me", "eva", headers={GROUPS_HEADER: "belastingen"})
        .code
        == 403
    )
