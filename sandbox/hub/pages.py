"""What the hub's own pages show about the sandbox (``sandbox/hub/templates``).

``template_vars`` is pure: the sandbox name, its tier in words, the expiry
date and links to the registry service's pages, in English or Dutch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config.model import Sandbox

TEMPLATES = Path(__file__).parent / "templates"
SERVICE_ROOT = "/services/registry/"

TIER_TEXT = {
    "en": {
        0: "tier 0: open data",
        1: "tier 1: internal data, keep it inside the organisation",
        2: "tier 2: no internet, data stays here",
        3: "tier 3: personal data, no internet, data stays here",
    },
    "nl": {
        0: "niveau 0: open data",
        1: "niveau 1: interne data, blijft binnen de organisatie",
        2: "niveau 2: geen internet, data blijft hier",
        3: "niveau 3: persoonsgegevens, geen internet, data blijft hier",
    },
}

TEXT = {
    "en": {
        "sandbox": "Sandbox",
        "expires": "expires on",
        "no_expiry": "no expiry date",
        "catalog": "Dataset catalog",
        "registry": "Experiment registry",
        "dashboard": "Dashboard",
        "sign_in": "Sign in",
        "username": "Username",
        "password": "Password",
        "http_warning": "This hub is served over HTTP without TLS; "
        "ask IT to put it behind HTTPS before real data is used.",
        "start_server": "Start My Server",
        "my_server": "My Server",
        "stop_server": "Stop My Server",
        "starting": "Your server is starting up.",
        "redirect": "You will be redirected automatically when it's ready for you.",
    },
    "nl": {
        "sandbox": "Sandbox",
        "expires": "verloopt op",
        "no_expiry": "geen einddatum",
        "catalog": "Datacatalogus",
        "registry": "Experimentenregister",
        "dashboard": "Dashboard",
        "sign_in": "Inloggen",
        "username": "Gebruikersnaam",
        "password": "Wachtwoord",
        "http_warning": "Deze hub draait over HTTP zonder TLS; "
        "vraag IT om HTTPS voordat echte data wordt gebruikt.",
        "start_server": "Mijn server starten",
        "my_server": "Mijn server",
        "stop_server": "Mijn server stoppen",
        "starting": "Je server wordt gestart.",
        "redirect": "Je wordt automatisch doorgestuurd zodra hij klaar is.",
    },
}


def template_vars(sandbox: Sandbox, tier: int) -> dict[str, Any]:
    """``JupyterHub.template_vars``: everything the templates show, in one language."""
    lang = sandbox.lang
    text = TEXT[lang]
    return {
        "sandbox_page": {
            "lang": lang,
            "name": sandbox.name,
            "description": sandbox.description,
            "tier": tier,
            "tier_text": TIER_TEXT[lang][min(tier, 3)],
            "expires": sandbox.expires.isoformat() if sandbox.expires else "",
            "links": [
                {"id": "catalog", "href": SERVICE_ROOT + "catalog", "label": text["catalog"]},
                {"id": "registry", "href": SERVICE_ROOT, "label": text["registry"]},
                {"id": "dashboard", "href": SERVICE_ROOT + "dashboard", "label": text["dashboard"]},
            ],
            "text": text,
        }
    }
