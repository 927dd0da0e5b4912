"""Export experiments in the Algoritmeregister publication standard 1.0.0.

``sandbox export algoritmeregister`` publishes the experiments that reached production
(``in_production``, and ``retired`` ones with an end date) as one JSON object each, in
the field names of the Dutch government's algorithm register. Pure: reads the given
registry views and loaded config, writes nothing.

The field rules below (names, required fields, maximum lengths, permitted values) are
taken from the standard's field configuration in github.com/MinBZK/Algoritmeregister,
``backend/app/schemas/config/v1_0_0.json`` at commit
fca0ce44a42ee51e79997d20c4285f89fcdb17d7 (standard version "1.0.0"). Later commits
replace it by ``v1_0.json`` (standard_version "1.0", description_short up to 400).
Nothing is truncated: a value that breaks a rule is kept and reported in ``problems``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from ..config.loader import LoadedConfig
from ..registry.lifecycle import ALGORITMEREGISTER_STATUS, Event, Experiment
from ..registry.store import ExperimentView

STANDARD_VERSION = "1.0.0"
EXPORTED_STATES = ("in_production", "retired")

# --- Rules of v1_0_0.json @ fca0ce44a42ee51e79997d20c4285f89fcdb17d7 -------------------
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
# "max_length" of every string field (number of characters).
MAX_LENGTH = {
    **dict.fromkeys(("begin_date", "end_date"), 7),
    **dict.fromkeys(("name", "organization", "source_id"), 100),
    "provider": 200,
    "description_short": 350,
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
    "publication_category": (
        "Hoog-risico AI-systeem",
        "Impactvolle algoritmes",
        "Overige algoritmes",
    ),
    "lang": ("nld",),
    "standard_version": ("1.0.0",),
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
MAX_ITEMS = {"category": 3}
# Array fields of {title, link} objects: both required; their "max_length" (None = no limit).
GROUPING_ITEMS: dict[str, dict[str, int | None]] = {
    "lawful_basis_grouping": {"title": 100, "link": 500},
    "impacttoetsen_grouping": {"title": None, "link": 500},
    "source_data_grouping": {"title": 500, "link": 500},
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
FIELDS = frozenset(
    [*REQUIRED, *MAX_LENGTH, *PERMITTED, *GROUPING_ITEMS, *SHOWN_ALWAYS, "standard_version"]
)
# "recommended_items" of impacttoetsen_grouping.title, spelled as in the schema.
DPIA_TITLE = "Data Protection Impact Asssesment (DPIA)"

# GDPR/AVG article 6(1) grounds, keyed by the data card's legal_basis.ground.
GROUNDS = {
    "consent": "AVG art. 6 lid 1 sub a (toestemming)",
    "contract": "AVG art. 6 lid 1 sub b (overeenkomst)",
    "legal-obligation": "AVG art. 6 lid 1 sub c (wettelijke verplichting)",
    "vital-interest": "AVG art. 6 lid 1 sub d (vitaal belang)",
    "public-task": "AVG art. 6 lid 1 sub e (taak van algemeen belang of openbaar gezag)",
    "legitimate-interest": "AVG art. 6 lid 1 sub f (gerechtvaardigd belang)",
}


@dataclass
class ExportResult:
    records: list[dict[str, Any]] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=dict)


def export(
    views: list[ExperimentView], loaded: LoadedConfig, provider: str | None = None
) -> ExportResult:
    """One register record per in_production/retired experiment, ordered by id."""
    result = ExportResult()
    chosen = sorted((v for v in views if v.state in EXPORTED_STATES), key=lambda v: v.experiment.id)
    for view in chosen:
        notes: list[str] = []
        record = _record(view, loaded, provider, notes)
        result.records.append(record)
        problems = notes + check(record)
        if problems:
            result.problems[view.experiment.id] = problems
    return result


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
        problems += _too_long(name, record.get(name), limit)
    for name, allowed in PERMITTED.items():
        value = record.get(name)
        for item in value if isinstance(value, list) else [] if value is None else [value]:
            if item not in allowed:
                problems.append(f"{name}: {item!r} is not one of {', '.join(allowed)}")
    for name, limit in MAX_ITEMS.items():
        if len(record.get(name) or []) > limit:
            problems.append(f"{name}: {len(record[name])} items, the standard allows {limit}")
    for name, parts in GROUPING_ITEMS.items():
        for index, item in enumerate(record.get(name) or []):
            for part, part_limit in parts.items():
                where = f"{name}[{index}].{part}"
                if _empty(item.get(part)):
                    problems.append(f"{where}: required by the standard, but empty")
                elif part_limit is not None:
                    problems += _too_long(where, item[part], part_limit)
    return problems


def _record(
    view: ExperimentView, loaded: LoadedConfig, provider: str | None, notes: list[str]
) -> dict[str, Any]:
    experiment = view.experiment
    organisation = loaded.config.organisation.name
    lawful_basis, basis_links = _legal(experiment, loaded, notes)
    cards, dpia = loaded.cards, experiment.dpia_reference.strip()
    record: dict[str, Any] = {
        "name": experiment.title,
        "description_short": experiment.description.strip() or experiment.title,
        "organization": organisation,
        "category": _categories(experiment, loaded),
        "status": ALGORITMEREGISTER_STATUS[view.state],
        "begin_date": _month(view.events, "in_production"),
        "end_date": _month(view.events, "retired"),
        "goal": experiment.purpose,
        "proportionality": experiment.proportionality,
        "human_intervention": experiment.human_intervention,
        "risks": experiment.risks,
        "lawful_basis": lawful_basis,
        "lawful_basis_grouping": basis_links,
        "impacttoetsen": _impact(experiment),
        "impacttoetsen_grouping": [{"title": DPIA_TITLE, "link": dpia}] if _is_link(dpia) else [],
        "source_data": "\n".join(
            f"{cards[d].card.title} ({d})" if d in cards else d for d in experiment.datasets
        ),
        "provider": provider if provider is not None else organisation,
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
    experiment: Experiment, loaded: LoadedConfig, notes: list[str]
) -> tuple[str, list[dict[str, str]]]:
    """The datasets' legal bases as text, and those with a URL as title/link pairs."""
    lines: list[str] = []
    links: dict[tuple[str, str], None] = {}
    for dataset in experiment.datasets:
        if dataset not in loaded.cards:
            notes.append(
                f"lawful_basis: dataset {dataset!r} has no data card; its basis is missing"
            )
            continue
        card = loaded.cards[dataset].card
        for basis in card.legal_basis:
            ground = GROUNDS.get(basis.ground, basis.ground)
            lines.append(f"{card.title} ({dataset}): {ground}; {basis.reference}")
            if _is_link(basis.reference):
                links[(ground, basis.reference)] = None
    return "\n".join(lines), [{"title": title, "link": link} for title, link in links]


def _impact(experiment: Experiment) -> str:
    reference = experiment.dpia_reference.strip()
    if reference:
        return f"{DPIA_TITLE}: {reference}"
    if not experiment.personal_data:
        return "Geen DPIA: het algoritme verwerkt geen persoonsgegevens."
    return ""


def _is_link(text: str) -> bool:
    return text.startswith(("https://", "http://"))


def _empty(value: Any) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value is None or (isinstance(value, list) and not value)


def _too_long(name: str, value: Any, limit: int) -> list[str]:
    if isinstance(value, str) and len(value) > limit:
        return [f"{name}: {len(value)} characters, the standard allows at most {limit}"]
    return []
