"""Server-rendered HTML pages of the registry service (no scripts, no CDN), in
English or Dutch.

The markup is in ``templates/`` (Jinja, autoescaped: ``layout.html`` is the frame
of every page, the others its bodies); the texts are in ``sandbox/texts.py``. The
``*_context`` functions are pure and compute what a template shows; the handlers
in ``app.py`` read the registry and the clock and pass it in. Hooks for browser
tests: ``<html lang>``; tables ``#experiments``, ``#events``, ``#catalog`` (rows
``data-dataset``, ``data-for-you``) and, for stewards and admins only,
``#access-log`` (rows ``data-user``, ``data-dataset``, ``data-decision``); the
dashboard's ``#filters``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from markupsafe import Markup

from ...reporting.html import environment
from ...texts import TEXTS, text
from ..access_log import AccessEntry
from ..store import ExperimentView
from .access import Caller

ACCESS_LOG_ROLES = frozenset({"steward", "admin"})
ACCESS_LOG_ROWS = 200  # the newest entries the catalog page shows
TEXT = TEXTS  # the languages the pages speak, each with every text
TEMPLATES = environment(Path(__file__).parent / "templates")


@dataclass(frozen=True)
class Language:
    """The language of one page; ``in_url`` when the request chose it with
    ``?lang=``, so that links and the filter form keep it."""

    code: str = "en"
    in_url: bool = False

    @classmethod
    def choose(cls, requested: str | None, default: str | None) -> Language:
        """``?lang=`` if it names a language, else the sandbox's ``lang``, else English."""
        if requested and requested in TEXTS:
            return cls(requested, True)
        return cls(default if default and default in TEXTS else "en", False)

    def t(self, key: str, **values: Any) -> str:
        """One text of this language, filled in."""
        return text(self.code, key, **values)

    def link(self, url: str) -> str:
        return f"{url}?lang={self.code}" if self.in_url else url

    def state(self, state: str) -> str:
        """A lifecycle state in words (the dashboard's labels)."""
        return text(self.code, state, default=state)


ENGLISH = Language()


def sees_access_log(who: Caller) -> bool:
    return bool(who.roles & ACCESS_LOG_ROLES)


def _render(template: str, context: dict[str, Any]) -> str:
    return TEMPLATES.get_template(template).render(context)


# ------------------------------------------------------------------ the frame


def layout_context(config: dict[str, Any], who: Caller, root: str, lang: Language) -> dict:
    return {
        "lang": lang.code,
        "t": TEXTS[lang.code],
        "organisation": config["organisation"],
        "sandbox": config["sandbox"],
        "user": who.name,
        "roles": ", ".join(sorted(who.roles)),
        "nav": [
            (lang.link(root + path), lang.t(key))
            for path, key in (
                ("", "experiments"),
                ("catalog", "catalog"),
                ("dashboard", "dashboard"),
                ("outputs", "outputs"),
            )
        ],
        "api": root + "api/openapi.json",
    }


def layout(
    config: dict[str, Any], who: Caller, body: str, root: str, lang: Language = ENGLISH
) -> str:
    """A whole page: the header of this sandbox and viewer around ``body`` (HTML one
    of the page functions below rendered)."""
    return _render("layout.html", {**layout_context(config, who, root, lang), "body": Markup(body)})


# ------------------------------------------------------------------ experiments


@dataclass(frozen=True)
class ExperimentRow:
    href: str
    id: str
    title: str
    team: str
    sandbox: str
    owner: str
    state: str
    state_text: str


def experiment_list_context(views: list[ExperimentView], root: str, lang: Language) -> dict:
    rows = [
        ExperimentRow(
            lang.link(root + "experiments/" + v.experiment.id),
            v.experiment.id,
            v.experiment.title,
            v.experiment.team,
            v.experiment.sandbox,
            v.experiment.owner,
            v.state,
            lang.state(v.state),
        )
        for v in views
    ]
    return {"t": TEXTS[lang.code], "rows": rows}


def experiment_list(views: list[ExperimentView], root: str, lang: Language = ENGLISH) -> str:
    return _render("experiments.html", experiment_list_context(views, root, lang))


@dataclass(frozen=True)
class EventRow:
    seq: int
    at: str
    from_state: str
    to_state: str
    actor: str
    reason: str
    changes: str = ""  # an amendment's, one "field: old → new" per field


def _changes(changes: dict[str, Any] | None) -> str:
    if not changes:
        return ""
    return "; ".join(f"{name}: {c['from']!r} → {c['to']!r}" for name, c in changes.items())


def experiment_context(
    view: ExperimentView, root: str, lang: Language, outputs: list[dict] | None = None
) -> dict:
    """``outputs``: the output requests made for it (id, state, path, checks)."""
    e = view.experiment
    facts = [  # (text key, value): the template shows each key as a label
        ("title", e.title),
        ("team", e.team),
        ("sandbox", e.sandbox),
        ("owner", e.owner),
        ("purpose", e.purpose),
        ("datasets", ", ".join(e.datasets)),
        ("personal_data", lang.t("yes" if e.personal_data else "no")),
        ("human_intervention", e.human_intervention),
        ("risks", e.risks),
        ("proportionality", e.proportionality),
        ("dpia", e.dpia_reference),
        ("state", lang.state(view.state)),
    ]
    events = [
        EventRow(
            ev.seq,
            ev.at.isoformat(),
            lang.state(ev.from_state) if ev.from_state else "",
            lang.state(ev.to_state),
            ev.actor,
            ev.reason,
            _changes(ev.changes),
        )
        for ev in view.events
    ]
    return {
        "t": TEXTS[lang.code],
        "id": e.id,
        "title": e.title,
        "facts": facts,
        "versions": [(k, str(v)) for k, v in sorted(e.dataset_versions.items())],
        "events": events,
        "outputs": [{**o, "href": lang.link(f"{root}outputs/{o['id']}")} for o in outputs or []],
        "back": lang.link(root),
    }


def experiment(
    view: ExperimentView,
    root: str,
    lang: Language = ENGLISH,
    outputs: list[dict] | None = None,
) -> str:
    return _render("experiment.html", experiment_context(view, root, lang, outputs))


# ------------------------------------------------------------------ the catalog


@dataclass(frozen=True)
class LegalBasis:
    ground: str
    reference: str
    link: bool  # only http(s) references become links


@dataclass(frozen=True)
class Agreement:
    reference: str
    until: str  # "valid until ..."
    lapsed: bool


@dataclass(frozen=True)
class CardRow:
    """One data card in the catalog; the list fields are lines in one cell (an empty
    list shows a dash)."""

    id: str
    title: str
    version: str
    tier: str
    owner: str
    steward: str
    classification: list[str]
    personal_data: list[str]
    legal_basis: list[LegalBasis]
    purposes: str
    dpia: list[str]
    retention: list[str]
    agreement: Agreement | None
    for_you: str  # data-for-you: mounted, lapsed or not-granted
    use: str  # the same in words


def _lines(*lines: str) -> list[str]:
    """The lines of one cell; empty lines are left out."""
    return [line for line in lines if line]


def _lapsed(card: dict[str, Any], today: date) -> bool:
    """Rule 7: data whose agreement has ended is not mounted."""
    agreement = card.get("agreement")
    return agreement is not None and date.fromisoformat(agreement["valid_until"]) < today


def card_row(card: dict[str, Any], granted: bool, today: date, lang: Language) -> CardRow:
    """One data card with its governance metadata and what it means for the viewer."""
    lapsed = _lapsed(card, today)
    if not granted:
        use, state = lang.t("not_granted"), "not-granted"
    elif lapsed:
        use, state = lang.t("lapsed", date=card["agreement"]["valid_until"]), "lapsed"
    else:
        use, state = lang.t("mounted", id=card["id"]), "mounted"
    rating, personal = card["classification"], card["personal_data"]
    biv = rating["biv"]
    dpia, retention, agreement = card.get("dpia"), card["retention"], card.get("agreement")
    return CardRow(
        id=card["id"],
        title=card["title"],
        version=card.get("version", ""),
        tier=str(card["tier"]),
        owner=card["owner"],
        steward=card["steward"],
        classification=_lines(
            card["access_rights"],
            rating["rubricering"],
            f"BIV {biv['beschikbaarheid']}/{biv['integriteit']}/{biv['vertrouwelijkheid']}",
        ),
        personal_data=_lines(
            ", ".join(filter(None, [personal["kind"], personal.get("identifiability")])),
            ", ".join(personal.get("special_categories", [])),
        ),
        legal_basis=[
            LegalBasis(
                b["ground"], b["reference"], b["reference"].startswith(("https://", "http://"))
            )
            for b in card["legal_basis"]
        ],
        purposes=", ".join(card["purposes"]),
        dpia=_lines(dpia["status"], dpia.get("reference") or "", dpia.get("date") or "")
        if dpia
        else [],
        retention=_lines(f"{retention['period']}, {retention['action']}", retention["basis"]),
        agreement=Agreement(
            agreement["reference"],
            lang.t("valid_until", date=agreement["valid_until"]),
            lapsed,
        )
        if agreement
        else None,
        for_you=state,
        use=use,
    )


def catalog_context(
    config: dict[str, Any],
    who: Caller,
    lang: Language = ENGLISH,
    today: date | None = None,
    log: list[AccessEntry] | None = None,
) -> dict:
    today = today or date.today()
    granted = set(config["catalog"]["granted"].get(who.name, []))
    cards = [
        card_row(card, card["id"] in granted, today, lang) for card in config["catalog"]["datasets"]
    ]
    context: dict[str, Any] = {
        "t": TEXTS[lang.code],
        "cards": cards,
        "team_folders": config["catalog"].get("team_folders", []),
        "partners": None,
        "log": None,
    }
    if sees_access_log(who):  # stewards and admins: who comes from elsewhere, under what
        context["partners"] = [
            {**p, "lapsed": bool(p["valid_until"]) and p["valid_until"] < today.isoformat()}
            for p in config["catalog"].get("partners", [])
        ]
    if log is not None and sees_access_log(who):
        context |= access_log_context(log, lang)
    return context


def catalog(
    config: dict[str, Any],
    who: Caller,
    lang: Language = ENGLISH,
    today: date | None = None,
    log: list[AccessEntry] | None = None,
) -> str:
    """Every data card with its governance metadata and whether it is mounted for
    the viewer; for stewards and admins also the access log (``log``, newest first)."""
    return _render("catalog.html", catalog_context(config, who, lang, today, log))


@dataclass(frozen=True)
class LogRow:
    entry: AccessEntry
    at: str  # ISO 8601, for <time datetime>
    shown_at: str
    decision: str  # in words


def access_log_context(log: list[AccessEntry], lang: Language = ENGLISH) -> dict:
    return {
        "t": TEXTS[lang.code],
        "log": [
            LogRow(
                e,
                e.at.isoformat(),
                e.at.strftime("%Y-%m-%d %H:%M:%S %Z"),
                text(lang.code, e.decision, default=e.decision),
            )
            for e in log
        ],
        "log_intro": lang.t("access_log_intro", n=ACCESS_LOG_ROWS),
    }


def access_log(log: list[AccessEntry], lang: Language = ENGLISH) -> str:
    """The access log table, entries in the order given (newest first)."""
    return _render("access_log.html", access_log_context(log, lang))


# ------------------------------------------------------------------ the dashboard


def filter_form_context(
    arguments: dict[str, str],
    teams: list[str],
    sandboxes: list[str],
    action: str,
    lang: Language = ENGLISH,
) -> dict:
    def options(name: str, values: list[str]) -> list[tuple[str, bool]]:
        return [(v, v == arguments.get(name, "")) for v in values]

    return {
        "t": TEXTS[lang.code],
        "action": action,
        "lang": lang.code if lang.in_url else None,  # kept in the form when the URL chose it
        "since": arguments.get("since", ""),
        "until": arguments.get("until", ""),
        "teams": options("team", teams),
        "sandboxes": options("sandbox", sandboxes),
    }


def filter_form(
    arguments: dict[str, str],
    teams: list[str],
    sandboxes: list[str],
    action: str,
    lang: Language = ENGLISH,
) -> str:
    """The dashboard's filters (period, team, sandbox), shown in the report page."""
    return _render(
        "filter_form.html", filter_form_context(arguments, teams, sandboxes, action, lang)
    )
