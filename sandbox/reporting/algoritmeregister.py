"""Export experiments in the Algoritmeregister publication standard 1.0.

``sandbox export algoritmeregister`` publishes the experiments that reached production
(``in_production``, and ``retired`` ones with an end date) as one JSON object each, in
the field names of the Dutch government's algorithm register: the flat body its
submission API (``/aanleverapi/v1_0``) takes. Pure: reads the given registry views and
loaded config, writes nothing.

The field rules below (names, required fields, maximum lengths, permitted values) are
those of the standard's field configuration in github.com/MinBZK/Algoritmeregister,
``backend/app/schemas/config/v1_0.json`` at commit
4885a0537d142638732f7d83676800a701411e93 (standard_version "1.0"; a copy is test data
in tests/data/algoritmeregister). As the register's backend does, a maximum length
counts the text without its HTML. Nothing is truncated: a value that breaks a rule is
kept and reported in ``problems``. docs/algoritmeregister.md maps every field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC
from html import escape
from html.parser import HTMLParser
from typing import Any

from ..config.loader import LoadedConfig
from ..errors import ConfigError
from ..registry.lifecycle import (
    ALGORITMEREGISTER_STATUS,
    PUBLICATION_CATEGORIES,
    Event,
    Experiment,
)
from ..registry.store import ExperimentView

STANDARD_VERSION = "1.0"
EXPORTED_STATES = ("in_production", "retired")

# --- Rules of v1_0.json @ 4885a0537d142638732f7d83676800a701411e93 ---------------------
# Fields with "required": true.
REQUIRED = (
    "name",
    "description_short",
    "organization",
    "status",
    "contact_email",
    "publication_category",
    "lang",
)
# "max_length" of every string field (characters of the text without HTML).
MAX_LENGTH = {
    **dict.fromkeys(("begin_date", "end_date"), 7),
    **dict.fromkeys(("name", "organization", "source_id"), 100),
    "provider": 200,
    "description_short": 400,
    **dict.fromkeys(("contact_email", "website", "url", "process_index_url", "publiccode"), 500),
    **dict.fromkeys(
        ("goal", "proportionality", "human_intervention", "risks", "lawful_basis"), 2500
    ),
    **dict.fromkeys(("impacttoetsen", "source_data", "tags"), 2500),
    "methods_and_models": 5000,
}
# "permitted_values" of the enum fields, and of the array field "category".
PERMITTED = {
    "status": ("In ontwikkeling", "In gebruik", "Buiten gebruik"),
    "publication_category": PUBLICATION_CATEGORIES,
    "lang": ("nld",),
    "standard_version": (STANDARD_VERSION,),
    "category": (
        "Organisatie en bedrijfsvoering",
        "Cultuur en recreatie",
        "Economie",
        "Overheidsfinanciën",
        "Wonen",
        "Internationaal",
        "Migratie en integratie",
        "Natuur en milieu",
        "Onderwijs en wetenschap",
        "Openbare orde en veiligheid",
        "Recht",
        "Ruimte en infrastructuur",
        "Sociale zekerheid",
        "Verkeer",
        "Werk",
        "Zorg en gezondheid",
    ),
}
# Array fields of {title, link} objects: which parts are required.
GROUPING_REQUIRED = {
    "lawful_basis_grouping": ("title", "link"),
    "impacttoetsen_grouping": ("title",),
    "source_data_grouping": ("title", "link"),
}
# Optional fields with "show_always": true: the register shows them on every page.
SHOWN_ALWAYS = (
    "category",
    "begin_date",
    "goal",
    "proportionality",
    "human_intervention",
    "risks",
    "source_data",
)
FIELDS = frozenset([*REQUIRED, *MAX_LENGTH, *PERMITTED, *GROUPING_REQUIRED, *SHOWN_ALWAYS, "lars"])
# One of the "recommended_items" of impacttoetsen_grouping.title.
DPIA_TITLE = "Data Protection Impact Assessment (DPIA)"

# GDPR/AVG article 6(1) grounds, keyed by the data card's legal_basis.ground.
GROUNDS = {
    "consent": "AVG art. 6 lid 1 sub a (toestemming)",
    "contract": "AVG art. 6 lid 1 sub b (overeenkomst)",
    "legal-obligation": "AVG art. 6 lid 1 sub c (wettelijke verplichting)",
    "vital-interest": "AVG art. 6 lid 1 sub d (vitaal belang)",
    "public-task": "AVG art. 6 lid 1 sub e (taak van algemeen belang of openbaar gezag)",
    "legitimate-interest": "AVG art. 6 lid 1 sub f (gerechtvaardigd belang)",
}
# The AVG (GDPR) itself, Regulation (EU) 2016/679, the law every ground above names.
AVG_LINK = "https://eur-lex.europa.eu/eli/reg/2016/679/oj"


@dataclass
class ExportResult:
    records: list[dict[str, Any]] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=dict)  # what breaks the standard
    notes: dict[str, list[str]] = field(default_factory=dict)  # defaults the export chose


def export(
    views: list[ExperimentView], loaded: LoadedConfig, provider: str | None = None
) -> ExportResult:
    """One register record per in_production/retired experiment, ordered by id.

    Raises ``ConfigError`` without ``organisation.contact_email`` (required by the
    standard, and the same for every record)."""
    if not loaded.config.organisation.contact_email:
        message = "contact_email is not set: the Algoritmeregister requires one per record"
        raise ConfigError(
            [loaded.doc.problem(("organisation",), message, "organisation.contact_email")]
        )
    result = ExportResult()
    chosen = sorted((v for v in views if v.state in EXPORTED_STATES), key=lambda v: v.experiment.id)
    for view in chosen:
        problems: list[str] = []
        notes: list[str] = []
        record = _record(view, loaded, provider, problems, notes)
        result.records.append(record)
        problems += check(record)
        if problems:
            result.problems[view.experiment.id] = problems
        if notes:
            result.notes[view.experiment.id] = notes
    return result


def default_publication_category(experiment: Experiment) -> str:
    """The category when the experiment names none: 'Impactvolle algoritmes' when it
    processes personal data (it may affect the people the data is about), else
    'Overige algoritmes'. Never 'Hoog-risico AI-systeem': that takes an AI Act
    assessment only the organisation can make."""
    return "Impactvolle algoritmes" if experiment.personal_data else "Overige algoritmes"


def check(record: dict[str, Any]) -> list[str]:
    """What in ``record`` breaks (or leaves empty) a rule of the standard."""
    problems = [f"{name}: not a field of the standard" for name in record if name not in FIELDS]
    for name in REQUIRED:
        if _empty(record.get(name)):
            problems.append(f"{name}: required by the standard, but the sandbox has no value")
    for name in SHOWN_ALWAYS:
        if _empty(record.get(name)):
            problems.append(f"{name}: empty; optional, but shown on every register page")
    for name, limit in MAX_LENGTH.items():
        value = record.get(name)
        if isinstance(value, str) and text_length(value) > limit:
            count = text_length(value)
            problems.append(f"{name}: {count} characters, the standard allows at most {limit}")
    for name, allowed in PERMITTED.items():
        value = record.get(name)
        for item in value if isinstance(value, list) else [] if value is None else [value]:
            if item not in allowed:
                problems.append(f"{name}: {item!r} is not one of {', '.join(allowed)}")
    for name, parts in GROUPING_REQUIRED.items():
        for index, item in enumerate(record.get(name) or []):
            for part in parts:
                if _empty(item.get(part)):
                    problems.append(f"{name}[{index}].{part}: required by the standard, but empty")
    return problems


def text_length(value: str) -> int:
    """Length as the register counts it: the text nodes without markup, joined by one
    space (lxml's ``" ".join(//text())`` in backend/app/util/html.py)."""
    if "<" not in value:
        return len(value)
    parser = _TextNodes()
    parser.feed(value)
    parser.close()
    return len(" ".join(parser.nodes))


class _TextNodes(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.nodes: list[str] = []

    def handle_data(self, data: str) -> None:
        self.nodes.append(data)


def html_text(text: str) -> str:
    """Text with line breaks as the register shows it: it renders these fields as HTML,
    where a bare line break is a space. Paragraphs (blank lines) become ``<p>``, lines
    that all start with '- ' or '* ' a ``<ul>``, other line breaks ``<br>``; '<', '>'
    and '&' are escaped. A single line stays plain text."""
    text = text.strip()
    if "\n" not in text:
        return escape(text, quote=False)
    blocks = [b.strip() for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
    return "".join(_html_block(block) for block in blocks)


def html_list(items: list[str]) -> str:
    """Several items as a ``<ul>``; one as plain text."""
    if len(items) == 1:
        return escape(items[0], quote=False)
    return "<ul>" + "".join(f"<li>{escape(item, quote=False)}</li>" for item in items) + "</ul>"


def plain_text(text: str) -> str:
    """A plain field on one line: every run of white space one space."""
    return " ".join(text.split())


def _html_block(block: str) -> str:
    lines = [line.strip() for line in block.split("\n")]
    if all(line[:2] in ("- ", "* ") for line in lines):
        items = "".join(f"<li>{escape(line[2:].strip(), quote=False)}</li>" for line in lines)
        return f"<ul>{items}</ul>"
    return "<p>" + "<br>".join(escape(line, quote=False) for line in lines) + "</p>"


def _record(
    view: ExperimentView,
    loaded: LoadedConfig,
    provider: str | None,
    problems: list[str],
    notes: list[str],
) -> dict[str, Any]:
    experiment = view.experiment
    organisation = loaded.config.organisation
    lawful_basis, basis_links = _legal(experiment, loaded, problems)
    cards, dpia = loaded.cards, experiment.dpia_reference.strip()
    description = plain_text(experiment.description)
    category = experiment.publication_category
    if not category:
        category = default_publication_category(experiment)
        notes.append(
            f"publication_category: none given, so {category!r} "
            f"({'with' if experiment.personal_data else 'without'} personal data); "
            "set it with the experiment's publication_category"
        )
    sources = [f"{cards[d].card.title} ({d})" if d in cards else d for d in experiment.datasets]
    record: dict[str, Any] = {
        "name": plain_text(experiment.title),
        "description_short": description or plain_text(experiment.title),
        "organization": organisation.name,
        "category": _categories(experiment, loaded),
        "status": ALGORITMEREGISTER_STATUS[view.state],
        "begin_date": _month(view.events, "in_production"),
        "end_date": _month(view.events, "retired"),
        "contact_email": organisation.contact_email,
        "publication_category": category,
        "goal": html_text(experiment.goal or experiment.description),
        "proportionality": html_text(experiment.proportionality),
        "human_intervention": html_text(experiment.human_intervention),
        "risks": html_text(experiment.risks),
        "lawful_basis": html_list(lawful_basis) if lawful_basis else "",
        "lawful_basis_grouping": basis_links,
        "process_index_url": organisation.processing_register,
        "impacttoetsen_grouping": [_dpia_item(dpia)] if dpia else [],
        "impacttoetsen": _impact(experiment),
        "source_data": html_list(sources) if sources else "",
        "source_data_grouping": _source_links(experiment, loaded),
        "provider": provider if provider is not None else organisation.name,
        "lang": "nld",
        "standard_version": STANDARD_VERSION,
        "source_id": experiment.id,
    }
    return {name: value for name, value in record.items() if not _empty(value)}


def _month(events: Iterable[Event], state: str) -> str | None:
    """The UTC year and month (yyyy-mm) ``state`` was first entered, if ever."""
    moment = next((e.at for e in events if e.to_state == state), None)
    if moment is None:
        return None
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return utc.strftime("%Y-%m")


def _categories(experiment: Experiment, loaded: LoadedConfig) -> list[str]:
    """Data card themes that name a permitted Thema (case and '-' vs ' ' ignored)."""
    by_key = {value.casefold(): value for value in PERMITTED["category"]}
    found: dict[str, None] = {}
    for dataset in experiment.datasets:
        if dataset in loaded.cards:
            for theme in loaded.cards[dataset].card.themes:
                key = theme.replace("-", " ").casefold()
                if key in by_key:
                    found[by_key[key]] = None
    return list(found)


def _legal(
    experiment: Experiment, loaded: LoadedConfig, problems: list[str]
) -> tuple[list[str], list[dict[str, str]]]:
    """The datasets' legal bases as lines, and as title/link pairs where each link is
    the law its title names: the AVG ground with the AVG, and a reference that is a
    link (the law that gives the task, say) titled by that link."""
    lines: list[str] = []
    links: dict[tuple[str, str], None] = {}
    for dataset in experiment.datasets:
        if dataset not in loaded.cards:
            problems.append(
                f"lawful_basis: dataset {dataset!r} has no data card; its basis is missing"
            )
            continue
        card = loaded.cards[dataset].card
        for basis in card.legal_basis:
            ground = GROUNDS.get(basis.ground, basis.ground)
            lines.append(f"{card.title} ({dataset}): {ground}; {basis.reference}")
            if basis.ground in GROUNDS:
                links[(ground, AVG_LINK)] = None
            if _is_link(basis.reference) and basis.reference != AVG_LINK:
                links[(_link_title(basis.reference), basis.reference)] = None
    return lines, [{"title": title, "link": link} for title, link in links]


def _link_title(link: str) -> str:
    """What a link names when the card gives no title for it: the link without its
    scheme (``wetten.overheid.nl/BWBR0007119``)."""
    return link.split("://", 1)[1].rstrip("/")


def _source_links(experiment: Experiment, loaded: LoadedConfig) -> list[dict[str, str]]:
    """Each dataset with a data card and its page in the published catalog."""
    catalog = loaded.config.organisation.catalog_url
    if not catalog:
        return []
    return [
        {"title": loaded.cards[d].card.title, "link": f"{catalog.rstrip('/')}/{d}"}
        for d in experiment.datasets
        if d in loaded.cards
    ]


def _dpia_item(reference: str) -> dict[str, str]:
    """The DPIA as an impact assessment; its link only when the reference is one."""
    item = {"title": DPIA_TITLE}
    if _is_link(reference):
        item["link"] = reference
    return item


def _impact(experiment: Experiment) -> str:
    reference = experiment.dpia_reference.strip()
    if reference:
        return escape(f"{DPIA_TITLE}: {reference}", quote=False)
    if not experiment.personal_data:
        return "Geen DPIA: het algoritme verwerkt geen persoonsgegevens."
    return ""


def _is_link(text: str) -> bool:
    return text.startswith(("https://", "http://"))


def _empty(value: Any) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value is None or (isinstance(value, list) and not value)
