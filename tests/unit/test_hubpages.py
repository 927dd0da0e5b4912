"""What the hub's pages show about the sandbox, in English and Dutch (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.config.loader import load_config
from sandbox.hub.pages import TEMPLATES, TEXT, TIER_TEXT, template_vars


@pytest.fixture
def demo(demo_copy: Path):
    return load_config(demo_copy).config.sandbox("demo")


def test_banner_names_the_sandbox_its_tier_and_expiry(demo):
    page = template_vars(demo, 2)["sandbox_page"]
    assert page["name"] == "demo" and page["tier"] == 2 and page["expires"] == "2027-12-31"
    assert page["tier_text"] == "tier 2: no internet, data stays here"
    assert [link["href"] for link in page["links"]] == [
        "/services/registry/catalog",
        "/services/registry/",
        "/services/registry/dashboard",
    ]


def test_dutch_pages(demo):
    page = template_vars(demo.model_copy(update={"lang": "nl"}), 2)["sandbox_page"]
    assert page["lang"] == "nl"
    assert page["tier_text"] == "niveau 2: geen internet, data blijft hier"
    assert page["text"]["sign_in"] == "Inloggen"
    assert page["links"][0]["label"] == "Datacatalogus"


def test_every_tier_and_string_exists_in_both_languages():
    assert TIER_TEXT["en"].keys() == TIER_TEXT["nl"].keys() == {0, 1, 2, 3}
    assert TEXT["en"].keys() == TEXT["nl"].keys()


def test_no_expiry_and_templates_ship_with_the_package(demo):
    page = template_vars(demo.model_copy(update={"expires": None}), 0)["sandbox_page"]
    assert page["expires"] == "" and page["tier_text"] == "tier 0: open data"
    for name in ("page.html", "login.html", "home.html", "spawn_pending.html"):
        text = (TEMPLATES / name).read_text()
        assert '{% extends "templates/' + name + '" %}' in text


def test_templates_parse_and_their_parents_exist():
    import jupyterhub
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader

    hub_templates = Path(jupyterhub.__file__).parent.parent / "share/jupyterhub/templates"
    if not hub_templates.is_dir():  # installed as data files beside the venv
        import sys

        hub_templates = Path(sys.prefix) / "share/jupyterhub/templates"
    default = FileSystemLoader(str(hub_templates))
    env = Environment(
        loader=ChoiceLoader(
            [FileSystemLoader(str(TEMPLATES)), PrefixLoader({"templates": default}), default]
        )
    )
    for template in sorted(TEMPLATES.glob("*.html")):
        env.get_template(template.name)  # our file compiles
        env.get_template(f"templates/{template.name}")  # what it extends exists


def test_every_text_is_stated_once_in_both_languages():
    """sandbox/texts.py: both languages have every key, and no two keys say the same
    thing in both (a word that is a column head and a label is one text, capitalised
    where it labels)."""
    from sandbox.texts import LANGUAGES, TEXTS, capital, text

    assert tuple(TEXTS) == LANGUAGES and TEXTS["en"].keys() == TEXTS["nl"].keys()
    said: dict[tuple[str, ...], str] = {}
    for key in TEXTS["en"]:
        words = tuple(capital(TEXTS[lang][key]) for lang in LANGUAGES)
        assert words not in said, f"{key!r} says what {said[words]!r} says"
        said[words] = key
    assert text("nl", "valid_until", date="2027-06-30") == "geldig tot 2027-06-30"
    assert text("nl", "no-such-state", default="no-such-state") == "no-such-state"
    with pytest.raises(KeyError):
        text("nl", "no-such-text")
    assert capital("persoonsgegevens") == "Persoonsgegevens" and capital("DPIA") == "DPIA"


def test_the_hub_the_service_and_the_report_share_one_text_module(demo):
    """The word the hub's link, the service's heading and the report's column show is
    one entry of sandbox/texts.py."""
    from sandbox.registry.lifecycle import FUNNEL
    from sandbox.registry.service import pages
    from sandbox.reporting.html import render
    from sandbox.texts import TEXTS

    assert pages.TEXT is TEXTS
    nl = template_vars(demo.model_copy(update={"lang": "nl"}), 3)["sandbox_page"]
    known = {v for texts in TEXTS.values() for v in texts.values()}
    assert set(nl["text"].values()) - known == {"Sandbox"}  # "sandbox", as a label
    assert nl["tier_text"] == TEXTS["nl"]["tier_3"]
    catalog = TEXTS["nl"]["catalog"]
    alice = pages.Caller("alice", frozenset({"analyst"}), "demo")
    assert nl["links"][0]["label"] == catalog
    assert f"<h1>{catalog}</h1>" in pages.catalog(
        {"catalog": {"datasets": [], "granted": {}}}, alice, pages.Language("nl")
    )
    report = {
        "generated_at": None, "since": None, "until": None, "overall": {}, "by_team": {},
        "by_sandbox": {}, "by_quarter": {}, "funnel": dict.fromkeys(FUNNEL, 0),
    }  # fmt: skip
    experiments = TEXTS["nl"]["experiments"]
    assert f'<th scope="col">{experiments}</th>' in render(report, {}, lang="nl")
    assert f"<h1>{experiments}</h1>" in pages.experiment_list([], "/", pages.Language("nl"))
