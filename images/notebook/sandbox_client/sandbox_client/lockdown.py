"""A Jupyter server extension for sandboxes whose data must stay inside
(tier 2 and up): the raw-file and export routes that hand a file to the
browser answer 403 and point to the output airlock. The spawner enables it
by adding /opt/sandbox/etc/jupyter-no-downloads to JUPYTER_CONFIG_PATH,
which also turns off JupyterLab's download commands."""

from __future__ import annotations

from typing import Any

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join

MESSAGE = (
    "downloads are turned off in this sandbox: ask for outputs through the airlock "
    "(sandbox-output request PATH --why TEXT)"
)
REFUSED_ROUTES = (r"files/.*", r"nbconvert/.*", r"view/.*")


class Refused(JupyterHandler):
    def prepare(self) -> None:
        self.set_status(403)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(MESSAGE + "\n")


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    return [{"module": "sandbox_client.lockdown"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    base = serverapp.web_app.settings["base_url"]
    # rules added now are matched before the server's own routes
    serverapp.web_app.add_handlers(
        ".*$", [(url_path_join(base, route), Refused) for route in REFUSED_ROUTES]
    )
