"""The registry service: JSON API, OpenAPI document and HTML pages, behind
the hub's OAuth. Run by the hub as a managed service:
``python -m sandbox.registry.service HUB_JSON``."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from sqlalchemy import Engine
from tornado import ioloop, web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_unix_socket

from ...errors import InvalidInput
from ...hub.runtime import clock
from .. import access_log, audit, outputs, store
from ..db import open_registry_url
from ..known_names import KnownNames
from ..lifecycle import (
    SERVICE,
    STATES,
    TransitionRefused,
    amendable_fields,
    experiment_fields,
    loosely_typed,
    new_experiment,
)
from . import access, openapi, pages
from . import outputs as airlock_pages
from .access import Caller
from .pages import Language

if TYPE_CHECKING:
    from ...hub.settings import HubSettings, RegistrySettings

WITNESS_CHECK_MS = 3600 * 1000  # hourly: is a day gone since the last witnessed head?
# Containers connect as uid 1000; on the host only root can reach the folder.
SOCKET_MODE = 0o666
NEW_FIELDS = set(openapi.document("/")["components"]["schemas"]["NewExperiment"]["properties"])


class Base(HubOAuthenticated, web.RequestHandler):
    @property
    def config(self) -> dict[str, Any]:
        return self.settings["registry"]

    @property
    def engine(self) -> Engine:
        return self.settings["engine"]

    def caller(self) -> Caller | None:
        user = self.current_user
        if not user:
            return None
        roles = set(self.config["roles"].get(user["name"], []))
        # with an identity provider, the groups of the last login give roles too
        # (the hub's identity model carries them)
        group_roles = self.config.get("group_roles", {})
        roles |= {group_roles[g] for g in user.get("groups") or [] if g in group_roles}
        return Caller(user["name"], frozenset(roles), self.config["sandbox"])

    def teams_of(self, who: Caller) -> list[str]:
        """The caller's analyst groups: from the configuration, or the last login."""
        listed = self.config.get("teams", {}).get(who.name, [])
        group_roles = self.config.get("group_roles", {})
        groups = (self.current_user or {}).get("groups") or []
        return listed or sorted(g for g in groups if group_roles.get(g) == "analyst")

    def url(self, *parts: str) -> str:
        return url_path_join(self.settings["prefix"], *parts)

    def lang(self) -> Language:
        """The sandbox's language, unless this request asks for another (?lang=nl|en)."""
        return Language.choose(self.get_argument("lang", None), self.config.get("lang"))


class ApiHandler(Base):
    def prepare(self) -> None:
        self.set_header("Content-Type", "application/json")
        if self.current_user is None:
            raise web.HTTPError(401, "log in or send a JupyterHub token")
        if not self.who.roles:
            raise web.HTTPError(403, f"{self.who.name} has no role in this sandbox")
        if self.request.method == "POST" and not getattr(self, "_token_authenticated", False):
            # a cookie alone never writes: no other site can make a browser send a token
            raise web.HTTPError(403, "write requests need a token (Authorization header)")

    def check_xsrf_cookie(self) -> None:
        """Writes come with a token (prepare refuses them otherwise), which no
        other site can make a browser send."""

    @property
    def who(self) -> Caller:
        caller = self.caller()
        assert caller is not None
        return caller

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        message = self._reason
        exc = kwargs.get("exc_info", (None, None))[1]
        if isinstance(exc, web.HTTPError) and exc.log_message:
            message = exc.log_message
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": message}))

    def body(self) -> dict[str, Any]:
        try:
            data = json.loads(self.request.body or b"null")
        except ValueError:
            raise web.HTTPError(400, "request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise web.HTTPError(400, "request body must be a JSON object")
        return data

    def known_names(self) -> KnownNames:
        """The names this sandbox's configuration defines (hub.json)."""
        return KnownNames.of_service(self.config)

    def readable(self, experiment_id: str) -> store.ExperimentView:
        try:
            view = store.get(self.engine, experiment_id)
        except store.UnknownExperiment:
            raise web.HTTPError(404, f"unknown experiment {experiment_id!r}") from None
        if not access.can_read(self.who, view.experiment):
            raise web.HTTPError(404, f"unknown experiment {experiment_id!r}")
        return view


class MeHandler(ApiHandler):
    def get(self) -> None:
        who = self.who
        self.finish({"name": who.name, "roles": sorted(who.roles), "sandbox": who.sandbox})


class ExperimentsHandler(ApiHandler):
    def get(self) -> None:
        views = [v for v in store.listing(self.engine) if access.can_read(self.who, v.experiment)]
        self.finish(json.dumps([v.as_dict() for v in views]))

    def post(self) -> None:
        if not access.can_create(self.who):
            raise web.HTTPError(403, "only analysts register experiments")
        data = self.body()
        unknown = set(data) - NEW_FIELDS
        if unknown:
            raise web.HTTPError(400, f"unknown field(s): {', '.join(sorted(unknown))}")
        teams = self.teams_of(self.who)
        if not data.get("team") and teams:
            data["team"] = teams[0]
        for item, spec in experiment_fields(SERVICE):
            value = data.get(item.name)
            if spec.required and (not isinstance(value, str) or not value.strip()):
                raise web.HTTPError(400, f"{item.name} is required (a non-empty string)")
        try:
            record = new_experiment(
                loosely_typed(data),
                SERVICE,
                id="",
                sandbox=self.who.sandbox,
                owner=self.who.name,
                registered_by=self.who.name,
                registered_at=datetime.now(UTC),
            )
        except (TypeError, ValueError) as exc:
            raise web.HTTPError(400, f"bad field: {exc}") from None
        try:
            self.known_names().check(record)
            stored = store.register(self.engine, record)
        except InvalidInput as exc:
            raise web.HTTPError(400, str(exc)) from None
        self.set_status(201)
        self.finish(json.dumps(store.get(self.engine, stored.id).as_dict()))


class ExperimentHandler(ApiHandler):
    def get(self, experiment_id: str) -> None:
        self.finish(json.dumps(self.readable(experiment_id).as_dict()))


class TransitionsHandler(ApiHandler):
    def post(self, experiment_id: str) -> None:
        view = self.readable(experiment_id)
        if not access.can_transition(self.who, view.experiment):
            raise web.HTTPError(403, "you may only move your own experiments")
        data = self.body()
        if set(data) - {"to", "reason"} or not isinstance(data.get("to"), str):
            raise web.HTTPError(400, 'expected {"to": STATE, "reason": TEXT}')
        if data["to"] not in STATES:
            raise web.HTTPError(400, f"unknown state {data['to']!r}")
        try:
            event = store.transition(
                self.engine, experiment_id, data["to"], self.who.name, str(data.get("reason", ""))
            )
        except TransitionRefused as exc:
            raise web.HTTPError(409, str(exc)) from None
        except InvalidInput as exc:
            raise web.HTTPError(400, str(exc)) from None
        self.set_status(201)
        self.finish(json.dumps({**event.as_dict(), "at": event.at.isoformat()}))


class AmendmentsHandler(ApiHandler):
    def post(self, experiment_id: str) -> None:
        view = self.readable(experiment_id)
        if not access.can_transition(self.who, view.experiment):
            raise web.HTTPError(403, "you may only amend your own experiments")
        data = self.body()
        fields = data.get("fields")
        if set(data) - {"fields", "reason"} or not isinstance(fields, dict):
            raise web.HTTPError(400, 'expected {"fields": {FIELD: VALUE, ...}, "reason": TEXT}')
        unknown = set(fields) - set(amendable_fields(SERVICE))
        if unknown:
            raise web.HTTPError(
                400,
                f"cannot amend {', '.join(sorted(unknown))} (fields that can be amended: "
                f"{', '.join(amendable_fields(SERVICE))})",
            )
        try:
            values = loosely_typed(fields)
        except (TypeError, ValueError) as exc:
            raise web.HTTPError(400, f"bad field: {exc}") from None
        try:
            event = store.amend_experiment(
                self.engine,
                experiment_id,
                values,
                self.who.name,
                str(data.get("reason", "")),
                given_by=SERVICE,
                allowed=self.known_names().check,
            )
        except InvalidInput as exc:
            raise web.HTTPError(400, str(exc)) from None
        self.set_status(201)
        self.finish(json.dumps({**event.as_dict(), "at": event.at.isoformat()}))


def report_for(engine: Engine, arguments: dict[str, str]) -> tuple[dict[str, Any], dict]:
    """The manager report for the dashboard's filters (period, team, sandbox)."""
    from datetime import date

    from ...reporting import report

    def day(name: str) -> date | None:
        value = arguments.get(name, "")
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            raise web.HTTPError(400, f"{name}: expected a date like 2025-01-31") from None

    since, until = day("since"), day("until")
    summaries = [
        s
        for s in store.summaries(engine)
        if (not arguments.get("team") or s.team == arguments["team"])
        and (not arguments.get("sandbox") or s.sandbox == arguments["sandbox"])
    ]
    return report.compute(summaries, since, until), report.lead_time_series(summaries, since, until)


class ManagerMixin:
    def require_manager(self, who: Caller | None) -> Caller:
        if who is None:
            raise web.HTTPError(401, "log in or send a JupyterHub token")
        if not who.roles & {"manager", "admin"}:
            raise web.HTTPError(403, "the dashboard is for managers")
        return who


class ReportApiHandler(ManagerMixin, ApiHandler):
    def get(self) -> None:
        self.require_manager(self.who)
        arguments = {k: self.get_argument(k) for k in self.request.arguments}
        self.finish(json.dumps(report_for(self.engine, arguments)[0]))


class DashboardHandler(ManagerMixin, Base):
    @web.authenticated
    def get(self) -> None:
        from ...reporting.html import render

        self.require_manager(self.caller())
        arguments = {k: self.get_argument(k) for k in self.request.arguments}
        result, lead_times = report_for(self.engine, arguments)
        options = store.summaries(self.engine)
        lang = self.lang()
        form = pages.filter_form(
            arguments,
            sorted({s.team for s in options}),
            sorted({s.sandbox for s in options}),
            self.url("dashboard"),
            lang,
        )
        self.finish(render(result, lead_times, lang=lang.code, filters_html=form))


class OpenApiHandler(web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(openapi.document(self.settings["prefix"])))


class PageHandler(Base):
    def initialize(self, page: str = "list") -> None:
        self.page = page

    @web.authenticated
    def get(self, experiment_id: str | None = None) -> None:
        who = self.caller()
        if who is None or not who.roles:
            raise web.HTTPError(403, "you have no role in this sandbox")
        lang = self.lang()
        if self.page == "catalog":
            log = None
            if pages.sees_access_log(who):
                log = access_log.entries(
                    self.engine, self.config["sandbox"], newest=pages.ACCESS_LOG_ROWS
                )
            body = pages.catalog(self.config, who, lang, self.settings["today"](), log)
        elif experiment_id:
            try:
                view = store.get(self.engine, experiment_id)
            except store.UnknownExperiment:
                raise web.HTTPError(404) from None
            if not access.can_read(who, view.experiment):
                raise web.HTTPError(404)
            linked = outputs.of_experiment(self.engine, experiment_id)
            body = pages.experiment(view, self.url(""), lang, linked)
        else:
            views = [v for v in store.listing(self.engine) if access.can_read(who, v.experiment)]
            body = pages.experiment_list(views, self.url(""), lang)
        self.finish(pages.layout(self.config, who, body, self.url(""), lang))


def make_app(
    config: RegistrySettings,
    engine: Engine,
    prefix: str,
    today: Callable[[], date] | None = None,
) -> web.Application:
    """``today`` is the clock of the catalog page's rule 7 (agreements that ended)."""
    api = url_path_join(prefix, "api")
    return web.Application(
        [
            (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
            (url_path_join(api, "openapi.json"), OpenApiHandler),
            (url_path_join(api, "me"), MeHandler),
            (url_path_join(api, "report"), ReportApiHandler),
            (url_path_join(prefix, "dashboard"), DashboardHandler),
            (url_path_join(api, "experiments"), ExperimentsHandler),
            (url_path_join(api, r"experiments/([^/]+)"), ExperimentHandler),
            (url_path_join(api, r"experiments/([^/]+)/transitions"), TransitionsHandler),
            (url_path_join(api, r"experiments/([^/]+)/amendments"), AmendmentsHandler),
            (url_path_join(prefix, "catalog"), PageHandler, {"page": "catalog"}),
            (url_path_join(prefix, r"experiments/([^/]+)"), PageHandler, {"page": "experiment"}),
            *airlock_pages.routes(ApiHandler, Base, prefix, api),
            (prefix, PageHandler),
        ],
        xsrf_cookies=True,
        cookie_secret=os.urandom(32),
        registry=config,
        engine=engine,
        prefix=prefix,
        today=today or clock(None),
    )


def main(argv: list[str]) -> int:
    settings: HubSettings = json.loads(Path(argv[0]).read_text())  # hub.json
    config = settings["registry"]
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/registry/")
    engine = open_registry_url(config["registry_url"])
    app = make_app(config, engine, prefix, clock(settings.get("clock_file")))
    # the proxy routes to the loopback port the hub chose; the users' containers
    # connect to the socket, through the read-only mount of the hub's socket folder
    host, port = os.environ["JUPYTERHUB_SERVICE_URL"].split("://", 1)[1].rsplit(":", 1)
    # a request from a swarm server on another node carries its files, base64
    # in JSON: room for the airlock's limit and a third more (docs/swarm.md)
    max_body = max(100 * 1024**2, config["airlock"]["max_bytes"] * 4 // 3 + 1024**2)
    server = HTTPServer(app, max_body_size=max_body)
    server.listen(int(port.rstrip("/")), address=host)
    server.add_socket(bind_unix_socket(config["socket"], mode=SOCKET_MODE))
    today = clock(settings.get("clock_file"))

    def witness() -> None:
        # at least daily, the chain's head outside the database: the witness
        # file, and this service's output, which is the hub's log
        now = datetime.combine(today(), datetime.now(UTC).timetz())
        head = audit.witness_if_due(engine, Path(config["witness_file"]), "registry service", now)
        if head:
            print(f"[audit] head seq={head.seq} hash={head.hash} at={head.at}", flush=True)

    witness()
    ioloop.PeriodicCallback(witness, WITNESS_CHECK_MS).start()
    ioloop.IOLoop.current().start()
    return 0
