"""The DCAT-AP-DONL JSON-LD export (sandbox/governance/dcat.py) of the demo catalog,
read back as RDF, validated with the DCAT-AP 3.0.1 core SHACL shapes and checked against
DONL's value lists (tests/data/README.md names the sources)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from sandbox.config.loader import LoadedConfig, load_config
from sandbox.errors import ConfigError
from sandbox.governance.dcat import catalog_jsonld, donl_problems
from tests.dcat_shapes import dcat_ap_shapes, shacl_messages

# rdflib's JSON-LD parser still builds a ConjunctiveGraph internally
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")

CONFIG = Path(__file__).resolve().parents[2] / "config" / "sandbox.yaml"
DATA = Path(__file__).resolve().parents[1] / "data"
CATALOG = "https://data.voorbeeld.nl/datasets"  # the demo's organisation.catalog_url
TOOI = "https://identifier.overheid.nl/tooi/id/gemeente/gm9999"
WHEN = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
SPDX = Namespace("http://spdx.org/rdf/terms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
DONL = Namespace("https://data.overheid.nl/dcat.rdf#")
OWL = Namespace("http://www.w3.org/2002/07/owl#")
SANDBOX = Namespace("urn:data-sandbox:terms:")
TERM = "https://dcat.overheid.nl/application-profile/donl/term/"

EXPECTED = {  # id -> (access rights concept, license IRI)
    "cbs-wijken-2024": (
        TERM + "PUBLIEK",
        "http://creativecommons.org/licenses/by/4.0/deed.nl",
    ),
    "meldingen-openbare-ruimte-2024": (
        TERM + "NIET_PUBLIEK",
        "http://standaarden.overheid.nl/owms/terms/geslotenlicentie",
    ),
    "woz-2024": (
        TERM + "PRIVACY",  # not public because of (pseudonymised) personal data
        "http://standaarden.overheid.nl/owms/terms/geslotenlicentie",
    ),
}


@pytest.fixture(scope="module")
def loaded() -> LoadedConfig:
    return load_config(CONFIG)


@pytest.fixture(scope="module")
def document(loaded: LoadedConfig) -> dict[str, Any]:
    return catalog_jsonld(loaded, generated_at=WHEN)


@pytest.fixture(scope="module")
def graph(document: dict[str, Any]) -> Graph:
    return Graph().parse(data=json.dumps(document), format="json-ld")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return dcat_ap_shapes()


def one(graph: Graph, subject: Node, predicate: URIRef) -> Node:
    values = list(graph.objects(subject, predicate))
    assert len(values) == 1, f"{subject} {predicate}: {values}"
    return values[0]


def dataset_node(graph: Graph, identifier: str) -> Node:
    iri = Literal(f"{CATALOG}/{identifier}", datatype=XSD.anyURI)
    subjects = list(graph.subjects(DCT.identifier, iri))
    assert len(subjects) == 1, identifier
    assert (subjects[0], RDF.type, DCAT.Dataset) in graph
    return subjects[0]


def test_context_is_inline_and_parses_into_triples(document: dict[str, Any], graph: Graph):
    context = document["@context"]
    assert isinstance(context, dict)
    assert all(isinstance(v, str) for v in context.values())  # prefixes only, nothing remote
    assert "@import" not in context
    assert len(graph) > 100


def test_catalog_lists_every_card_in_order(loaded: LoadedConfig, document, graph: Graph):
    catalogs = list(graph.subjects(RDF.type, DCAT.Catalog))
    assert len(catalogs) == 1
    publisher = one(graph, catalogs[0], DCT.publisher)
    assert one(graph, publisher, URIRef("http://xmlns.com/foaf/0.1/name")) == Literal(
        "Gemeente Voorbeeld"
    )
    listed = [d["@id"].removeprefix(CATALOG + "/") for d in document["dcat:dataset"]]
    assert listed == sorted(loaded.cards) == sorted(EXPECTED)
    assert publisher == URIRef(TOOI)  # organisation.tooi
    assert len(list(graph.objects(catalogs[0], DCAT.dataset))) == len(EXPECTED)
    modified = one(graph, catalogs[0], DCT.modified)
    assert modified == Literal("2026-06-01T12:00:00+00:00", datatype=XSD.dateTime)


@pytest.mark.parametrize("identifier", sorted(EXPECTED))
def test_dataset_core_properties(loaded: LoadedConfig, graph: Graph, identifier: str):
    card = loaded.cards[identifier].card
    node = dataset_node(graph, identifier)
    access_rights, license_iri = EXPECTED[identifier]
    assert one(graph, node, DCT.title) == Literal(card.title, lang="nl")
    assert one(graph, node, DCT.language) == URIRef(
        "http://publications.europa.eu/resource/authority/language/NLD"
    )
    assert one(graph, node, DCT.issued) == Literal(card.issued.isoformat(), datatype=XSD.date)
    assert one(graph, node, DCT.modified) == Literal(card.modified.isoformat(), datatype=XSD.date)
    assert one(graph, node, DCT.publisher) == URIRef(TOOI)
    assert one(graph, node, OWL.versionInfo) == Literal(card.version)
    assert one(graph, node, DCT.accessRights) == URIRef(access_rights)
    assert one(graph, node, DCT.license) == URIRef(license_iri)
    contact = one(graph, node, DCAT.contactPoint)
    assert one(graph, contact, VCARD.hasEmail) == URIRef("mailto:" + card.contact_point)
    assert one(graph, contact, VCARD.fn) == Literal(card.owner)
    assert set(graph.objects(node, DCAT.keyword)) == {Literal(t, lang="nl") for t in card.themes}
    assert set(graph.objects(node, SANDBOX.purpose)) == {Literal(p) for p in card.purposes}
    assert one(graph, node, SANDBOX.rubricering) == Literal("ongerubriceerd")
    assert one(graph, node, SANDBOX.personalDataKind) == Literal(card.personal_data.kind)
    assert one(graph, node, SANDBOX.retentionPeriod) == Literal(
        card.retention.period, datatype=XSD.duration
    )


def _in_english(loaded: LoadedConfig, by: str) -> Graph:
    """The demo catalog with woz-2024 in English: said by its card (``by="card"``), or
    by the organisation for a card that names no language (``by="organisation"``)."""
    woz = loaded.cards["woz-2024"]
    organisation = loaded.config.organisation
    if by == "card":
        card = woz.card.model_copy(update={"language": ["en"]})
    else:
        card = woz.card.model_copy(update={"language": []})
        organisation = organisation.model_copy(update={"language": "en"})
    config = dataclasses.replace(
        loaded,
        config=loaded.config.model_copy(update={"organisation": organisation}),
        cards={**loaded.cards, "woz-2024": dataclasses.replace(woz, card=card)},
    )
    return Graph().parse(
        data=json.dumps(catalog_jsonld(config, generated_at=WHEN)), format="json-ld"
    )


@pytest.mark.parametrize("by", ["card", "organisation"])
def test_english_metadata_has_en_literals_and_the_eng_language(
    loaded: LoadedConfig, shapes: Graph, by: str
):
    graph = _in_english(loaded, by)
    card = loaded.cards["woz-2024"].card
    node = dataset_node(graph, "woz-2024")
    english = URIRef("http://publications.europa.eu/resource/authority/language/ENG")
    assert one(graph, node, DCT.title) == Literal(card.title, lang="en")
    assert one(graph, node, DCT.description) == Literal(card.description.strip(), lang="en")
    assert set(graph.objects(node, DCAT.keyword)) == {Literal(t, lang="en") for t in card.themes}
    assert one(graph, node, DCT.language) == english
    assert "ENG" in {i.rsplit("/", 1)[1] for i in _concepts("languages.ttl")}  # on DONL's list
    distribution = one(graph, node, DCAT.distribution)
    assert one(graph, distribution, DCT.language) == english
    assert one(graph, distribution, DCT.description).language == "en"
    # a Dutch card beside it keeps its own language
    wijken = dataset_node(graph, "cbs-wijken-2024")
    assert one(graph, wijken, DCT.title).language == "nl"
    assert str(one(graph, wijken, DCT.language)).endswith("/NLD")
    assert shacl_messages(graph, shapes) == []


@pytest.mark.parametrize(
    "language, title, tag",
    [("en", "Data catalog", "en"), ("nl", "Datacatalogus", "nl"), ("de", "Datacatalogus", "nl")],
)
def test_the_catalogs_own_words_are_tagged_with_the_language_they_are_in(
    loaded: LoadedConfig, language: str, title: str, tag: str
):
    """The catalog's title and description are ours, in English or Dutch: tagged
    with the language they are written in, whatever the organisation's is."""
    organisation = loaded.config.organisation.model_copy(update={"language": language})
    config = dataclasses.replace(
        loaded, config=loaded.config.model_copy(update={"organisation": organisation})
    )
    graph = Graph().parse(
        data=json.dumps(catalog_jsonld(config, generated_at=WHEN)), format="json-ld"
    )
    catalog = URIRef(CATALOG)
    name = loaded.config.organisation.name
    assert one(graph, catalog, DCT.title) == Literal(f"{title} {name}", lang=tag)
    assert one(graph, catalog, DCT.description).language == tag


@pytest.mark.parametrize("identifier", sorted(EXPECTED))
def test_distribution_per_file_with_sha256(loaded: LoadedConfig, graph: Graph, identifier: str):
    card = loaded.cards[identifier].card
    node = dataset_node(graph, identifier)
    distributions = list(graph.objects(node, DCAT.distribution))
    assert len(distributions) == len(card.files) == 1
    dist, data_file = distributions[0], card.files[0]
    assert one(graph, dist, DCAT.accessURL) == URIRef(f"{CATALOG}/{card.id}")
    downloads = list(graph.objects(dist, DCAT.downloadURL))
    if card.access_rights == "publiek":
        assert downloads == [URIRef(f"{CATALOG}/{card.id}/{data_file.path}")]
    else:
        assert downloads == []  # not public: there is nothing to download
    assert one(graph, dist, DCT["format"]) == URIRef(
        "http://publications.europa.eu/resource/authority/file-type/CSV"
    )
    assert one(graph, dist, DCAT.mediaType) == URIRef(
        "https://www.iana.org/assignments/media-types/text/csv"
    )
    assert one(graph, dist, DCT.license) == URIRef(EXPECTED[identifier][1])
    checksum = one(graph, dist, SPDX.checksum)
    assert (checksum, RDF.type, SPDX.Checksum) in graph
    assert one(graph, checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
    assert one(graph, checksum, SPDX.checksumValue) == Literal(
        data_file.sha256, datatype=XSD.hexBinary
    )


def test_themes_and_legal_foundation(graph: Graph):
    owms = "http://standaarden.overheid.nl/owms/terms/"
    wijken = dataset_node(graph, "cbs-wijken-2024")
    assert set(graph.objects(wijken, DCAT.theme)) == {
        URIRef(owms + "Huisvesting_(thema)"),
        URIRef(owms + "Bestuur"),
    }
    assert not list(graph.objects(wijken, DONL.grondslag))
    woz = dataset_node(graph, "woz-2024")
    foundation = one(graph, woz, DONL.grondslag)
    assert one(graph, foundation, DONL.juriconnectCode) == Literal("jci1.3:c:BWBR0007119")
    assert one(graph, foundation, SANDBOX.lawfulBasis) == Literal("public-task")
    assert one(graph, woz, SANDBOX.identifiability) == Literal("pseudonymised")
    assert one(graph, woz, SANDBOX.tier) == Literal(2)


def test_deterministic_for_fixed_time(loaded: LoadedConfig):
    first = json.dumps(catalog_jsonld(loaded, generated_at=WHEN), sort_keys=False)
    second = json.dumps(catalog_jsonld(loaded, generated_at=WHEN), sort_keys=False)
    assert first == second
    later = catalog_jsonld(loaded, generated_at=datetime(2027, 1, 1, tzinfo=UTC))
    assert json.dumps(later) != first


def test_fallbacks_for_values_outside_the_profile_lists(loaded: LoadedConfig):
    woz = loaded.cards["woz-2024"]
    card = woz.card.model_copy(
        update={
            "license": "MIT",
            "themes": ["wonen", "huisvesting", "eigen-thema"],
            "personal_data": woz.card.personal_data.model_copy(
                update={"identifiability": "anonymous"}
            ),
            "legal_basis": [
                woz.card.legal_basis[0].model_copy(update={"reference": "Verordening 2024"})
            ],
            "files": [woz.card.files[0].model_copy(update={"path": "sub dir/data.xyz"})],
        }
    )
    config = dataclasses.replace(loaded, cards={"woz-2024": dataclasses.replace(woz, card=card)})
    graph = Graph().parse(
        data=json.dumps(catalog_jsonld(config, generated_at=WHEN)), format="json-ld"
    )
    node = dataset_node(graph, "woz-2024")
    assert one(graph, node, DCT.license) == URIRef("https://spdx.org/licenses/MIT")
    assert one(graph, node, DCT.accessRights) == URIRef(TERM + "NIET_PUBLIEK")
    theme = one(graph, node, DCAT.theme)  # wonen and huisvesting are the same OWMS theme
    assert theme == URIRef("http://standaarden.overheid.nl/owms/terms/Huisvesting_(thema)")
    assert Literal("eigen-thema", lang="nl") in set(graph.objects(node, DCAT.keyword))
    foundation = one(graph, node, DONL.grondslag)
    assert one(graph, foundation, DCT.title) == Literal("Verordening 2024")
    assert not list(graph.objects(foundation, DONL.juriconnectCode))
    dist = one(graph, node, DCAT.distribution)
    assert dist == URIRef(f"{CATALOG}/woz-2024#sub%20dir/data.xyz")
    assert one(graph, dist, DCT["format"]) == URIRef(
        "http://publications.europa.eu/resource/authority/file-type/BIN"
    )


# ------------------------------------------------ DCAT-AP 3.0.1 shapes, DONL value lists


def test_the_demo_catalog_conforms_to_the_dcat_ap_3_0_1_shapes(graph: Graph, shapes: Graph):
    assert shacl_messages(graph, shapes) == []


def test_the_shapes_catch_an_unnamed_agent_and_an_untyped_licence(
    document: dict[str, Any], shapes: Graph
):
    broken = json.loads(json.dumps(document))
    dataset = broken["dcat:dataset"][0]
    del dataset["prov:qualifiedAttribution"][1]["prov:agent"]["foaf:name"]
    untyped = {"@id": "https://example.org/licence"}  # not a dct:LicenseDocument
    dataset["dcat:distribution"][0]["dct:license"] = untyped
    messages = shacl_messages(Graph().parse(data=json.dumps(broken), format="json-ld"), shapes)
    assert len(messages) == 2
    assert any("foaf:name" in m for m in messages)
    assert any("LicenseDocument" in m for m in messages)


def test_every_url_is_absolute_https(graph: Graph):
    iris = {t for triple in graph for t in triple if isinstance(t, URIRef)}
    ours = {str(i) for i in iris if str(i).startswith("https://data.voorbeeld.nl/")}
    assert ours and not any(str(i).startswith("file:") for i in iris)
    for predicate in (DCAT.accessURL, DCAT.downloadURL, DCAT.landingPage):
        assert all(str(o).startswith("https://") for o in graph.objects(None, predicate))


def _concepts(name: str) -> set[str]:
    scheme = Graph().parse(DATA / "donl" / name, format="turtle")
    skos = Namespace("http://www.w3.org/2004/02/skos/core#")
    return {str(o) for o in scheme.objects(None, skos.hasTopConcept)}


def test_licences_languages_access_rights_and_themes_are_on_donl_lists(graph: Graph):
    licences = _concepts("licenses.ttl")
    assert {str(o) for o in graph.objects(None, DCT.license)} <= licences
    languages = {i.rsplit("/", 1)[1] for i in _concepts("languages.ttl")}  # the list says https
    used = {str(o) for o in graph.objects(None, DCT.language)}
    assert {i.rsplit("/", 1)[1] for i in used} <= languages
    assert all(
        i.startswith("http://publications.europa.eu/resource/authority/language/") for i in used
    )
    rights = _concepts("access-rights.ttl")
    assert {str(o) for o in graph.objects(None, DCT.accessRights)} <= rights
    hierarchy = json.loads((DATA / "donl" / "hierarchy_theme.json").read_text())
    themes = set(hierarchy) | {p for v in hierarchy.values() for e in v for p in e.split("|")}
    assert len(themes) == 110
    used_themes = {str(o) for o in graph.objects(None, DCAT.theme)}
    assert used_themes and used_themes <= themes


def test_every_mapped_theme_and_licence_is_on_the_donl_lists():
    from sandbox.governance import dcat

    hierarchy = json.loads((DATA / "donl" / "hierarchy_theme.json").read_text())
    themes = set(hierarchy) | {p for v in hierarchy.values() for e in v for p in e.split("|")}
    assert {dcat.OWMS + name for name in dcat.THEMES.values()} <= themes
    assert set(dcat.LICENSES.values()) <= _concepts("licenses.ttl")


def test_validate_warns_for_what_donl_cannot_take(loaded: LoadedConfig):
    assert donl_problems(loaded) == []  # the demo cards fit
    woz = loaded.cards["woz-2024"]
    card = woz.card.model_copy(update={"license": "MIT", "themes": ["eigen-thema"]})
    organisation = loaded.config.organisation.model_copy(update={"tooi": None})
    config = dataclasses.replace(
        loaded,
        config=loaded.config.model_copy(update={"organisation": organisation}),
        cards={
            "woz-2024": dataclasses.replace(woz, card=card.model_copy(update={"publisher": None}))
        },
    )
    messages = [(p.key, p.message) for p in donl_problems(config)]
    assert [key for key, _ in messages] == ["themes[0]", "themes", "license", "publisher"]
    assert "'eigen-thema' is no DONL theme" in messages[0][1]
    assert "'MIT' is not on DONL's licence list" in messages[2][1]
    assert all(p.file.endswith("woz-2024.yaml") and p.line for p in donl_problems(config))
    # the export still runs: the organisation, by name, is the publisher
    document = catalog_jsonld(config, generated_at=WHEN)
    publisher = document["dcat:dataset"][0]["dct:publisher"]
    assert publisher == {
        "@id": "_:organisation",
        "@type": "foaf:Agent",
        "foaf:name": "Gemeente Voorbeeld",
    }


def test_the_export_needs_the_catalog_url(loaded: LoadedConfig):
    organisation = loaded.config.organisation.model_copy(update={"catalog_url": None})
    config = dataclasses.replace(
        loaded, config=loaded.config.model_copy(update={"organisation": organisation})
    )
    with pytest.raises(ConfigError, match=r"sandbox\.yaml:\d+: organisation\.catalog_url"):
        catalog_jsonld(config)
