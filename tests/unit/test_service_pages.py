"""The registry service's HTML pages: English and Dutch, the steward's catalog
with governance metadata and the access log, escaping. Pure page functions,
plus the handlers' wiring on a local tornado app (no hub)."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.testing import bind_unused_port

from sandbox.config.loader import load_config
from sandbox.provisioning.plan import catalog_summary
from sandbox.registry import access_log
from sandbox.registry.access_log import AccessEntry
from sandbox.registry.db import open_registry_url
from sandbox.registry.lifecycle import Event, Experiment
from sandbox.registry.service import pages
from sandbox.registry.service.access import Caller
from sandbox.registry.service.pages import ENGLISH, Language
from sandbox.registry.store import ExperimentView

PROJECT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 1, 15)
ROOT = "/services/registry/"
NL = Language("nl")
HOSTILE = "<script>alert('x')</script>"


class Elements(HTMLParser):
    """Every start tag as (tag, attributes), and all text, of one page."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.texts.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        wanted = attrs.items()
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in wanted)]

    def rows(self, attribute: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == "tr" and attribute in a]

    @property
    def text(self) -> str:
        return "".join(self.texts)


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    """The registry section of the demo sandbox's hub.json, as registry_settings builds it."""
    loaded = load_config(PROJECT / "config" / "sandbox.yaml", verify_checksums=False)
    return {
        "sandbox": "demo",
        "lang": "en",
        "organisation": "Gemeente Voorbeeld",
        "roles": {"alice": ["analyst"], "carol": ["manager"], "erin": ["steward"]},
        "catalog": {
            "datasets": catalog_summary(loaded),
            "granted": {"alice": ["cbs-wijken-2024", "woz-2024"], "erin": []},
        },
    }


def caller(name: str, *roles: str) -> Caller:
    return Caller(name, frozenset(roles), "demo")


ALICE, CAROL, ERIN, ADMIN = (
    caller("alice", "analyst"),
    caller("carol", "manager"),
    caller("erin", "steward"),
    caller("admin", "admin"),
)


def entry(user: str, dataset: str, decision: str = "granted", **extra: Any) -> AccessEntry:
    values = {
        "trace_id": "0123456789abcdef0123456789abcdef",
        "at": datetime(2026, 1, 14, 9, 30, tzinfo=UTC),
        "user": user,
        "sandbox": "demo",
        "dataset": dataset,
        "version": "2024.1",
        "sha256": "ab" * 32,
        "purpose": "policy-research",
        "legal_basis": "public-task",
        "decision": decision,
        "reason": "" if decision == "granted" else "its data agreement expired (rule 7)",
    }
    return AccessEntry(**{**values, **extra})


LOG = [entry("alice", "woz-2024"), entry("dave", "meldingen-openbare-ruimte-2024", "refused")]


def view() -> ExperimentView:
    at = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    record = Experiment(
        "EXP-0001", "WOZ-model", "belastingen", "demo", "alice", "policy-research", at, "alice"
    )
    events = (
        Event("EXP-0001", 1, None, "proposed", at, "alice", "registered"),
        Event("EXP-0001", 2, "proposed", "approved", at, "carol", "ok"),
    )
    return ExperimentView(record, events)


# ------------------------------------------------------------------ languages


def test_language_from_the_sandbox_or_the_request():
    assert Language.choose(None, "nl") == Language("nl", False)
    assert Language.choose("en", "nl") == Language("en", True)
    assert Language.choose("fr", "nl") == Language("nl", False)  # unknown: the sandbox's
    assert Language.choose("", None) == Language("en", False)
    assert Language("nl", True).link(ROOT + "catalog") == ROOT + "catalog?lang=nl"
    assert Language("nl").link(ROOT) == ROOT  # the sandbox's own language: plain links


def test_every_language_has_every_text():
    assert set(pages.TEXT["en"]) == set(pages.TEXT["nl"])


@pytest.mark.parametrize(
    "lang, words",
    [
        ("en", ["Experiments", "Dataset catalog", "Dashboard", "sandbox demo"]),
        ("nl", ["Experimenten", "Datacatalogus", "Dashboard", "sandbox demo"]),
    ],
)
def test_layout_in_both_languages(config, lang, words):
    html = pages.layout(config, ALICE, "<p>body</p>", ROOT, Language(lang))
    page = Elements(html)
    assert page.find("html", lang=lang)
    assert all(word in page.text for word in words)


def test_a_language_chosen_in_the_url_stays_in_the_links(config):
    page = Elements(pages.layout(config, ALICE, "", ROOT, Language("nl", True)))
    hrefs = {a["href"] for a in page.find("a")}
    assert {ROOT + "?lang=nl", ROOT + "catalog?lang=nl", ROOT + "dashboard?lang=nl"} <= hrefs


def test_experiment_pages_in_both_languages():
    english = pages.experiment_list([view()], ROOT)
    dutch = pages.experiment_list([view()], ROOT, NL)
    assert "<table id='experiments'>" in english and "<table id='experiments'>" in dutch
    assert "<th>state</th>" in english and "<th>fase</th>" in dutch
    assert ">Approved<" in english and ">Goedgekeurd<" in dutch
    assert Elements(dutch).find("td", **{"data-state": "approved"})
    assert "Nog geen experimenten." in pages.experiment_list([], ROOT, NL)

    detail = pages.experiment(view(), ROOT, NL)
    assert "<table id='events'>" in detail
    for word in ("Eigenaar", "Persoonsgegevens", "nee", "Levensloop", "Voorgesteld"):
        assert word in detail
    assert "Alle experimenten" in detail and "geen vastgelegd" in detail


def test_filter_form_in_dutch_keeps_names_and_the_language():
    form = pages.filter_form({"team": "belastingen"}, ["belastingen"], ["demo"], "/d", NL)
    page = Elements(form)
    assert page.find("form", id="filters")
    assert {a["name"] for a in page.find("select")} == {"team", "sandbox"}
    assert {a["name"] for a in page.find("input", type="date")} == {"since", "until"}
    assert "vanaf" in page.text and "Toepassen" in page.text and "alle" in page.text
    assert not page.find("input", type="hidden")  # the sandbox's language: not in the form
    chosen = Elements(pages.filter_form({}, [], [], "/d", Language("nl", True)))
    assert chosen.find("input", type="hidden", name="lang", value="nl")


# ------------------------------------------------------------------ the catalog


def test_catalog_shows_the_governance_metadata_of_each_card(config):
    page = Elements(pages.catalog(config, ALICE, today=TODAY))
    assert page.find("table", id="catalog")
    assert [r["data-dataset"] for r in page.rows("data-dataset")] == [
        "cbs-wijken-2024",
        "meldingen-openbare-ruimte-2024",
        "woz-2024",
    ]
    html = pages.catalog(config, ALICE, today=TODAY)
    for shown in (
        "WOZ-waarden 2024",
        "Afdeling Belastingen",  # owner
        "j.jansen@voorbeeld.nl",  # steward
        "ongerubriceerd",
        "BIV midden/midden/hoog",
        "regular, pseudonymised",
        "public-task: <a href='https://wetten.overheid.nl/BWBR0007119'>",
        "policy-research, valuation",
        "DPIA-2024-07",
        "P7Y, destroy",
        "Selectielijst gemeenten 2020, 1.1.1",
        "GLP-2024-12",
        "valid until 2027-06-30",
    ):
        assert shown in html, shown


def test_catalog_says_what_is_mounted_for_the_viewer(config):
    html = pages.catalog(config, ALICE, today=TODAY)
    rows = {r["data-dataset"]: r["data-for-you"] for r in Elements(html).rows("data-dataset")}
    assert rows == {
        "cbs-wijken-2024": "mounted",
        "meldingen-openbare-ruimte-2024": "not-granted",
        "woz-2024": "mounted",
    }
    assert "mounted at /data/woz-2024" in html and "not granted" in html

    later = pages.catalog(config, ALICE, today=date(2027, 7, 1))  # woz's agreement ended
    rows = {r["data-dataset"]: r["data-for-you"] for r in Elements(later).rows("data-dataset")}
    assert rows["woz-2024"] == "lapsed"
    assert "granted, but not mounted: the agreement ended on 2027-06-30" in later
    assert "(expired)" in later


def test_catalog_in_dutch(config):
    html = pages.catalog(config, ALICE, NL, TODAY, LOG)
    for word in ("Datacatalogus", "datasteward", "grondslag", "bewaartermijn", "voor jou"):
        assert word in html, word
    assert "beschikbaar onder /data/woz-2024" in html and "niet toegekend" in html
    assert "geldig tot 2027-06-30" in html


def test_catalog_lists_the_team_folders_as_derived_stores_at_their_groups_tier(config):
    from sandbox.hub.settings import derived_stores

    loaded = load_config(PROJECT / "config" / "sandbox.yaml", verify_checksums=False)
    demo = loaded.config.sandbox("demo")
    stores = derived_stores(demo, config["catalog"]["datasets"])
    with_stores = {**config, "catalog": {**config["catalog"], "team_folders": stores}}
    page = Elements(pages.catalog(with_stores, ERIN, today=TODAY))
    assert page.find("table", id="team-folders")
    rows = {r["data-group"]: r["data-tier"] for r in page.rows("data-group")}
    # belastingen is granted woz-2024 (tier 2): what it derives is tier 2 too
    assert rows["belastingen"] == "2"
    assert all(s["folder"] == f"/shared/{s['group']}" for s in stores)
    assert "Team folders (derived data)" in pages.catalog(with_stores, ERIN, today=TODAY)


@pytest.mark.parametrize("who", [ERIN, ADMIN])
def test_stewards_and_admins_see_the_access_log(config, who):
    page = Elements(pages.catalog(config, who, today=TODAY, log=LOG))
    assert page.find("table", id="access-log")
    rows = page.rows("data-user")
    assert [(r["data-user"], r["data-dataset"], r["data-decision"]) for r in rows] == [
        ("alice", "woz-2024", "granted"),
        ("dave", "meldingen-openbare-ruimte-2024", "refused"),
    ]
    for shown in ("Access log", "0123456789abcdef0123456789abcdef", "2026-01-14 09:30:00 UTC"):
        assert shown in page.text
    assert "its data agreement expired (rule 7)" in page.text


def test_the_access_log_in_dutch(config):
    page = Elements(pages.catalog(config, ERIN, NL, TODAY, LOG))
    assert "Toegangslogboek" in page.text and "geweigerd" in page.text
    assert page.find("tr", **{"data-decision": "refused"})  # the hook stays in English


def test_an_empty_access_log_says_so(config):
    html = pages.catalog(config, ERIN, today=TODAY, log=[])
    assert "id='access-log'" in html and "Nothing logged yet." in html


@pytest.mark.parametrize("who", [ALICE, CAROL])
def test_analysts_and_managers_never_see_the_access_log(config, who):
    html = pages.catalog(config, who, today=TODAY, log=LOG)  # even if handed one
    assert "access-log" not in html and "data-user" not in html
    assert "Access log" not in html and "dave" not in html
    assert Elements(html).rows("data-dataset")  # the card list they do see


def test_everything_is_escaped(config):
    hostile = copy.deepcopy(config)
    card = hostile["catalog"]["datasets"][2]
    card.update(
        id="x'><b>id",
        title=HOSTILE,
        owner=HOSTILE,
        steward="a&b",
        purposes=[HOSTILE],
        legal_basis=[{"ground": "public-task", "reference": "javascript:alert(1)"}],
        retention={"period": "P1Y", "action": "destroy", "basis": HOSTILE},
        agreement={"reference": HOSTILE, "valid_until": "2027-06-30"},
    )
    hostile["organisation"] = HOSTILE
    hostile["catalog"]["granted"]["erin"] = ["x'><b>id"]
    log = [entry(HOSTILE, "x'><b>id", "refused", reason=HOSTILE, purpose=HOSTILE)]
    body = pages.catalog(hostile, ERIN, NL, TODAY, log)
    html = pages.layout(hostile, caller("o'neil", "steward"), body, ROOT, NL)
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "a&amp;b" in html and "o&#x27;neil" in html
    assert "href='javascript:" not in html  # only http(s) references become links
    page = Elements(html)
    assert page.rows("data-user")[0]["data-user"] == HOSTILE  # attributes survive intact
    assert page.rows("data-dataset")[2]["data-dataset"] == "x'><b>id"

    listing = pages.experiment_list([ExperimentView(_hostile_experiment(), ())], ROOT)
    assert "<script>" not in listing and "&lt;script&gt;" in listing


def _hostile_experiment() -> Experiment:
    at = datetime(2025, 3, 1, tzinfo=UTC)
    return Experiment("EXP-1", HOSTILE, "t", "demo", "o", "p", at, "o")


SCRIPT = '<script>alert("x")</script>'
SCRIPT_ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"


@pytest.mark.parametrize("lang", [ENGLISH, NL])
def test_autoescape_a_team_and_title_with_script_and_quotes_in_every_page(config, lang):
    """The templates escape what they show: a team, title, reason or name holding
    <script> and a double quote is text in every page, and intact in attributes."""
    at = datetime(2025, 3, 1, tzinfo=UTC)
    record = Experiment("EXP-1", SCRIPT, SCRIPT, "demo", "alice", SCRIPT, at, "alice")
    shown = ExperimentView(record, (Event("EXP-1", 1, None, "proposed", at, "alice", SCRIPT),))
    hostile = copy.deepcopy(config)
    hostile["organisation"] = SCRIPT
    hostile["catalog"]["datasets"][0]["title"] = SCRIPT
    log = [entry(SCRIPT, "woz-2024", "refused", reason=SCRIPT)]
    bodies = {
        "experiments": pages.experiment_list([shown], ROOT, lang),
        "experiment": pages.experiment(shown, ROOT, lang),
        "catalog": pages.catalog(hostile, ERIN, lang, TODAY, log),
        "filters": pages.filter_form({"team": SCRIPT}, [SCRIPT], ["demo"], "/d", lang),
    }
    for name, body in bodies.items():
        for html in (body, pages.layout(hostile, caller(SCRIPT, "steward"), body, ROOT, lang)):
            assert "<script" not in html and '"x"' not in html, name
            assert SCRIPT_ESCAPED in html, name
            page = Elements(html)
            assert SCRIPT in page.text, name  # shown as the text it is
            assert not page.find("script"), name
    assert Elements(bodies["catalog"]).rows("data-user")[0]["data-user"] == SCRIPT
    assert "selected" in Elements(bodies["filters"]).find("option", value=SCRIPT)[0]


def test_the_page_data_is_computed_without_rendering(config):
    """The Python side computes what a template shows; a test reads it as data."""
    listing = pages.experiment_list_context([view()], ROOT, Language("nl", True))
    row = listing["rows"][0]
    assert (row.href, row.state, row.state_text) == (
        ROOT + "experiments/EXP-0001?lang=nl",
        "approved",
        "Goedgekeurd",
    )
    cards = {c.id: c for c in pages.catalog_context(config, ALICE, today=date(2027, 7, 1))["cards"]}
    woz = cards["woz-2024"]
    assert woz.for_you == "lapsed" and woz.agreement and woz.agreement.lapsed
    assert woz.legal_basis[0].link and not cards["cbs-wijken-2024"].agreement
    assert pages.catalog_context(config, ALICE, log=LOG)["log"] is None  # not a steward
    assert [r.decision for r in pages.access_log_context(LOG, NL)["log"]] == [
        "toegekend",
        "geweigerd",
    ]
    form = pages.filter_form_context({"team": "b"}, ["a", "b"], [], "/d", NL)
    assert form["teams"] == [("a", False), ("b", True)] and form["lang"] is None


def test_the_templates_autoescape_and_ship_beside_the_module():
    names = pages.TEMPLATES.list_templates()
    assert {"layout.html", "catalog.html", "access_log.html", "filter_form.html"} <= set(names)
    for name in names:
        pages.TEMPLATES.get_template(name)  # compiles
        assert pages.TEMPLATES.autoescape(name) is name.endswith(".html")


# ------------------------------------------------------------------ reading the log


def test_the_newest_access_log_entries_come_first(tmp_path: Path):
    engine = open_registry_url(f"sqlite:///{tmp_path / 'r.sqlite'}")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    access_log.record(
        engine,
        [entry(f"u{i}", "woz-2024", at=start + timedelta(minutes=i)) for i in range(5)]
        + [entry("zoe", "woz-2024", sandbox="other", at=start + timedelta(hours=1))],
    )
    newest = access_log.entries(engine, "demo", newest=3)
    assert [e.user for e in newest] == ["u4", "u3", "u2"]
    assert [e.user for e in access_log.entries(engine, "demo")] == [f"u{i}" for i in range(5)]


# ------------------------------------------------------------------ the handlers


@pytest.fixture
def served(config, tmp_path: Path, monkeypatch):
    """The service's tornado app on a local port, with the user taken from a header
    instead of the hub's OAuth."""
    from sandbox.registry.service import app

    monkeypatch.setattr(
        app.Base,
        "get_current_user",
        lambda self: {"name": self.request.headers["X-Test-User"]},
    )
    engine = open_registry_url(f"sqlite:///{tmp_path / 'r.sqlite'}")
    access_log.record(engine, [*LOG, entry("zoe", "woz-2024", sandbox="other")])
    settings = {**config, "lang": "nl"}
    return app.make_app(settings, engine, ROOT, lambda: TODAY)


def fetch(application, path: str, user: str) -> str:
    async def get() -> str:
        sock, port = bind_unused_port()
        server = HTTPServer(application)
        server.add_sockets([sock])
        try:
            answer = await AsyncHTTPClient().fetch(
                f"http://127.0.0.1:{port}{path}", headers={"X-Test-User": user}
            )
            return answer.body.decode()
        finally:
            server.stop()

    return IOLoop.current().run_sync(get)


def test_pages_follow_the_sandbox_language_unless_the_url_says_otherwise(served):
    assert "<html lang='nl'>" in fetch(served, ROOT, "alice")
    english = fetch(served, ROOT + "catalog?lang=en", "alice")
    assert "<html lang='en'>" in english and "mounted at /data/woz-2024" in english
    assert "href='/services/registry/?lang=en'" in english


def test_the_catalog_handler_reads_this_sandboxs_access_log_for_stewards_only(served):
    steward = Elements(fetch(served, ROOT + "catalog", "erin"))
    assert [r["data-user"] for r in steward.rows("data-user")] == ["dave", "alice"]  # newest first
    analyst = fetch(served, ROOT + "catalog", "alice")
    assert "access-log" not in analyst and "Datacatalogus" in analyst


def test_an_experiment_page_lists_its_output_requests():
    linked = [{"id": "OUT-0003", "state": "released", "path": "results/t.csv", "checks": "pass"}]
    detail = pages.experiment(view(), ROOT, NL, linked)
    assert "<table id='experiment-outputs'>" in detail
    assert f"href='{ROOT}outputs/OUT-0003'" in detail and "Uitvoer" in detail
    assert "<td class='state' data-state='released'>vrijgegeven</td>" in detail
    assert "experiment-outputs" not in pages.experiment(view(), ROOT, NL)


def test_the_airlock_finds_a_home_by_the_volume_name_dockerspawner_gives_it(monkeypatch):
    import docker

    from sandbox.registry.service.outputs import home_of

    asked = []

    class Api:
        def inspect_volume(self, name):
            asked.append(name)
            return {"Mountpoint": f"/var/lib/docker/volumes/{name}/_data"}

    monkeypatch.setattr(docker, "from_env", lambda: type("Client", (), {"api": Api()})())
    settings = {"homes_dir": "", "home_volume_prefix": "sandbox-demo-home-"}
    assert str(home_of(settings, "k.devries")).endswith("sandbox-demo-home-k-2edevries/_data")
    assert asked == ["sandbox-demo-home-k-2edevries"]


def test_stewards_see_the_members_from_other_organisations_and_whether_they_may_still(config):
    rows = [
        {"member": "kees", "group": "leefomgeving", "organisation": "GGD Zuid",
         "reference": "SOK-2026-03", "valid_until": "2026-06-30", "admitted": True},
        {"member": "idp_group ggd", "group": "ggd", "organisation": "GGD Zuid",
         "reference": "SOK-2026-04", "valid_until": "2027-06-30", "admitted": True},
    ]  # fmt: skip
    with_partners = {**config, "catalog": {**config["catalog"], "partners": rows}}
    page = Elements(pages.catalog(with_partners, ERIN, today=date(2026, 7, 1)))
    assert page.find("table", id="partners")
    lapsed = {r["data-member"]: r["data-lapsed"] for r in page.rows("data-member")}
    assert lapsed == {"kees": "yes", "idp_group ggd": "no"}
    assert "id='partners'" not in pages.catalog(with_partners, ALICE, today=TODAY)
