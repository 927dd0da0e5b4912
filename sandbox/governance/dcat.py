"""Export the dataset catalog as DCAT-AP-DONL JSON-LD (``sandbox datasets export``).

Follows the DCAT-AP-DONL 2.0 draft of github.com/dataoverheid/dcat-ap-donl; where that
draft leaves something out, DCAT-AP-DONL 1.1 or DCAT-AP. Governance fields the profile
has no property for use the ``sandbox:`` extension (``SANDBOX_NS``). Every choice is
documented in docs/dcat-ap-donl.md. Pure: reads only the loaded model, never the files.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from ..config.loader import LoadedConfig
from ..config.model import DataCard, DataFile, LegalBasis
from .policy import dataset_tier

JsonLd = dict[str, Any]

SANDBOX_NS = "urn:data-sandbox:terms:"  # our extension vocabulary (not part of the profile)
RESOURCE_NS = "urn:data-sandbox:"  # IRIs of the catalog, datasets and distributions
DONL_TERM = "https://dcat.overheid.nl/application-profile/donl/term/"
OWMS = "http://standaarden.overheid.nl/owms/terms/"
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
MEDIA_TYPE = "https://www.iana.org/assignments/media-types/"
ISO_ROLE = "http://standards.iso.org/iso/19115/-3/cit/1.0#"

CONTEXT: JsonLd = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "donl": "https://data.overheid.nl/dcat.rdf#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "prov": "http://www.w3.org/ns/prov#",
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
    """One JSON-LD document: an inline ``@context`` and the ``dcat:Catalog``."""
    when = generated_at or datetime.now(UTC)
    org = loaded.config.organisation.name
    organisation: JsonLd = {"@id": "_:organisation", "@type": "foaf:Agent", "foaf:name": org}
    slug = re.sub(r"[^a-z0-9]+", "-", org.lower()).strip("-") or "organisation"
    datasets_dir = loaded.config.datasets.rstrip("/") + "/"
    return {
        "@context": CONTEXT,
        "@id": f"{RESOURCE_NS}catalog:{slug}",
        "@type": "dcat:Catalog",
        "dct:identifier": f"{RESOURCE_NS}catalog:{slug}",
        "dct:title": f"Datacatalogus {org}",
        "dct:description": f"Gecureerde datasets voor de data-sandboxes van {org}.",
        "dct:publisher": organisation,
        "dct:modified": _typed(when.isoformat(timespec="seconds"), "dateTime"),
        "dcat:themeTaxonomy": {"@id": OWMS + "TaxonomieBeleidsagenda"},
        "dcat:dataset": [
            _dataset(loaded.cards[key].card, datasets_dir) for key in sorted(loaded.cards)
        ],
    }


def _dataset(card: DataCard, datasets_dir: str) -> JsonLd:
    publisher = {"@id": card.publisher} if card.publisher else {"@id": "_:organisation"}
    license_iri = license_uri(card.license)
    node: JsonLd = {
        "@id": f"{RESOURCE_NS}dataset:{card.id}",
        "@type": "dcat:Dataset",
        "dct:identifier": card.id,
        "dct:title": card.title,
        "dct:description": card.description.strip(),
        "owl:versionInfo": card.version,
        "dct:license": {"@id": license_iri},
        "dct:accessRights": {"@id": access_rights_uri(card)},
        "dct:publisher": publisher,
        "dct:creator": publisher,
        "dcat:contactPoint": _contact(card),
        "prov:qualifiedAttribution": [
            _attribution("owner", card.owner),
            _attribution("custodian", card.steward),
        ],
    }
    themes = dict.fromkeys(OWMS + THEMES[t] for t in card.themes if t in THEMES)
    if themes:
        node["dcat:theme"] = [{"@id": iri} for iri in themes]
    if card.themes:
        node["dcat:keyword"] = list(card.themes)
    if card.legal_basis:
        node["donl:grondslag"] = [_legal_foundation(basis) for basis in card.legal_basis]
    node.update(_governance(card))
    folder = f"{datasets_dir}{card.id}/"
    node["dcat:distribution"] = [_distribution(card, f, folder, license_iri) for f in card.files]
    return node


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


def _distribution(card: DataCard, data_file: DataFile, folder: str, license_iri: str) -> JsonLd:
    code, media = FORMATS.get(PurePosixPath(data_file.path).suffix.lower(), UNKNOWN_FORMAT)
    relative = quote(folder + data_file.path)  # resolved against sandbox.yaml's folder
    return {
        "@id": f"{RESOURCE_NS}dataset:{card.id}:file:{quote(data_file.path)}",
        "@type": "dcat:Distribution",
        "dct:title": data_file.path,
        "dct:description": f"{card.title}: {data_file.path}",
        "dcat:accessURL": {"@id": relative},
        "dcat:downloadURL": {"@id": relative},
        "dct:format": {"@id": FILE_TYPE + code},
        "dcat:mediaType": {"@id": MEDIA_TYPE + media},
        "dct:license": {"@id": license_iri},
        "spdx:checksum": {
            "@type": "spdx:Checksum",
            "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256"},
            "spdx:checksumValue": _typed(data_file.sha256, "hexBinary"),
        },
    }


def _contact(card: DataCard) -> JsonLd:
    value = card.contact_point.strip()
    web = value.startswith(("http://", "https://"))
    key, iri = ("vcard:hasURL", value) if web else ("vcard:hasEmail", _mailto(value))
    return {"@type": "vcard:Organization", "vcard:fn": card.owner, key: {"@id": iri}}


def _attribution(role: str, who: str) -> JsonLd:
    """prov:Attribution with a donl:Role (ISO 19115 CI_RoleCode); who is a name or e-mail."""
    agent: JsonLd = {"@type": "foaf:Agent"}
    if "@" in who:
        agent["foaf:mbox"] = {"@id": _mailto(who)}
    else:
        agent["foaf:name"] = who
    return {
        "@type": "prov:Attribution",
        "prov:agent": agent,
        "dcat:hadRole": {"@id": ISO_ROLE + role},
    }


def _mailto(address: str) -> str:
    return address if address.startswith("mailto:") else "mailto:" + address


def _typed(value: str, xsd_type: str) -> JsonLd:
    return {"@value": value, "@type": f"xsd:{xsd_type}"}
