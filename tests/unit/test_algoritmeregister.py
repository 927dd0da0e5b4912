"""The Algoritmeregister export (PRODUCT.md sections 3 and 6) against hand-built views.

Every exported record is validated against the register's own field configuration,
github.com/MinBZK/Algoritmeregister backend/app/schemas/config/v1_0.json at commit
4885a0537d142638732f7d83676800a701411e93 (tests/data/algoritmeregister, EUPL-1.2),
translated to JSON Schema the way the register's backend reads it
(tests/algoritmeregister_schema.py).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from sandbox.config.loader import LoadedConfig, load_config
from sandbox.errors import ConfigError
from sandbox.registry.lifecycle import Event, Experiment
from sandbox.registry.store import ExperimentView
from sandbox.reporting import algoritmeregister as ar

if TYPE_CHECKING:
    import jsonschema

# jsonschema (2 s to import: its IRI format checker builds a grammar) loads in the
# tests that validate, not at collection (IMPORT_GROUPS in tests/conftest.py)

CONFIG = Path(__file__).resolve().parents[2] / "config" / "sandbox.yaml"
PATH = ("approved", "exploring", "validated", "in_production", "retired")


@pytest.fixture(scope="module")
def loaded() -> LoadedConfig:
    return load_config(CONFIG, verify_checksums=False)


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def experiment(exp_id: str, **fields) -> Experiment:
    values = {
        "title": f"Experiment {exp_id}",
        "team": "belastingen",
        "sandbox": "demo",
        "owner": "alice",
        "purpose": "policy-research",
        "registered_at": at("2025-01-10"),
        "registered_by": "alice",
        "datasets": ("woz-2024",),
        "personal_data": True,
        "description": "Schat WOZ-waarden met een regressiemodel.",
        "human_intervention": "Een taxateur beoordeelt elke afwijking.",
        "risks": "Bias per wijk wordt elk kwartaal gemeten.",
        "proportionality": "Minder handwerk, zelfde bezwaarprocedure.",
        "dpia_reference": "DPIA-2024-07",
    }
    values.update(fields)
    return Experiment(id=exp_id, **values)


def view(exp: Experiment, state: str, times: dict[str, datetime] | None = None) -> ExperimentView:
    """``exp`` walked along the lifecycle up to ``state`` (or straight to stopped)."""
    if state in ("proposed", "stopped"):
        steps = [] if state == "proposed" else ["stopped"]
    else:
        steps = list(PATH[: PATH.index(state) + 1])
    times = times or {}
    events = [Event(exp.id, 0, None, "proposed", exp.registered_at, exp.registered_by)]
    for seq, target in enumerate(steps, start=1):
        moment = times.get(target, exp.registered_at + timedelta(days=seq))
        events.append(Event(exp.id, seq, events[-1].to_state, target, moment, "carol", "ok"))
    return ExperimentView(exp, tuple(events))


def only(result: ar.ExportResult) -> dict:
    assert len(result.records) == 1
    return result.records[0]


def test_only_production_and_retired_are_exported_in_id_order(loaded):
    states = ["proposed", "approved", "exploring", "validated", "stopped", "retired"]
    views = [view(experiment(f"EXP-000{i}"), s) for i, s in enumerate(states, start=2)]
    views.insert(0, view(experiment("EXP-0009"), "in_production"))
    result = ar.export(views, loaded)
    assert [r["source_id"] for r in result.records] == ["EXP-0007", "EXP-0009"]
    assert [r["status"] for r in result.records] == ["Buiten gebruik", "In gebruik"]
    assert set(result.problems) <= {"EXP-0007", "EXP-0009"}


def test_begin_and_end_month_come_from_the_events(loaded):
    times = {
        "validated": at("2025-02-20"),
        "in_production": datetime(2025, 3, 31, 23, 30, tzinfo=timezone(timedelta(hours=-2))),
        "retired": at("2025-11-02"),
    }
    record = only(ar.export([view(experiment("EXP-0001"), "retired", times)], loaded))
    assert record["status"] == "Buiten gebruik"
    assert record["begin_date"] == "2025-04"  # 2025-04-01T01:30Z
    assert record["end_date"] == "2025-11"

    running = only(ar.export([view(experiment("EXP-0002"), "in_production", times)], loaded))
    assert running["status"] == "In gebruik"
    assert running["begin_date"] == "2025-04"
    assert "end_date" not in running


def test_record_maps_the_experiment_and_the_woz_card(loaded):
    exp = experiment("EXP-0001", title="WOZ-waarden schatten")
    result = ar.export([view(exp, "in_production")], loaded)
    record = only(result)
    assert record["name"] == "WOZ-waarden schatten"
    assert record["description_short"] == exp.description
    assert record["organization"] == "Gemeente Voorbeeld"
    assert record["contact_email"] == "algoritmes@voorbeeld.nl"
    assert record["goal"] == exp.description  # no written goal: the description
    assert record["human_intervention"] == exp.human_intervention
    assert record["risks"] == exp.risks
    assert record["proportionality"] == exp.proportionality
    assert record["category"] == ["Wonen"]
    assert record["source_data"] == "WOZ-waarden 2024 (woz-2024)"
    assert record["source_data_grouping"] == [
        {"title": "WOZ-waarden 2024", "link": "https://data.voorbeeld.nl/datasets/woz-2024"}
    ]
    assert record["process_index_url"] == "https://www.voorbeeld.nl/verwerkingsregister"
    assert "DPIA-2024-07" in record["impacttoetsen"]
    assert record["impacttoetsen_grouping"] == [{"title": ar.DPIA_TITLE}]  # no link
    assert record["provider"] == "Gemeente Voorbeeld"
    assert record["lang"] == "nld"
    assert record["standard_version"] == "1.0"
    assert record["source_id"] == "EXP-0001"
    assert record["publication_category"] == "Impactvolle algoritmes"  # personal data
    assert result.notes["EXP-0001"][0].startswith(
        "publication_category: none given, so 'Impactvolle algoritmes'"
    )
    assert "EXP-0001" not in result.problems
    json.dumps(record)  # plain JSON


def test_goal_and_publication_category_from_the_experiment(loaded):
    exp = experiment(
        "EXP-0001",
        purpose="policy-research",
        goal="Eerlijker WOZ-waarden.",
        publication_category="Overige algoritmes",
    )
    result = ar.export([view(exp, "in_production")], loaded)
    record = only(result)
    assert record["goal"] == "Eerlijker WOZ-waarden."
    assert record["publication_category"] == "Overige algoritmes"
    assert result.notes == {}
    without = experiment("EXP-0002", description="", goal="", personal_data=False)
    record = only(ar.export([view(without, "in_production")], loaded))
    assert "goal" not in record  # never the purpose code
    assert "policy-research" not in json.dumps(record)
    assert record["publication_category"] == "Overige algoritmes"  # no personal data


def test_line_breaks_are_rendered_as_the_register_shows_them(loaded):
    exp = experiment(
        "EXP-0001",
        description="Eerste regel\ntweede   regel",
        risks="Bias per wijk.\nGemeten per kwartaal.\n\n- drempel < 5%\n- herzien & melden",
        datasets=("woz-2024", "cbs-wijken-2024"),
    )
    record = only(ar.export([view(exp, "in_production")], loaded))
    assert record["description_short"] == "Eerste regel tweede regel"  # plain: one line
    assert record["risks"] == (
        "<p>Bias per wijk.<br>Gemeten per kwartaal.</p>"
        "<ul><li>drempel &lt; 5%</li><li>herzien &amp; melden</li></ul>"
    )
    assert record["source_data"] == (
        "<ul><li>WOZ-waarden 2024 (woz-2024)</li>"
        "<li>Kerncijfers wijken 2024 (cbs-wijken-2024)</li></ul>"
    )
    assert ar.text_length(record["risks"]) == len(
        "Bias per wijk. Gemeten per kwartaal. drempel < 5% herzien & melden"
    )


def test_the_export_needs_the_organisations_contact_email(loaded):
    organisation = loaded.config.organisation.model_copy(update={"contact_email": None})
    config = dataclasses.replace(
        loaded, config=loaded.config.model_copy(update={"organisation": organisation})
    )
    with pytest.raises(ConfigError, match=r"sandbox\.yaml:\d+: organisation\.contact_email"):
        ar.export([view(experiment("EXP-0001"), "in_production")], config)


def test_lawful_basis_comes_from_the_data_cards(loaded):
    exp = experiment("EXP-0001", datasets=("woz-2024", "cbs-wijken-2024", "no-such-set"))
    result = ar.export([view(exp, "in_production")], loaded)
    record = only(result)
    assert record["lawful_basis"] == (
        "WOZ-waarden 2024 (woz-2024): AVG art. 6 lid 1 sub e "
        "(taak van algemeen belang of openbaar gezag); https://wetten.overheid.nl/BWBR0007119"
    )
    # each title's link is the law it names: the AVG ground with the AVG (Regulation (EU)
    # 2016/679), the card's reference (the Wet WOZ, which gives the task) with itself
    assert record["lawful_basis_grouping"] == [
        {
            "title": "AVG art. 6 lid 1 sub e (taak van algemeen belang of openbaar gezag)",
            "link": "https://eur-lex.europa.eu/eli/reg/2016/679/oj",
        },
        {
            "title": "wetten.overheid.nl/BWBR0007119",
            "link": "https://wetten.overheid.nl/BWBR0007119",
        },
    ]
    # an unknown dataset is tolerated: listed as a source, and reported
    assert record["source_data"].endswith("<li>no-such-set</li></ul>")
    assert any("'no-such-set'" in p for p in result.problems["EXP-0001"])


def test_each_lawful_basis_link_is_the_law_its_title_names(loaded, register_schema):
    woz, wijken = loaded.cards["woz-2024"], loaded.cards["cbs-wijken-2024"]
    public_task = woz.card.legal_basis[0]
    bases = {
        "woz-2024": [  # the same AVG ground twice, and a reference that is no link
            public_task,
            public_task.model_copy(update={"reference": "Gemeentewet art. 160"}),
        ],
        "cbs-wijken-2024": [
            public_task.model_copy(
                update={"ground": "consent", "reference": "https://www.voorbeeld.nl/toestemming/"}
            )
        ],
    }
    cards = {
        name: dataclasses.replace(
            card, card=card.card.model_copy(update={"legal_basis": bases[name]})
        )
        for name, card in (("woz-2024", woz), ("cbs-wijken-2024", wijken))
    }
    exp = experiment("EXP-0001", datasets=("woz-2024", "cbs-wijken-2024"))
    record = only(ar.export([view(exp, "in_production")], dataclasses.replace(loaded, cards=cards)))
    # one item per AVG ground (sub e once, though two bases name it), each linking the AVG
    assert record["lawful_basis_grouping"] == [
        {"title": ar.GROUNDS["public-task"], "link": ar.AVG_LINK},
        {
            "title": "wetten.overheid.nl/BWBR0007119",
            "link": "https://wetten.overheid.nl/BWBR0007119",
        },
        {"title": ar.GROUNDS["consent"], "link": ar.AVG_LINK},
        {"title": "www.voorbeeld.nl/toestemming", "link": "https://www.voorbeeld.nl/toestemming/"},
    ]
    assert ar.AVG_LINK == "https://eur-lex.europa.eu/eli/reg/2016/679/oj"
    assert all(
        item["title"].startswith("AVG") == (item["link"] == ar.AVG_LINK)
        for item in record["lawful_basis_grouping"]
    )
    assert "Gemeentewet art. 160" in record["lawful_basis"]  # in the text, without a link
    assert record["lawful_basis"].count("<li>") == 3
    assert violations(register_schema, record) == []


def test_missing_fields_are_left_out_and_reported(loaded):
    exp = experiment("EXP-0001", human_intervention="", risks="  ", proportionality="")
    result = ar.export([view(exp, "in_production")], loaded)
    record = only(result)
    problems = result.problems["EXP-0001"]
    for name in ("human_intervention", "risks", "proportionality"):
        assert name not in record
        assert any(p.startswith(f"{name}: empty") for p in problems)


def test_too_long_values_are_reported_not_truncated(loaded):
    name = "x" * 101
    exp = experiment("EXP-0001", title=name, description="", risks="r" * 2501)
    result = ar.export([view(exp, "in_production")], loaded)
    record = only(result)
    assert record["name"] == name and record["description_short"] == name
    assert record["risks"] == "r" * 2501
    problems = result.problems["EXP-0001"]
    assert "name: 101 characters, the standard allows at most 100" in problems
    assert "risks: 2501 characters, the standard allows at most 2500" in problems
    assert not any(p.startswith("description_short") for p in problems)  # 101 <= 400


def test_provider_argument_and_no_dpia_without_personal_data(loaded):
    exp = experiment(
        "EXP-0001", datasets=("cbs-wijken-2024",), personal_data=False, dpia_reference=""
    )
    record = only(ar.export([view(exp, "retired")], loaded, provider="Intern ontwikkeld"))
    assert record["provider"] == "Intern ontwikkeld"
    assert record["impacttoetsen"].startswith("Geen DPIA")
    assert "lawful_basis" not in record  # no personal data, no legal basis on the card


def test_check_applies_enums_and_groupings():
    record = {
        "status": "Actief",
        "lang": "eng",
        "standard_version": "1.0.0",
        "category": ["Wonen", "Werk", "Recht", "Economie"],  # no cap on the count in 1.0
        "impacttoetsen_grouping": [{"title": "", "link": ""}],
        "colour": "red",
    }
    problems = ar.check(record)
    assert "colour: not a field of the standard" in problems
    assert any(p.startswith("status: 'Actief' is not one of") for p in problems)
    assert any(p.startswith("lang: 'eng'") for p in problems)
    assert any(p.startswith("standard_version: '1.0.0'") for p in problems)
    assert not any(p.startswith("category") for p in problems)
    assert "impacttoetsen_grouping[0].title: required by the standard, but empty" in problems
    assert not any(p.startswith("impacttoetsen_grouping[0].link") for p in problems)


# ------------------------------------------- v1_0.json as the register's backend reads it


@pytest.fixture(scope="module")
def register_schema() -> jsonschema.protocols.Validator:
    from tests.algoritmeregister_schema import register_validator

    return register_validator()


def violations(validator: jsonschema.protocols.Validator, record: dict) -> list[str]:
    from tests.algoritmeregister_schema import violations as found

    return found(validator, record)


def test_the_schema_is_the_standard_1_0(register_schema):
    schema = register_schema.schema
    assert schema["properties"]["standard_version"]["anyOf"][0] == {"enum": ["1.0"]}
    assert set(schema["required"]) == set(ar.REQUIRED)
    assert schema["properties"]["description_short"]["maxLengthWithoutHtml"] == 400
    for name, limit in ar.MAX_LENGTH.items():  # the export's own rules are the standard's
        found = schema["properties"][name]
        found = found.get("anyOf", [found])[0]
        assert found["maxLengthWithoutHtml"] == limit, name
    category = schema["properties"]["publication_category"]["enum"]
    assert tuple(category) == ar.PERMITTED["publication_category"]


def test_the_schema_refuses_what_the_register_refuses(register_schema):
    record = {
        "name": "n",
        "description_short": "<p>" + "x" * 400 + "</p>",  # 400 without the markup: fine
        "organization": "o",
        "status": "In gebruik",
        "contact_email": "a@b.nl",
        "publication_category": "Overige algoritmes",
        "lang": "nld",
    }
    assert violations(register_schema, record) == []
    bad = {**record, "standard_version": "1.0.0", "goal": "<p>" + "g" * 2501 + "</p>"}
    bad |= {"publication_category": "Impactvolle algoritmes (Categorie B)", "lang": "NLD"}
    found = violations(register_schema, bad)
    assert len(found) == 4, found
    assert any(f.startswith("standard_version") for f in found)


@pytest.fixture
def every_kind_of_record(loaded) -> list[ar.ExportResult]:
    long_lines = "\n".join(f"- stap {i}: " + "t" * 40 for i in range(40))
    return [
        ar.export(
            [
                view(experiment("EXP-0001"), "retired"),
                view(
                    experiment("EXP-0002", datasets=("woz-2024", "cbs-wijken-2024")),
                    "in_production",
                ),
                view(
                    experiment(
                        "EXP-0003",
                        datasets=("cbs-wijken-2024",),
                        personal_data=False,
                        dpia_reference="https://www.voorbeeld.nl/dpia/7",
                        goal="Doel.\n\nTweede alinea & meer <details>.",
                        risks=long_lines,
                        publication_category="Hoog-risico AI-systeem",
                    ),
                    "in_production",
                ),
            ],
            loaded,
        ),
        ar.export([view(experiment("EXP-0004", description="d" * 400), "retired")], loaded),
    ]


def test_every_exported_record_passes_the_standard(register_schema, every_kind_of_record):
    records = [r for result in every_kind_of_record for r in result.records]
    assert len(records) == 4
    for record in records:
        assert violations(register_schema, record) == [], record["source_id"]
        assert record["standard_version"] == "1.0"
    for result in every_kind_of_record:
        assert result.problems == {}  # nothing the sandbox lacks, nothing too long


def test_a_record_that_breaks_the_standard_fails_the_schema(register_schema, loaded):
    too_long = experiment("EXP-0001", title="x" * 101, risks="r" * 2501)
    result = ar.export([view(too_long, "in_production")], loaded)
    found = violations(register_schema, only(result))
    assert [f.split(":")[0] for f in found] == ["name", "risks"]
    assert sorted(p.split(":")[0] for p in result.problems["EXP-0001"]) == ["name", "risks"]
