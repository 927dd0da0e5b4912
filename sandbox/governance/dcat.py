"""Export the dataset catalog as DCAT-AP-DONL JSON-LD (``sandbox datasets export``).

Follows the DCAT-AP-DONL 2.0 draft of github.com/dataoverheid/dcat-ap-donl; where that
draft leaves something out, DCAT-AP-DONL 1.1 or DCAT-AP. Governance fields the profile
has no property for use the ``sandbox:`` extension (``SANDBOX_NS``). Every choice is
documented in docs/dcat-ap-donl.md. Pure: reads only the loaded model, never the files.

The output passes the DCAT-AP 3.0.1 core SHACL shapes (SEMICeu/DCAT-AP, checked in
tests/unit/test_dcat.py): every referenced node carries the class its property's range
asks for, every agent a foaf:name, and every URL is absolute (organisation.catalog_url).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from ..config.loader import LoadedCard, LoadedConfig
from ..config.model import DataCard, DataFile, LegalBasis, Organisation
from ..errors import ConfigError, Problem
from ..texts import text
from .policy import dataset_tier

JsonLd = dict[str, Any]

SANDBOX_NS = "urn:data-sandbox:terms:"  # our extension vocabulary (not part of the profile)
DONL_TERM = "https://dcat.overheid.nl/application-profile/donl/term/"
OWMS = "http://standaarden.overheid.nl/owms/terms/"
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
MEDIA_TYPE = "https://www.iana.org/assignments/media-types/"
LANGUAGE = "http://publications.europa.eu/resource/authority/language/"
# ISO 639-1 (the config's language) -> the EU language NAL DONL lists (taxonomy/languages.ttl)
LANGUAGES = {"nl": "NLD", "en": "ENG", "fy": "FRY", "de": "DEU"}
ISO_ROLE = "http://standards.iso.org/iso/19115/-3/cit/1.0#"

CONTEXT: JsonLd = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "donl": "https://data.overheid.nl/dcat.rdf#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "prov": "http://www.w3.org/ns/prov#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "spdx": "http://spdx.org/rdf/terms#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "sandbox": SANDBOX_NS,
}

# donl:AccessRights (taxonomy/access-rights.ttl); niet-publiek with personal data -> PRIVACY.
ACCESS_RIGHTS = {
    "publiek": "PUBLIEK",
    "onder-voorwaarden": "ONDER_VOORWAARDEN",
    "niet-publiek": "NIET_PUBLIEK",
}
# donl:License (taxonomy/licenses.ttl), keyed by SPDX id.
LICENSES = {
    "CC0-1.0": "http://creativecommons.org/publicdomain/zero/1.0/deed.nl",
    "CC-BY-3.0": "http://creativecommons.org/licenses/by/3.0/deed.nl",
    "CC-BY-4.0": "http://creativecommons.org/licenses/by/4.0/deed.nl",
    "CC-BY-NC-3.0": "http://creativecommons.org/licenses/by-nc/3.0/deed.nl",
    "CC-BY-NC-4.0": "http://creativecommons.org/licenses/by-nc/4.0/deed.nl",
    "CC-BY-SA-3.0": "http://creativecommons.org/licenses/by-sa/3.0/deed.nl",
    "CC-BY-SA-4.0": "http://creativecommons.org/licenses/by-sa/4.0/deed.nl",
    "proprietary": OWMS + "geslotenlicentie",
}
SPDX_LICENSE = "https://spdx.org/licenses/"  # fallback for SPDX ids outside donl:License
# overheid:TaxonomieBeleidsagenda top themes (plus a few aliases), keyed by theme slug.
THEMES = {
    "bestuur": "Bestuur",
    "cultuur-en-recreatie": "Cultuur_en_recreatie",
    "economie": "Economie",
    "financien": "Financien",
    "huisvesting": "Huisvesting_(thema)",
    "wonen": "Huisvesting_(thema)",
    "internationaal": "Internationaal",
    "landbouw": "Landbouw_(thema)",
    "migratie-en-integratie": "Migratie_en_integratie",
    "natuur-en-milieu": "Natuur_en_milieu",
    "onderwijs-en-wetenschap": "Onderwijs_en_wetenschap",
    "openbare-orde-en-veiligheid": "Openbare_orde_en_veiligheid",
    "recht": "Recht_(thema)",
    "ruimte-en-infrastructuur": "Ruimte_en_infrastructuur",
    "openbare-ruimte": "Ruimte_en_infrastructuur",
    "sociale-zekerheid": "Sociale_zekerheid",
    "verkeer": "Verkeer_(thema)",
    "werk": "Werk_(thema)",
    "zorg-en-gezondheid": "Zorg_en_gezondheid",
}
# extension -> (mdr:Filetype code, IANA media type)
FORMATS = {
    ".csv": ("CSV", "text/csv"),
    ".tsv": ("TSV", "text/tab-separated-values"),
    ".json": ("JSON", "application/json"),
    ".geojson": ("GEOJSON", "application/geo+json"),
    ".parquet": ("PARQUET", "application/vnd.apache.parquet"),
    ".xlsx": ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".xml": ("XML", "application/xml"),
    ".txt": ("TXT", "text/plain"),
    ".pdf": ("PDF", "application/pdf"),
    ".zip": ("ZIP", "application/zip"),
}
UNKNOWN_FORMAT = ("BIN", "application/octet-stream")
_WETTEN = re.compile(r"^https?://wetten\.overheid\.nl/(?:(jci[^/?#]+)|(BWBR\d{7}))")
_URL = re.compile(r"^https?://[^/]+/")


def catalog_jsonld(loaded: LoadedConfig, generated_at: datetime | None = None) -> JsonLd:
    """One JSON-LD document: an inline ``@context`` and the ``dcat:Catalog``.

    Raises ``ConfigError`` when ``organisation.catalog_url`` (the base of every URL in
    the export) is not set."""
    when = generated_at or datetime.now(UTC)
    organisation = loaded.config.organisation
    if not organisation.catalog_url:
        raise ConfigError(
            [
                loaded.doc.problem(
                    ("organisation",),
                    "catalog_url is not set: the DCAT-AP-DONL export needs it for the "
                    "identifiers and access URLs of the datasets",
                    "organisation.catalog_url",
                )
            ]
        )
    catalog = organisation.catalog_url.rstrip("/")
    lang = organisation.language
    written = "en" if lang == "en" else "nl"
    name = organisation.name
    node: JsonLd = {
        "@context": CONTEXT,
        "@id": catalog,
        "@type": "dcat:Catalog",
        "dct:identifier": _typed(catalog, "anyURI"),
        # our own words: English or Dutch (texts.py), tagged with the language written
        "dct:title": _text(text(written, "dcat_catalog_title", name=name), written),
        "dct:description": _text(text(written, "dcat_catalog_description", name=name), written),
        "dct:publisher": _organisation(organisation),
        "dct:language": _language(lang),
        "dct:modified": _typed(when.isoformat(timespec="seconds"), "dateTime"),
        "dcat:themeTaxonomy": {
            "@id": OWMS + "TaxonomieBeleidsagenda",
            "@type": "skos:ConceptScheme",
            "dct:title": _text("Taxonomie Beleidsagenda", "nl"),
        },
    }
    if organisation.website:
        node["foaf:homepage"] = {"@id": organisation.website, "@type": "foaf:Document"}
    node["dcat:dataset"] = [
        _dataset(loaded.cards[key].card, organisation, catalog) for key in sorted(loaded.cards)
    ]
    return node


def donl_problems(loaded: LoadedConfig) -> list[Problem]:
    """What in the data cards the export cannot express in DCAT-AP-DONL's value lists:
    ``sandbox validate`` shows these as warnings (the export still runs)."""
    found: list[Problem] = []
    for key in sorted(loaded.cards):
        found += _card_problems(loaded.cards[key], loaded.config.organisation)
    return found


def _card_problems(entry: LoadedCard, organisation: Organisation) -> list[Problem]:
    card, doc = entry.card, entry.doc
    found = [
        doc.problem(("themes", index), f"{theme!r} is no DONL theme; left out of dcat:theme")
        for index, theme in enumerate(card.themes)
        if theme not in THEMES
    ]
    if not any(theme in THEMES for theme in card.themes):
        known = ", ".join(sorted(THEMES))
        found.append(doc.problem(("themes",), f"DONL needs a theme; one of {known}"))
    if card.license not in LICENSES:
        known = ", ".join(LICENSES)
        found.append(
            doc.problem(("license",), f"{card.license!r} is not on DONL's licence list ({known})")
        )
    if not (card.publisher or organisation.tooi):
        found.append(
            doc.problem(
                ("publisher",), "no publisher: DONL needs one (set it, or organisation.tooi)"
            )
        )
    return found


def _dataset(card: DataCard, organisation: Organisation, catalog: str) -> JsonLd:
    page = f"{catalog}/{quote(card.id)}"
    languages = card.language or [organisation.language]
    lang = languages[0]
    publisher = _publisher(card, organisation)
    license_node = _license(card.license)
    node: JsonLd = {
        "@id": page,
        "@type": "dcat:Dataset",
        "dct:identifier": _typed(page, "anyURI"),
        "dct:title": _text(card.title, lang),
        "dct:description": _text(card.description.strip(), lang),
        "dct:language": [_language(code) for code in languages],
        "owl:versionInfo": card.version,
        "dct:license": license_node,
        "dct:accessRights": {"@id": access_rights_uri(card), "@type": "dct:RightsStatement"},
        "dct:publisher": publisher,
        "dct:creator": publisher,
        "dcat:contactPoint": _contact(card),
        "dcat:landingPage": {"@id": page, "@type": "foaf:Document"},
        "prov:qualifiedAttribution": [
            _attribution("owner", card.owner),
            _attribution("custodian", card.steward),
        ],
    }
    if card.issued:
        node["dct:issued"] = _typed(card.issued.isoformat(), "date")
    if card.modified:
        node["dct:modified"] = _typed(card.modified.isoformat(), "date")
    themes = dict.fromkeys(THEMES[t] for t in card.themes if t in THEMES)
    if themes:
        node["dcat:theme"] = [_theme(name) for name in themes]
    if card.themes:
        node["dcat:keyword"] = [_text(theme, lang) for theme in card.themes]
    if card.legal_basis:
        node["donl:grondslag"] = [_legal_foundation(basis) for basis in card.legal_basis]
    node.update(_governance(card))
    node["dcat:distribution"] = [
        _distribution(card, data_file, page, license_node, languages) for data_file in card.files
    ]
    return node


def _organisation(organisation: Organisation) -> JsonLd:
    """The organisation as a foaf:Agent: its TOOI IRI when it has one."""
    return {
        "@id": organisation.tooi or "_:organisation",
        "@type": "foaf:Agent",
        "foaf:name": organisation.name,
    }


def _publisher(card: DataCard, organisation: Organisation) -> JsonLd:
    """The card's publisher, else the organisation (by its TOOI id when set). A publisher
    other than the organisation is named by what the card says (its URI or its name)."""
    if not card.publisher or card.publisher == organisation.tooi:
        return _organisation(organisation)
    agent: JsonLd = {"@type": "foaf:Agent", "foaf:name": card.publisher}
    if _URL.match(card.publisher + "/"):
        agent["@id"] = card.publisher
    return agent


def license_uri(spdx_id: str) -> str:
    """donl:License concept for an SPDX id; other SPDX ids fall back to spdx.org."""
    return LICENSES.get(spdx_id) or SPDX_LICENSE + quote(spdx_id)


def access_rights_uri(card: DataCard) -> str:
    """donl:AccessRights concept; the more specific PRIVACY when personal data is the reason."""
    personal = card.personal_data
    identifiable = personal.identifiability in ("identifiable", "pseudonymised")
    if card.access_rights == "niet-publiek" and personal.present and identifiable:
        return DONL_TERM + "PRIVACY"
    return DONL_TERM + ACCESS_RIGHTS[card.access_rights]


def _governance(card: DataCard) -> JsonLd:
    """Fields DCAT-AP-DONL has no property for, in the ``sandbox:`` extension."""
    c, p, r = card.classification, card.personal_data, card.retention
    out: JsonLd = {
        "sandbox:tier": dataset_tier(card),
        "sandbox:purpose": list(card.purposes),
        "sandbox:rubricering": c.rubricering,
        "sandbox:beschikbaarheid": c.biv.beschikbaarheid,
        "sandbox:integriteit": c.biv.integriteit,
        "sandbox:vertrouwelijkheid": c.biv.vertrouwelijkheid,
        "sandbox:personalDataKind": p.kind,
        "sandbox:retentionPeriod": _typed(r.period, "duration"),
        "sandbox:retentionAction": r.action,
        "sandbox:retentionBasis": r.basis,
    }
    dpia, agreement = card.dpia, card.agreement
    optional = {
        "sandbox:identifiability": p.identifiability,
        "sandbox:specialCategory": list(p.special_categories),
        "sandbox:art9Exception": p.art9_exception,
        "sandbox:dpiaStatus": dpia and dpia.status,
        "sandbox:dpiaReference": dpia and dpia.reference,
        "sandbox:dpiaDate": dpia and dpia.date and _typed(dpia.date.isoformat(), "date"),
        "sandbox:agreementReference": agreement and agreement.reference,
        "sandbox:agreementValidUntil": agreement
        and _typed(agreement.valid_until.isoformat(), "date"),
    }
    out.update({key: value for key, value in optional.items() if value})
    return out


def _legal_foundation(basis: LegalBasis) -> JsonLd:
    """donl:LegalFoundation: title, legal domain (foaf:homepage) and Juriconnect code."""
    node: JsonLd = {
        "@type": "donl:LegalFoundation",
        "dct:title": basis.reference,
        "sandbox:lawfulBasis": basis.ground,
    }
    domain = _URL.match(basis.reference)
    if domain:
        node["foaf:homepage"] = _typed(domain.group(0), "anyURI")
    wetten = _WETTEN.match(basis.reference)
    if wetten:
        node["donl:juriconnectCode"] = wetten.group(1) or f"jci1.3:c:{wetten.group(2)}"
    return node


def _distribution(
    card: DataCard, data_file: DataFile, page: str, license_node: JsonLd, languages: Sequence[str]
) -> JsonLd:
    code, media = FORMATS.get(PurePosixPath(data_file.path).suffix.lower(), UNKNOWN_FORMAT)
    path = quote(data_file.path)
    node: JsonLd = {
        "@id": f"{page}#{path}",
        "@type": "dcat:Distribution",
        "dct:title": data_file.path,
        "dct:description": _text(f"{card.title}: {data_file.path}", languages[0]),
        "dcat:accessURL": {"@id": page},
        "dct:format": {"@id": FILE_TYPE + code, "@type": "dct:MediaTypeOrExtent"},
        "dcat:mediaType": {"@id": MEDIA_TYPE + media, "@type": "dct:MediaType"},
        "dct:license": license_node,
        "dct:language": [_language(code) for code in languages],
        "spdx:checksum": {
            "@type": "spdx:Checksum",
            "spdx:algorithm": {
                "@id": "spdx:checksumAlgorithm_sha256",
                "@type": "spdx:ChecksumAlgorithm",
            },
            "spdx:checksumValue": _typed(data_file.sha256, "hexBinary"),
        },
    }
    if card.access_rights == "publiek":  # only public files are downloadable
        node["dcat:downloadURL"] = {"@id": f"{page}/{path}"}
    return node


def _contact(card: DataCard) -> JsonLd:
    value = card.contact_point.strip()
    web = value.startswith(("http://", "https://"))
    key, iri = ("vcard:hasURL", value) if web else ("vcard:hasEmail", _mailto(value))
    return {
        "@type": ["vcard:Kind", "vcard:Organization"],
        "vcard:fn": card.owner,
        key: {"@id": iri},
    }


def _attribution(role: str, who: str) -> JsonLd:
    """prov:Attribution with a donl:Role (ISO 19115 CI_RoleCode); who is a name or an
    e-mail address, which then is the agent's name as well as its mailbox."""
    agent: JsonLd = {"@type": "foaf:Agent", "foaf:name": who}
    if "@" in who:
        agent["foaf:mbox"] = {"@id": _mailto(who)}
    return {
        "@type": "prov:Attribution",
        "prov:agent": agent,
        "dcat:hadRole": {"@id": ISO_ROLE + role},
    }


def _license(spdx_id: str) -> JsonLd:
    return {"@id": license_uri(spdx_id), "@type": "dct:LicenseDocument"}


def _language(code: str) -> JsonLd:
    return {"@id": LANGUAGE + LANGUAGES[code], "@type": "dct:LinguisticSystem"}


def _theme(name: str) -> JsonLd:
    """A TaxonomieBeleidsagenda concept; the list has no labels, so the label is its
    name without the '_(thema)' suffix."""
    label = name.removesuffix("_(thema)").replace("_", " ")
    return {"@id": OWMS + name, "@type": "skos:Concept", "skos:prefLabel": _text(label, "nl")}


def _text(value: str, lang: str) -> JsonLd:
    return {"@value": value, "@language": lang}


def _mailto(address: str) -> str:
    return address if address.startswith("mailto:") else "mailto:" + address


def _typed(value: str, xsd_type: str) -> JsonLd:
    return {"@value": value, "@type": f"xsd:{xsd_type}"}
