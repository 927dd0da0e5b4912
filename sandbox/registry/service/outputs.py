"""The output airlock in the registry service: analysts request from their
notebook (API), stewards review on the pages or the API, the requester and
managers download what was released. Who may do what is decided here, by
the caller's roles in this sandbox."""

from __future__ import annotations

import hashlib
import json
import tempfile
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jupyterhub.utils import url_path_join
from markupsafe import Markup
from tornado import web
from tornado.ioloop import IOLoop

from ...errors import InvalidInput
from ...host.airlock import unpack
from ...host.names import container_name, docker_escaped
from .. import outputs
from ..outputs import Airlock, View
from . import pages
from .access import Caller

PREVIEW_ROWS = 20
DOWNLOAD_ROLES = frozenset({"manager", "admin"})
SEE_ALL_ROLES = frozenset({"steward", "manager", "admin"})
# an image is previewed by what its first bytes say, never by its name; SVG is
# not among them: it is a document that can carry script (docs/airlock.md)
IMAGE_TYPES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
IMAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}


def may_see(who: Caller, view: View) -> bool:
    return view.request.requester == who.name or bool(who.roles & SEE_ALL_ROLES)


def may_download(who: Caller, view: View) -> bool:
    return view.request.requester == who.name or bool(who.roles & DOWNLOAD_ROLES)


def may_preview_images(who: Caller) -> bool:
    """Image previews serve the airlock copy itself: to the stewards who
    review, not to everyone who may see the request."""
    return "steward" in who.roles


def image_type(head: bytes) -> str | None:
    """The Content-Type of a PNG, JPEG or GIF by its magic bytes (else None)."""
    return next((kind for magic, kind in IMAGE_TYPES if head.startswith(magic)), None)


def home_of(settings: dict[str, Any], user: str) -> Path:
    """Where the user's home is on this host: a folder (local spawner) or
    their Docker volume's mount point."""
    if settings.get("homes_dir"):
        return Path(settings["homes_dir"]) / user
    import docker

    client = docker.from_env().api
    if settings.get("swarm"):
        refuse_a_home_on_another_node(client, settings["sandbox"], user)
    # DockerSpawner escapes the username in the volume's name (k.devries: k-2edevries)
    volume = settings["home_volume_prefix"] + docker_escaped(user)
    try:
        return Path(client.inspect_volume(volume)["Mountpoint"])
    except docker.errors.NotFound:
        raise InvalidInput("you have no home yet: start your server first") from None


class HomeElsewhere(InvalidInput):
    """The requester's server (and home) is on another swarm node: the
    client sends the files with the request instead (``upload``)."""


def refuse_a_home_on_another_node(client: Any, sandbox: str, user: str) -> None:
    """A swarm server's home is a volume on the node that runs it; this
    service reads homes on the hub's node only, and a volume of the same name
    here would be an older home (docs/swarm.md)."""
    service = container_name(sandbox, docker_escaped(user))
    tasks = client.tasks(filters={"service": service, "desired-state": "running"})
    here = client.info()["Swarm"]["NodeID"]
    if tasks and tasks[0]["NodeID"] != here:
        raise HomeElsewhere(
            "your server runs on another node than the hub's: send the files with the "
            "request (upload), as sandbox_client does"
        )


class OutputsMixin:
    settings: dict[str, Any]

    @property
    def airlock(self) -> Airlock:
        return Airlock.from_settings(self.settings["registry"]["airlock"])

    def visible(self, who: Caller, request_id: str) -> View:
        try:
            view = outputs.get(self.settings["engine"], request_id)
        except outputs.UnknownRequest:
            raise web.HTTPError(404, f"unknown output request {request_id!r}") from None
        if view.request.sandbox != who.sandbox or not may_see(who, view):
            raise web.HTTPError(403, f"{who.name} may not see {request_id}")
        return view

    def record_review(self, who: Caller, request_id: str, body: dict[str, Any]) -> View:
        view = self.visible(who, request_id)
        if "steward" not in who.roles:
            raise web.HTTPError(403, "only stewards review output requests")
        if view.request.requester == who.name:
            raise web.HTTPError(403, f"{who.name} cannot review their own request")
        try:
            return outputs.review(
                self.settings["engine"],
                self.airlock,
                request_id,
                who.name,
                str(body.get("decision", "")),
                str(body.get("reason", "")),
                bool(body.get("override")),
            )
        except InvalidInput as exc:
            raise web.HTTPError(409, str(exc)) from None


def routes(api_base: type, page_base: type, prefix: str, api: str) -> list[tuple[str, type]]:
    """The airlock's routes, its handlers built on the service's own bases
    (``app.ApiHandler`` for the JSON API, ``app.Base`` for pages)."""

    class OutputsHandler(OutputsMixin, api_base):
        def get(self) -> None:
            views = outputs.listing(self.engine, self.who.sandbox)
            self.finish(json.dumps([v.as_dict() for v in views if may_see(self.who, v)]))

        async def post(self) -> None:
            if "analyst" not in self.who.roles:
                raise web.HTTPError(403, "only analysts request outputs")
            body = self.body()
            with tempfile.TemporaryDirectory(prefix="upload-") as uploaded:
                try:
                    try:
                        home = home_of(self.settings["registry"]["airlock"], self.who.name)
                    except HomeElsewhere as exc:
                        if not body.get("upload"):
                            raise web.HTTPError(409, str(exc)) from None
                        # what the client found in the home on its node
                        unpack(str(body["upload"]), Path(uploaded), self.airlock.max_bytes)
                        home = Path(uploaded)
                    # copying up to airlock.max_bytes: off the service's event loop
                    view = await IOLoop.current().run_in_executor(
                        None,
                        partial(
                            outputs.request,
                            self.engine,
                            self.airlock,
                            home,
                            self.who.name,
                            str(body.get("path", "")),
                            str(body.get("justification", "")),
                            str(body.get("experiment") or ""),
                        ),
                    )
                except InvalidInput as exc:
                    raise web.HTTPError(400, str(exc)) from None
            self.set_status(201)
            self.finish(json.dumps(view.as_dict()))

    class OutputHandler(OutputsMixin, api_base):
        def get(self, request_id: str) -> None:
            self.finish(json.dumps(self.visible(self.who, request_id).as_dict()))

    class ReviewsHandler(OutputsMixin, api_base):
        def post(self, request_id: str) -> None:
            view = self.record_review(self.who, request_id, self.body())
            self.finish(json.dumps(view.as_dict()))

    class PagesHandler(OutputsMixin, page_base):
        def caller_or_403(self) -> Caller:
            who = self.caller()
            if who is None or not who.roles:
                raise web.HTTPError(403, "you have no role in this sandbox")
            return who

        @web.authenticated
        def get(self, request_id: str | None = None) -> None:
            who, lang = self.caller_or_403(), self.lang()
            if request_id:
                body = self.detail(who, self.visible(who, request_id), lang)
            else:
                views = [v for v in outputs.listing(self.engine, who.sandbox) if may_see(who, v)]
                rows = [
                    {**v.as_dict(), "href": lang.link(self.url("outputs", v.request.id))}
                    for v in views
                ]
                body = pages._render("outputs.html", {"t": pages.TEXT[lang.code], "requests": rows})
            self.finish(pages.layout(self.config, who, body, self.url(""), lang))

        @web.authenticated
        def post(self, request_id: str) -> None:
            who = self.caller_or_403()
            body = {k: self.get_argument(k, "") for k in ("decision", "reason", "override")}
            self.record_review(who, request_id, body)
            self.redirect(self.url("outputs", request_id))

        def detail(self, who: Caller, view: View, lang: pages.Language) -> str:
            copy = self.airlock.copies / view.request.id
            handed_out = {f["path"] for f in outputs.released(view.request.files)}
            files = []
            for entry, check in zip(
                view.request.files, view.request.checks.get("files", []), strict=False
            ):
                image = may_preview_images(who) and image_type(_head(copy / entry["path"]))
                files.append(
                    {
                        **entry,
                        **check,
                        "href": self.url("outputs", view.request.id, "files", entry["path"]),
                        "preview": preview(copy / entry["path"]),
                        "image": self.url(
                            "outputs", view.request.id, "images", quote(entry["path"])
                        )
                        if image
                        else "",
                        "downloadable": entry["path"] in handed_out,
                    }
                )
            context = {
                "t": pages.TEXT[lang.code],
                "r": view.as_dict(),
                "files": files,
                "events": [e.as_dict() for e in view.events],
                "released": view.state == outputs.RELEASED,
                "may_download": may_download(who, view),
                "may_review": "steward" in who.roles
                and view.state == outputs.CHECKED
                and view.request.requester != who.name,
                "xsrf": Markup(self.xsrf_form_html()),
                "back": lang.link(self.url("outputs")),
            }
            return pages._render("output.html", context)

    class DownloadHandler(OutputsMixin, page_base):
        @web.authenticated
        def get(self, request_id: str, name: str) -> None:
            who = self.caller()
            if who is None or not who.roles:
                raise web.HTTPError(403)
            view = self.visible(who, request_id)
            if not may_download(who, view):
                raise web.HTTPError(403, f"{who.name} may not download {request_id}")
            try:
                path = outputs.download(self.engine, self.airlock, request_id, who.name, name)
            except InvalidInput as exc:
                raise web.HTTPError(404, str(exc)) from None
            self.set_header("Content-Type", "application/octet-stream")
            self.set_header("Content-Disposition", f'attachment; filename="{Path(name).name}"')
            self.finish(path.read_bytes())

    class ImageHandler(OutputsMixin, page_base):
        @web.authenticated
        def get(self, request_id: str, name: str) -> None:
            who = self.caller()
            if who is None or not may_preview_images(who):
                raise web.HTTPError(403, "only stewards preview the airlock's images")
            view = self.visible(who, request_id)
            entry = next((f for f in view.request.files if f["path"] == name), None)
            if entry is None:
                raise web.HTTPError(404, f"{request_id} has no file {name!r}")
            try:
                data = (self.airlock.copies / request_id / name).read_bytes()
            except OSError:
                raise web.HTTPError(404, f"{request_id}: {name} is not in the airlock") from None
            kind = image_type(data)
            if kind is None:
                raise web.HTTPError(404, f"{name} is not a PNG, JPEG or GIF image")
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                raise web.HTTPError(409, f"{name}: changed since the request (sha256 differs)")
            self.set_header("Content-Type", kind)
            for header, value in IMAGE_HEADERS.items():
                self.set_header(header, value)
            self.finish(data)

    return [
        (url_path_join(api, "outputs"), OutputsHandler),
        (url_path_join(api, r"outputs/([^/]+)"), OutputHandler),
        (url_path_join(api, r"outputs/([^/]+)/reviews"), ReviewsHandler),
        (url_path_join(prefix, "outputs"), PagesHandler),
        (url_path_join(prefix, r"outputs/([^/]+)/files/(.+)"), DownloadHandler),
        (url_path_join(prefix, r"outputs/([^/]+)/images/(.+)"), ImageHandler),
        (url_path_join(prefix, r"outputs/([^/]+)"), PagesHandler),
    ]


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(8)
    except OSError:
        return b""


def preview(path: Path) -> list[list[str]] | None:
    """The first rows of a table, for the reviewer's eyes."""
    from ...governance.disclosure import TABULAR, read_table

    if path.suffix.lower() not in TABULAR:
        return None
    try:
        header, rows = read_table(path)
    except (ImportError, ValueError, OSError, UnicodeDecodeError):
        return None
    return [header, *rows[:PREVIEW_ROWS]]
