"""Server-rendered HTML pages of the registry service (no scripts, no CDN), in
English or Dutch.

Every function is pure: the handlers in ``app.py`` read the registry and the
clock and pass what a page shows. Hooks for browser tests: ``<html lang>``;
tables ``#experiments``, ``#events``, ``#catalog`` (rows ``data-dataset``,
``data-for-you``) and, for stewards and admins only, ``#access-log`` (rows
``data-user``, ``data-dataset``, ``data-decision``); the dashboard's ``#filters``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

from ...texts import text
from ..access_log import AccessEntry
from ..store import ExperimentView
from .access import Caller

ACCESS_LOG_ROLES = frozenset({"steward", "admin"})
ACCESS_LOG_ROWS = 200  # the newest entries the catalog page shows
DASH = "–"

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "registry": "Registry", "experiments": "Experiments", "catalog": "Dataset catalog",
        "dashboard": "Dashboard", "api": "API", "sandbox": "sandbox",
        "id": "id", "title": "title", "team": "team", "owner": "owner", "state": "state",
        "no_experiments": "No experiments yet.",
        "Title": "Title", "Team": "Team", "Sandbox": "Sandbox", "Owner": "Owner",
        "Purpose": "Purpose", "Datasets": "Datasets", "Personal data": "Personal data",
        "Human intervention": "Human intervention", "Risks": "Risks",
        "Proportionality": "Proportionality", "DPIA": "DPIA", "State": "State",
        "yes": "yes", "no": "no",
        "versions": "Dataset versions at registration", "none_recorded": "none recorded",
        "lifecycle": "Lifecycle", "seq": "#", "at": "at", "from": "from", "to": "to",
        "actor": "actor", "reason": "reason", "all_experiments": "All experiments",
        "version": "version", "tier": "tier", "steward": "steward",
        "classification": "classification", "personal_data": "personal data",
        "legal_basis": "legal basis", "purposes": "purposes", "dpia": "DPIA",
        "retention": "retention", "agreement": "agreement", "for_you": "for you",
        "valid_until": "valid until {date}", "expired": "expired",
        "mounted": "mounted at /data/{id}", "not_granted": "not granted",
        "lapsed": "granted, but not mounted: the agreement ended on {date}",
        "access_log": "Access log",
        "access_log_intro": "Every grant and refusal of a dataset to a person at server start "
        "in this sandbox, newest first (at most the newest {n}).",
        "no_access": "Nothing logged yet.",
        "time": "time", "user": "user", "dataset": "dataset", "decision": "decision",
        "purpose": "purpose", "trace": "trace id",
        "granted": "granted", "refused": "refused",
        "since": "since", "until": "until", "all": "all", "apply": "Apply",
    },
    "nl": {
        "registry": "Register", "experiments": "Experimenten", "catalog": "Datacatalogus",
        "dashboard": "Dashboard", "api": "API", "sandbox": "sandbox",
        "id": "id", "title": "titel", "team": "team", "owner": "eigenaar", "state": "fase",
        "no_experiments": "Nog geen experimenten.",
        "Title": "Titel", "Team": "Team", "Sandbox": "Sandbox", "Owner": "Eigenaar",
        "Purpose": "Doel", "Datasets": "Datasets", "Personal data": "Persoonsgegevens",
        "Human intervention": "Menselijke tussenkomst", "Risks": "Risico's",
        "Proportionality": "Proportionaliteit", "DPIA": "DPIA", "State": "Fase",
        "yes": "ja", "no": "nee",
        "versions": "Datasetversies bij registratie", "none_recorded": "geen vastgelegd",
        "lifecycle": "Levensloop", "seq": "#", "at": "tijdstip", "from": "van", "to": "naar",
        "actor": "door", "reason": "reden", "all_experiments": "Alle experimenten",
        "version": "versie", "tier": "niveau", "steward": "datasteward",
        "classification": "classificatie", "personal_data": "persoonsgegevens",
        "legal_basis": "grondslag", "purposes": "doelen", "dpia": "DPIA",
        "retention": "bewaartermijn", "agreement": "overeenkomst", "for_you": "voor jou",
        "valid_until": "geldig tot {date}", "expired": "verlopen",
        "mounted": "beschikbaar onder /data/{id}", "not_granted": "niet toegekend",
        "lapsed": "toegekend, maar niet beschikbaar: de overeenkomst liep af op {date}",
        "access_log": "Toegangslogboek",
        "access_log_intro": "Elke toekenning en weigering van een dataset aan een persoon bij "
        "het starten van een server in deze sandbox, nieuwste eerst (hoogstens de {n} "
        "nieuwste).",
        "no_access": "Nog niets gelogd.",
        "time": "tijdstip", "user": "gebruiker", "dataset": "dataset", "decision": "besluit",
        "purpose": "doel", "trace": "trace-id",
        "granted": "toegekend", "refused": "geweigerd",
        "since": "vanaf", "until": "tot", "all": "alle", "apply": "Toepassen",
    },
}  # fmt: skip

STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b}
header{background:#154273;color:#fff;padding:.8rem 1.2rem}
header a{color:#fff;margin-right:1rem}
main{padding:1rem 1.2rem}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.92rem}
time,code{white-space:nowrap}
td a{overflow-wrap:anywhere}
th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
.state{font-weight:600}
.note{color:#4a4a4a;font-size:.9em}
.refused,.expired{color:#a8322d;font-weight:600}
"""


@dataclass(frozen=True)
class Language:
    """The language of one page; ``in_url`` when the request chose it with
    ``?lang=``, so that links and the filter form keep it."""

    code: str = "en"
    in_url: bool = False

    @classmethod
    def choose(cls, requested: str | None, default: str | None) -> Language:
        """``?lang=`` if it names a language, else the sandbox's ``lang``, else English."""
        if requested and requested in TEXT:
            return cls(requested, True)
        return cls(default if default and default in TEXT else "en", False)

    def t(self, key: str, **values: str) -> str:
        """One text of this language, filled in and HTML-escaped."""
        return escape(TEXT[self.code][key].format(**values))

    def link(self, url: str) -> str:
        return escape(f"{url}?lang={self.code}" if self.in_url else url)

    def state(self, state: str) -> str:
        """A lifecycle state in words (the dashboard's labels)."""
        return text(self.code, state, default=state)


ENGLISH = Language()


def sees_access_log(who: Caller) -> bool:
    return bool(who.roles & ACCESS_LOG_ROLES)


def _head(lang: Language, keys: Iterable[str]) -> str:
    return "<tr>" + "".join(f"<th>{lang.t(key)}</th>" for key in keys) + "</tr>"


def layout(
    config: dict[str, Any], who: Caller, body: str, root: str, lang: Language = ENGLISH
) -> str:
    roles = ", ".join(sorted(who.roles))
    sandbox = escape(config["sandbox"])
    links = (("", "experiments"), ("catalog", "catalog"), ("dashboard", "dashboard"))
    nav = "".join(f"<a href='{lang.link(root + path)}'>{lang.t(key)}</a>" for path, key in links)
    return (
        f"<!doctype html><html lang='{lang.code}'><head><meta charset='utf-8'>"
        f"<title>{lang.t('registry')} - {sandbox}</title><style>{STYLE}</style></head>"
        f"<body><header><strong>{escape(config['organisation'])}</strong> · "
        f"{lang.t('sandbox')} {sandbox} · {escape(who.name)} ({escape(roles)})<br>{nav}"
        f"<a href='{escape(root)}api/openapi.json'>{lang.t('api')}</a></header>"
        f"<main>{body}</main></body></html>"
    )


def experiment_list(views: list[ExperimentView], root: str, lang: Language = ENGLISH) -> str:
    rows = "".join(
        f"<tr><td><a href='{lang.link(root + 'experiments/' + v.experiment.id)}'>"
        f"{escape(v.experiment.id)}</a></td><td>{escape(v.experiment.title)}</td>"
        f"<td>{escape(v.experiment.team)}</td><td>{escape(v.experiment.sandbox)}</td>"
        f"<td>{escape(v.experiment.owner)}</td><td class='state' data-state='{escape(v.state)}'>"
        f"{escape(lang.state(v.state))}</td></tr>"
        for v in views
    )
    head = _head(lang, ("id", "title", "team", "sandbox", "owner", "state"))
    return f"<h1>{lang.t('experiments')}</h1><table id='experiments'>{head}{rows}</table>" + (
        "" if views else f"<p>{lang.t('no_experiments')}</p>"
    )


def experiment(view: ExperimentView, root: str, lang: Language = ENGLISH) -> str:
    e = view.experiment
    facts = [
        ("Title", e.title),
        ("Team", e.team),
        ("Sandbox", e.sandbox),
        ("Owner", e.owner),
        ("Purpose", e.purpose),
        ("Datasets", ", ".join(e.datasets)),
        ("Personal data", TEXT[lang.code]["yes" if e.personal_data else "no"]),
        ("Human intervention", e.human_intervention),
        ("Risks", e.risks),
        ("Proportionality", e.proportionality),
        ("DPIA", e.dpia_reference),
        ("State", lang.state(view.state)),
    ]
    rows = "".join(f"<tr><th>{lang.t(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts)
    events = "".join(
        f"<tr><td>{ev.seq}</td><td>{escape(ev.at.isoformat())}</td>"
        f"<td>{escape(lang.state(ev.from_state) if ev.from_state else '')}</td>"
        f"<td>{escape(lang.state(ev.to_state))}</td>"
        f"<td>{escape(ev.actor)}</td><td>{escape(ev.reason)}</td></tr>"
        for ev in view.events
    )
    versions = "".join(
        f"<li>{escape(k)}: {escape(str(v))}</li>" for k, v in sorted(e.dataset_versions.items())
    )
    head = _head(lang, ("seq", "at", "from", "to", "actor", "reason"))
    versions = versions or f"<li>{lang.t('none_recorded')}</li>"
    return (
        f"<h1>{escape(e.id)}: {escape(e.title)}</h1><table>{rows}</table>"
        f"<h2>{lang.t('versions')}</h2><ul>{versions}</ul>"
        f"<h2>{lang.t('lifecycle')}</h2><table id='events'>{head}{events}</table>"
        f"<p><a href='{lang.link(root)}'>{lang.t('all_experiments')}</a></p>"
    )


def _lines(*lines: str) -> str:
    """Escaped lines in one cell; empty lines are left out, nothing at all is a dash."""
    return "<br>".join(escape(line) for line in lines if line) or DASH


def _reference(text: str) -> str:
    if text.startswith(("https://", "http://")):
        return f"<a href='{escape(text)}'>{escape(text)}</a>"
    return escape(text)


def _lapsed(card: dict[str, Any], today: date) -> bool:
    """Rule 7: data whose agreement has ended is not mounted."""
    agreement = card.get("agreement")
    return agreement is not None and date.fromisoformat(agreement["valid_until"]) < today


def _governance(card: dict[str, Any], lapsed: bool, lang: Language) -> list[str]:
    """The governance cells of one data card: classification to agreement."""
    rating = card["classification"]
    biv = rating["biv"]
    personal = card["personal_data"]
    dpia, retention, agreement = card.get("dpia"), card["retention"], card.get("agreement")
    bases = "<br>".join(
        f"{escape(b['ground'])}: {_reference(b['reference'])}" for b in card["legal_basis"]
    )
    until = ""
    if agreement:
        until = lang.t("valid_until", date=agreement["valid_until"])
        if lapsed:
            until += f" <span class='expired'>({lang.t('expired')})</span>"
    return [
        _lines(
            card["access_rights"],
            rating["rubricering"],
            f"BIV {biv['beschikbaarheid']}/{biv['integriteit']}/{biv['vertrouwelijkheid']}",
        ),
        _lines(
            ", ".join(filter(None, [personal["kind"], personal.get("identifiability")])),
            ", ".join(personal.get("special_categories", [])),
        ),
        bases or DASH,
        escape(", ".join(card["purposes"])),
        _lines(dpia["status"], dpia.get("reference") or "", dpia.get("date") or "")
        if dpia
        else DASH,
        _lines(f"{retention['period']}, {retention['action']}", retention["basis"]),
        f"{escape(agreement['reference'])}<br>{until}" if agreement else DASH,
    ]


def catalog(
    config: dict[str, Any],
    who: Caller,
    lang: Language = ENGLISH,
    today: date | None = None,
    log: list[AccessEntry] | None = None,
) -> str:
    """Every data card with its governance metadata and whether it is mounted for
    the viewer; for stewards and admins also the access log (``log``, newest first)."""
    today = today or date.today()
    granted = set(config["catalog"]["granted"].get(who.name, []))
    rows = []
    for card in config["catalog"]["datasets"]:
        lapsed = _lapsed(card, today)
        if card["id"] not in granted:
            use, state = lang.t("not_granted"), "not-granted"
        elif lapsed:
            use, state = lang.t("lapsed", date=card["agreement"]["valid_until"]), "lapsed"
        else:
            use, state = lang.t("mounted", id=card["id"]), "mounted"
        cells = [
            escape(card["id"]),
            escape(card["title"]),
            escape(card.get("version", "")),
            escape(str(card["tier"])),
            escape(card["owner"]),
            escape(card["steward"]),
            *_governance(card, lapsed, lang),
            use,
        ]
        rows.append(
            f"<tr data-dataset='{escape(card['id'])}' data-for-you='{state}'>"
            + "".join(f"<td>{cell}</td>" for cell in cells)
            + "</tr>"
        )
    head = _head(lang, (
        "id", "title", "version", "tier", "owner", "steward", "classification",
        "personal_data", "legal_basis", "purposes", "dpia", "retention", "agreement", "for_you",
    ))  # fmt: skip
    page = (
        f"<h1>{lang.t('catalog')}</h1><div class='table-wrap'><table id='catalog'>"
        f"{head}{''.join(rows)}</table></div>"
    )
    if log is not None and sees_access_log(who):
        page += access_log(log, lang)
    return page


def access_log(log: list[AccessEntry], lang: Language = ENGLISH) -> str:
    """The access log table, entries in the order given (newest first)."""
    rows = "".join(
        f"<tr data-user='{escape(e.user)}' data-dataset='{escape(e.dataset)}' "
        f"data-decision='{escape(e.decision)}'>"
        f"<td><time datetime='{escape(e.at.isoformat())}'>"
        f"{escape(e.at.strftime('%Y-%m-%d %H:%M:%S %Z'))}</time></td>"
        f"<td>{escape(e.user)}</td><td>{escape(e.dataset)}</td><td>{escape(e.version)}</td>"
        f"<td class='{escape(e.decision)}'>{escape(TEXT[lang.code].get(e.decision, e.decision))}"
        f"</td><td>{escape(e.reason)}</td><td>{escape(e.purpose)}</td>"
        f"<td>{escape(e.legal_basis)}</td><td><code>{escape(e.trace_id)}</code></td></tr>"
        for e in log
    )
    head = _head(lang, (
        "time", "user", "dataset", "version", "decision", "reason", "purpose", "legal_basis",
        "trace",
    ))  # fmt: skip
    intro = lang.t("access_log_intro", n=str(ACCESS_LOG_ROWS))
    return (
        f"<h2>{lang.t('access_log')}</h2><p class='note'>{intro}</p>"
        f"<div class='table-wrap'><table id='access-log'>{head}{rows}</table></div>"
        + ("" if log else f"<p>{lang.t('no_access')}</p>")
    )


def filter_form(
    arguments: dict[str, str],
    teams: list[str],
    sandboxes: list[str],
    action: str,
    lang: Language = ENGLISH,
) -> str:
    def select(name: str, values: list[str]) -> str:
        chosen = arguments.get(name, "")
        options = "".join(
            f"<option value='{escape(v)}'{' selected' if v == chosen else ''}>{escape(v)}</option>"
            for v in values
        )
        everything = f"<option value=''>{lang.t('all')}</option>"
        return f"<label>{lang.t(name)} <select name='{name}'>{everything}{options}</select></label>"

    def day(name: str) -> str:
        value = escape(arguments.get(name, ""))
        return f"<label>{lang.t(name)} <input type='date' name='{name}' value='{value}'></label>"

    keep = f"<input type='hidden' name='lang' value='{lang.code}'>" if lang.in_url else ""
    return (
        f"<form id='filters' method='get' action='{escape(action)}'>{keep}"
        f"{day('since')} {day('until')} {select('team', teams)} {select('sandbox', sandboxes)} "
        f"<button type='submit'>{lang.t('apply')}</button></form>"
    )
