"""What the hub's own pages show about the sandbox (``sandbox/hub/templates``).

``template_vars`` is pure: the sandbox name, its tier in words, the expiry
date and links to the registry service's pages, in English or Dutch (the texts
are in ``sandbox/texts.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config.model import Sandbox
from ..texts import LANGUAGES, capital, text

TEMPLATES = Path(__file__).parent / "templates"
SERVICE_ROOT = "/services/registry/"

# the texts the templates show, by the names they use (sandbox/texts.py has them all)
TEXT = {
    lang: {
        "sandbox": capital(text(lang, "sandbox")),
        "registry": text(lang, "experiment_registry"),
        **{
            key: text(lang, key)
            for key in (
                "expires", "no_expiry", "catalog", "dashboard", "sign_in", "username",
                "password", "http_warning", "start_server", "my_server", "stop_server",
                "starting", "redirect",
            )
        },
    }
    for lang in LANGUAGES
}  # fmt: skip
TIER_TEXT = {lang: {tier: text(lang, f"tier_{tier}") for tier in range(4)} for lang in LANGUAGES}


def template_vars(sandbox: Sandbox, tier: int) -> dict[str, Any]:
    """``JupyterHub.template_vars``: everything the templates show, in one language."""
    lang = sandbox.lang
    words = TEXT[lang]
    return {
        "sandbox_page": {
            "lang": lang,
            "name": sandbox.name,
            "description": sandbox.description,
            "tier": tier,
            "tier_text": TIER_TEXT[lang][min(tier, 3)],
            "expires": sandbox.expires.isoformat() if sandbox.expires else "",
            "links": [
                {"id": "catalog", "href": SERVICE_ROOT + "catalog", "label": words["catalog"]},
                {"id": "registry", "href": SERVICE_ROOT, "label": words["registry"]},
                {
                    "id": "dashboard",
                    "href": SERVICE_ROOT + "dashboard",
                    "label": words["dashboard"],
                },
            ],
            "text": words,
        }
    }
