"""What travels with a staged dataset: DATACARD.md (for people) and
datapackage.json (a Frictionless Data Package, for tools), built from data cards
loaded by the real loader or validated by the real model. Pipes and line
breaks in values, duplicate file names and YAML dates in a schema once broke
them."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from sandbox.config.loader import load_config
from sandbox.config.model import DataCard
from sandbox.governance.datacard import TIER_MEANING, data_package, render_markdown
from sandbox.governance.quality import DatasetQuality, FileQuality

PROJECT = Path(__file__).resolve().parents[2]
SHA_A, SHA_B = "a" * 64, "b" * 64
GOVERNANCE_KEYS = {
    "owner",
    "steward",
    "contact_point",
    "publisher",
    "access_rights",
    "classification",
    "personal_data",
    "legal_basis",
    "purposes",
    "dpia",
    "retention",
    "agreement",
}
# the rows of the key/value table, in order
LABELS = [
    "Version",
    "Tier",
    "Owner",
    "Steward",
    "Contact",
    "Publisher",
    "License",
    "Access rights",
    "Purposes (doelbinding)",
    "Classification",
    "Personal data",
    "Legal basis",
    "DPIA",
    "Retention",
    "Agreement",
]
# Frictionless: a resource name is lower case, digits and - . _ / only
RESOURCE_NAME = re.compile(r"^[-a-z0-9._/]+$")

# A small card without personal data; tests change what they need.
BASE: dict[str, Any] = {
    "id": "test-card",
    "title": "Test card",
    "description": "  A card for tests.\n",
    "version": "1.0",
    "owner": "Team Test",
    "steward": "steward@example.org",
    "contact_point": "data@example.org",
    "license": "CC-BY-4.0",
    "access_rights": "niet-publiek",
    "classification": {
        "rubricering": "ongerubriceerd",
        "biv": {"beschikbaarheid": "laag", "integriteit": "midden", "vertrouwelijkheid": "hoog"},
    },
    "personal_data": {"kind": "none"},
    "purposes": ["policy-research"],
    "retention": {"period": "P1Y", "action": "destroy", "basis": "Selectielijst 1.1"},
    "files": [{"path": "data.csv", "sha256": SHA_A}],
}


def card(**changes: Any) -> DataCard:
    return DataCard.model_validate({**copy.deepcopy(BASE), **changes})


def copy_config(target: Path) -> Path:
    """A copy of the demo config/ (sandbox.yaml, data cards and their files)."""
    shutil.copytree(PROJECT / "config", target)
    return target / "sandbox.yaml"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict[str, DataCard]:
    """The demo organisation's data cards, through the real loader (checksums verified)."""
    loaded = load_config(copy_config(tmp_path_factory.mktemp("demo") / "config"))
    return {i: c.card for i, c in loaded.cards.items()}


def quality(*files: FileQuality, dataset: str = "woz-2024") -> dict[str, Any]:
    """A quality result as quality.check_dataset returns it (without running frictionless)."""
    return DatasetQuality(dataset, tuple(files)).as_dict()


WOZ_QUALITY = quality(
    FileQuality(
        "woz-2024.csv",
        checked=True,
        valid=True,
        rows=1200,
        fields=("object_id", "eigenaar_pseudoniem", "wijk_code"),
        pii_fields=("eigenaar_pseudoniem",),
    )
)


# ------------------------------------------------------------ reading Markdown tables

SEPARATOR = re.compile(r"(?<!\\)\|")


def unescape(cell: str) -> str:
    """A cell's text as a reader sees it: escaped pipes and line breaks undone."""
    text = cell.replace("\\|", "|").replace("&#124;", "|").replace("&vert;", "|")
    text = re.sub(r"<br\s*/?>", " ", text)
    return " ".join(text.split())


def tables(markdown: str) -> list[list[list[str]]]:
    """Every table: its rows as cells (the delimiter row left out). Asserts that each
    table is well formed: every line up to the blank line after it is a row with as
    many cells as its header."""
    lines = markdown.split("\n")
    found = []
    for index, line in enumerate(lines[:-1]):
        if not re.fullmatch(r"\|(-+\|)+", lines[index + 1]):
            continue
        width = len(SEPARATOR.findall(line))
        rows = [line]
        for row in lines[index + 2 :]:
            if not row:
                break
            rows.append(row)
        for row in rows:
            assert row.startswith("|") and row.endswith("|"), f"broken row: {row!r}"
            assert len(SEPARATOR.findall(row)) == width, f"wrong cell count: {row!r}"
        found.append([[unescape(c) for c in SEPARATOR.split(row)[1:-1]] for row in rows])
    return found


def facts(markdown: str) -> dict[str, str]:
    """The key/value table of a card: label -> value (all rows present, in order)."""
    table = tables(markdown)[0]
    assert [row[0] for row in table[1:]] == LABELS
    return {label: value for label, value in table[1:]}


# ------------------------------------------------------------ DATACARD.md


def test_the_markdown_card_carries_the_governance_of_the_woz_card(demo):
    markdown = render_markdown(demo["woz-2024"], WOZ_QUALITY)
    lines = markdown.split("\n")
    assert lines[0] == "# WOZ-waarden 2024"
    assert lines[2].startswith("WOZ-waarden (Wet WOZ) per object")
    assert lines[2].endswith("Synthetische demodata.")  # the folded description, stripped
    assert facts(markdown) == {
        "Version": "2024.1",
        "Tier": "2 (pseudonymised personal data)",
        "Owner": "Afdeling Belastingen",
        "Steward": "j.jansen@voorbeeld.nl",
        "Contact": "data@voorbeeld.nl",
        "Publisher": "https://identifier.overheid.nl/tooi/id/gemeente/gm9999",
        "License": "proprietary",
        "Access rights": "niet-publiek",
        "Purposes (doelbinding)": "policy-research, valuation",
        "Classification": "ongerubriceerd; BIV midden/midden/hoog",
        "Personal data": "regular, pseudonymised",
        "Legal basis": "public-task (https://wetten.overheid.nl/BWBR0007119)",
        "DPIA": "done DPIA-2024-07",
        "Retention": "P7Y, then destroy (Selectielijst gemeenten 2020, 1.1.1)",
        "Agreement": "GLP-2024-12, valid until 2027-06-30",
    }
    files = tables(markdown)[1]
    assert files == [
        ["file", "sha256"],
        ["woz-2024.csv", "`8c53c5d0be2d7a443138fad6fad883c9699f5b3d546770c62b06f6148a840139`"],
    ]
    assert "- woz-2024.csv: 1200 rows, valid" in lines
    assert "This folder is read-only. Use the data only for the purposes above" in markdown
    assert markdown.endswith("\n")


@pytest.mark.parametrize(
    "dataset, tier",
    [("cbs-wijken-2024", 0), ("meldingen-openbare-ruimte-2024", 1), ("woz-2024", 2)],
)
def test_the_tier_of_each_demo_card(demo, dataset, tier):
    assert facts(render_markdown(demo[dataset]))["Tier"] == f"{tier} ({TIER_MEANING[tier]})"
    assert data_package(demo[dataset])["sandbox:tier"] == tier


def test_a_card_without_personal_data(demo):
    cbs = demo["cbs-wijken-2024"]
    shown = facts(render_markdown(cbs))
    assert shown["Personal data"] == "none"
    assert shown["Legal basis"] == shown["DPIA"] == shown["Agreement"] == "-"
    assert shown["Access rights"] == "publiek" and shown["License"] == "CC-BY-4.0"
    assert shown["Retention"] == "P10Y, then transfer (Selectielijst gemeenten 2020, 1.2)"
    governance = data_package(cbs)["sandbox:governance"]
    assert governance["personal_data"] == {
        "kind": "none",
        "identifiability": None,
        "special_categories": [],
        "art9_exception": None,
    }
    assert governance["legal_basis"] == []
    assert governance["dpia"] is None and governance["agreement"] is None


def test_special_categories_and_several_legal_bases():
    special = card(
        personal_data={
            "kind": "special",
            "identifiability": "identifiable",
            "special_categories": ["health", "religion"],
            "art9_exception": "art. 9(2)(g) AVG",
        },
        legal_basis=[
            {"ground": "public-task", "reference": "Wmo 2015, art. 2.1.1"},
            {"ground": "legal-obligation", "reference": "Jeugdwet, art. 7.4.0"},
        ],
        dpia={"status": "done", "reference": "DPIA-9", "date": "2025-02-01"},
    )
    shown = facts(render_markdown(special))
    assert shown["Tier"] == "3 (identifiable or special personal data)"
    assert shown["Personal data"] == "special, identifiable, categories: health, religion"
    assert shown["Legal basis"] == (
        "public-task (Wmo 2015, art. 2.1.1); legal-obligation (Jeugdwet, art. 7.4.0)"
    )
    assert shown["DPIA"] == "done DPIA-9"
    governance = data_package(special)["sandbox:governance"]
    assert governance["personal_data"]["special_categories"] == ["health", "religion"]
    assert governance["personal_data"]["art9_exception"] == "art. 9(2)(g) AVG"
    assert governance["dpia"] == {"status": "done", "reference": "DPIA-9", "date": "2025-02-01"}
    assert [b["ground"] for b in governance["legal_basis"]] == ["public-task", "legal-obligation"]


def test_a_classified_card_is_tier_4():
    classified = card(
        classification={
            "rubricering": "dep-vertrouwelijk",
            "biv": {"beschikbaarheid": "hoog", "integriteit": "hoog", "vertrouwelijkheid": "hoog"},
        }
    )
    shown = facts(render_markdown(classified))
    assert shown["Tier"] == "4 (classified: never in a sandbox)"
    assert shown["Classification"] == "dep-vertrouwelijk; BIV hoog/hoog/hoog"
    assert data_package(classified)["sandbox:tier"] == 4


def test_optional_fields_left_out_show_a_dash():
    bare = card(dpia={"status": "not-required"})  # no publisher, agreement, themes
    shown = facts(render_markdown(bare))
    assert shown["Publisher"] == shown["Agreement"] == "-"
    assert shown["DPIA"] == "not-required"  # no reference: no trailing space either
    package = data_package(bare)
    assert package["keywords"] == []
    assert package["sandbox:governance"]["publisher"] is None
    assert package["sandbox:governance"]["agreement"] is None
    assert package["sandbox:governance"]["dpia"] == {
        "status": "not-required",
        "reference": None,
        "date": None,
    }


def test_the_quality_section():
    checked = card(
        files=[
            {"path": "good.csv", "sha256": SHA_A},
            {"path": "bad.csv", "sha256": SHA_B},
            {"path": "free.txt", "sha256": SHA_A},
            {"path": "big.csv", "sha256": SHA_B},
        ]
    )
    result = quality(
        FileQuality("good.csv", checked=True, valid=True, rows=10),
        FileQuality("bad.csv", checked=True, valid=False, rows=7, error_count=3),
        FileQuality("free.txt", checked=False, valid=True, rows=None),
        FileQuality("big.csv", checked=True, valid=False, error_count=10_000),
        dataset="test-card",
    )
    lines = render_markdown(checked, result).split("\n")
    section = lines[lines.index("## Quality") :]
    assert section[2:6] == [
        "- good.csv: 10 rows, valid",
        "- bad.csv: 7 rows, 3 problem(s)",
        "- free.txt: rows not counted, valid (no schema: not checked)",
        "- big.csv: rows not counted, 10000 problem(s)",
    ]
    assert data_package(checked, result)["sandbox:quality"] == result


def test_without_a_quality_result_there_is_no_quality_section(demo):
    assert "## Quality" not in render_markdown(demo["woz-2024"])
    assert "sandbox:quality" not in data_package(demo["woz-2024"])


# ------------------------------------------------------------ datapackage.json


def test_the_data_package_of_the_woz_card(demo):
    woz = demo["woz-2024"]
    package = data_package(woz, WOZ_QUALITY)
    assert json.loads(json.dumps(package)) == package  # what datapackage.json holds
    assert {k: package[k] for k in ("name", "title", "version", "licenses", "keywords")} == {
        "name": "woz-2024",
        "title": "WOZ-waarden 2024",
        "version": "2024.1",
        "licenses": [{"name": "proprietary"}],
        "keywords": ["wonen"],
    }
    assert package["description"] == woz.description.strip()
    assert not package["description"].endswith("\n")
    [resource] = package["resources"]
    assert {k: v for k, v in resource.items() if k != "schema"} == {
        "name": "woz-2024",
        "path": "woz-2024.csv",
        "hash": "sha256:8c53c5d0be2d7a443138fad6fad883c9699f5b3d546770c62b06f6148a840139",
        "format": "csv",
    }
    fields = {f["name"]: f for f in resource["schema"]["fields"]}
    assert fields["eigenaar_pseudoniem"]["pii"] is True  # the card's pii mark travels along
    assert fields["object_id"]["constraints"] == {"required": True, "unique": True}
    assert package["sandbox:tier"] == 2
    assert package["sandbox:quality"]["files"][0]["pii_fields"] == ["eigenaar_pseudoniem"]

    governance = package["sandbox:governance"]
    assert set(governance) == GOVERNANCE_KEYS
    assert governance["owner"] == "Afdeling Belastingen"
    assert governance["steward"] == "j.jansen@voorbeeld.nl"
    assert governance["purposes"] == ["policy-research", "valuation"]
    assert governance["legal_basis"] == [
        {"ground": "public-task", "reference": "https://wetten.overheid.nl/BWBR0007119"}
    ]
    assert governance["classification"] == {
        "rubricering": "ongerubriceerd",
        "biv": {"beschikbaarheid": "midden", "integriteit": "midden", "vertrouwelijkheid": "hoog"},
    }
    assert governance["personal_data"]["identifiability"] == "pseudonymised"
    assert governance["dpia"] == {
        "status": "done",
        "reference": "DPIA-2024-07",
        "date": "2024-05-01",
    }
    assert governance["retention"] == {
        "period": "P7Y",
        "action": "destroy",
        "basis": "Selectielijst gemeenten 2020, 1.1.1",
    }
    assert governance["agreement"] == {"reference": "GLP-2024-12", "valid_until": "2027-06-30"}


def test_every_demo_package_names_its_files_by_hash(demo):
    for dataset, data_card in demo.items():
        package = data_package(data_card)
        assert package["name"] == dataset
        assert [(r["path"], r["hash"]) for r in package["resources"]] == [
            (f.path, f"sha256:{f.sha256}") for f in data_card.files
        ]
        assert all(RESOURCE_NAME.match(r["name"]) for r in package["resources"])


def test_resource_names_formats_and_schemas():
    schema = {"fields": [{"name": "x", "type": "integer"}]}
    package = data_package(
        card(
            files=[
                {"path": "Data_File.CSV", "sha256": SHA_A, "schema": schema},
                {"path": "README", "sha256": SHA_B},
            ]
        )
    )
    first, second = package["resources"]
    assert first == {
        "name": "data-file",
        "path": "Data_File.CSV",
        "hash": f"sha256:{SHA_A}",
        "format": "csv",
        "schema": schema,
    }
    assert second == {"name": "readme", "path": "README", "hash": f"sha256:{SHA_B}"}


def test_resource_names_are_valid_and_unique():
    package = data_package(
        card(
            files=[
                {"path": "2023/data.csv", "sha256": SHA_A},
                {"path": "2024/data.csv", "sha256": SHA_B},
                {"path": "Buurt cijfers.csv", "sha256": SHA_A},
            ]
        )
    )
    names = [r["name"] for r in package["resources"]]
    assert len(set(names)) == len(names), names
    assert all(RESOURCE_NAME.match(name) for name in names), names


def test_a_schema_with_a_date_constraint_still_gives_json(tmp_path):
    config = copy_config(tmp_path / "config")
    path = config.parent / "datasets" / "meldingen-openbare-ruimte-2024.yaml"
    text = path.read_text()
    dated = "{name: datum, type: date, constraints: {minimum: 2024-01-01}}"
    assert "{name: datum, type: date}" in text
    path.write_text(text.replace("{name: datum, type: date}", dated))
    meldingen = load_config(config).cards["meldingen-openbare-ruimte-2024"].card
    written = json.loads(json.dumps(data_package(meldingen), indent=2))
    [datum] = [f for f in written["resources"][0]["schema"]["fields"] if f["name"] == "datum"]
    assert datum["constraints"] == {"minimum": "2024-01-01"}


# ------------------------------------------------------------ Markdown-special text


def test_a_pipe_in_the_title_keeps_the_heading_and_the_tables():
    markdown = render_markdown(card(title="WOZ | waarden 2024"))
    assert markdown.split("\n")[:2] == ["# WOZ | waarden 2024", ""]
    assert facts(markdown)["Owner"] == "Team Test"
    assert len(tables(markdown)) == 2


PIPES = {
    "owner": "Team A | Team B",
    "purposes": ["policy-research", "valuation|analysis"],
    "retention": {"period": "P1Y", "action": "destroy", "basis": "Selectielijst | 1.1"},
    "agreement": {"reference": "GLP|12", "valid_until": "2027-01-01"},
    "files": [{"path": "odd|name.csv", "sha256": SHA_A}],
}
NEWLINES = {
    "owner": "Team A\nTeam B",
    "steward": "j.jansen@voorbeeld.nl\n(deputy: m.bakker@voorbeeld.nl)",
    "retention": {"period": "P1Y", "action": "destroy", "basis": "Selectielijst\n1.1"},
    "files": [{"path": "odd\nname.csv", "sha256": SHA_A}],
}


@pytest.mark.parametrize("changes", [PIPES, NEWLINES], ids=["pipes", "newlines"])
def test_markdown_special_values_do_not_break_the_tables(changes):
    data_card = card(**changes)
    markdown = render_markdown(data_card)
    shown = facts(markdown)  # asserts every row is whole
    assert shown["Owner"] == unescape(" ".join(data_card.owner.split()))
    assert " ".join(data_card.retention.basis.split()) in shown["Retention"]
    files = tables(markdown)[1]
    assert files[1] == [" ".join(data_card.files[0].path.split()), f"`{SHA_A}`"]
    if data_card.agreement:
        assert shown["Agreement"] == "GLP|12, valid until 2027-01-01"
        assert shown["Purposes (doelbinding)"] == "policy-research, valuation|analysis"


def test_a_newline_in_the_title_stays_in_one_heading():
    lines = render_markdown(card(title="WOZ-waarden\n2024")).split("\n")
    assert lines[0] in ("# WOZ-waarden 2024", "# WOZ-waarden<br>2024")
    assert lines[1] == ""
