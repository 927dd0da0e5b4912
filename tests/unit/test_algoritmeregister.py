"""The Algoritmeregister export (PRODUCT.md sections 3 and 6) against hand-built views.

Expected values come from the publication standard's field configuration in
github.com/MinBZK/Algoritmeregister, backend/app/schemas/config/v1_0_0.json at commit
fca0ce44a42ee51e79997d20c4285f89fcdb17d7.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from sandbox.config.loader import LoadedConfig, load_config
from sandbox.registry.lifecycle import Event, Experiment
from sandbox.registry.store import ExperimentView
from sandbox.reporting import algoritmeregister as ar

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
    record = only(ar.export([view(exp, "in_production")], loaded))
    assert record["name"] == "WOZ-waarden schatten"
    assert record["description_short"] == exp.description
    assert record["organization"] == "Gemeente Voorbeeld"
    assert record["goal"] == "policy-research"
    assert record["human_intervention"] == exp.human_intervention
    assert record["risks"] == exp.risks
    assert record["proportionality"] == exp.proportionality
    assert record["category"] == ["Wonen"]
    assert record["source_data"] == "WOZ-waarden 2024 (woz-2024)"
    assert "DPIA-2024-07" in record["impacttoetsen"]
    assert "impacttoetsen_grouping" not in record  # the reference is not a link
    assert record["provider"] == "Gemeente Voorbeeld"
    assert record["lang"] == "nld"
    assert record["standard_version"] == "1.0.0"
    assert record["source_id"] == "EXP-0001"
    json.dumps(record)  # plain JSON


def test_lawful_basis_comes_from_the_data_cards(loaded):
    exp = experiment("EXP-0001", datasets=("woz-2024", "cbs-wijken-2024", "no-such-set"))
    result = ar.export([view(exp, "in_production")], loaded)
    record = only(result)
    assert record["lawful_basis"] == (
        "WOZ-waarden 2024 (woz-2024): AVG art. 6 lid 1 sub e "
        "(taak van algemeen belang of openbaar gezag); https://wetten.overheid.nl/BWBR0007119"
    )
    assert record["lawful_basis_grouping"] == [
        {
            "title": "AVG art. 6 lid 1 sub e (taak van algemeen belang of openbaar gezag)",
            "link": "https://wetten.overheid.nl/BWBR0007119",
        }
    ]
    # an unknown dataset is tolerated: listed as a source, and reported
    assert record["source_data"].splitlines() == [
        "WOZ-waarden 2024 (woz-2024)",
        "Kerncijfers wijken 2024 (cbs-wijken-2024)",
        "no-such-set",
    ]
    assert any("'no-such-set'" in p for p in result.problems["EXP-0001"])


def test_missing_fields_are_left_out_and_reported(loaded):
    exp = experiment("EXP-0001", human_intervention="", risks="  ", proportionality="")
    result = ar.export([view(exp, "in_production")], loaded)
    record = only(result)
    problems = result.problems["EXP-0001"]
    for name in ("human_intervention", "risks", "proportionality"):
        assert name not in record
        assert any(p.startswith(f"{name}: empty") for p in problems)
    # required by the standard, but the sandbox has no data for them
    for name in ("contact_email", "publication_category"):
        assert name not in record
        assert f"{name}: required by the standard, but the sandbox has no value" in problems


def test_complete_record_only_lacks_what_the_sandbox_cannot_know(loaded):
    result = ar.export([view(experiment("EXP-0001"), "in_production")], loaded)
    assert result.problems["EXP-0001"] == [
        "contact_email: required by the standard, but the sandbox has no value",
        "publication_category: required by the standard, but the sandbox has no value",
    ]


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
    assert not any(p.startswith("description_short") for p in problems)  # 101 <= 350


def test_provider_argument_and_no_dpia_without_personal_data(loaded):
    exp = experiment(
        "EXP-0001", datasets=("cbs-wijken-2024",), personal_data=False, dpia_reference=""
    )
    record = only(ar.export([view(exp, "retired")], loaded, provider="Intern ontwikkeld"))
    assert record["provider"] == "Intern ontwikkeld"
    assert record["impacttoetsen"].startswith("Geen DPIA")
    assert "lawful_basis" not in record  # no personal data, no legal basis on the card


def test_check_applies_enums_item_limits_and_groupings():
    record = {
        "status": "Actief",
        "lang": "eng",
        "standard_version": "1.0",
        "category": ["Wonen", "Werk", "Recht", "Economie"],
        "impacttoetsen_grouping": [{"title": "IAMA", "link": ""}],
        "colour": "red",
    }
    problems = ar.check(record)
    assert "colour: not a field of the standard" in problems
    assert any(p.startswith("status: 'Actief' is not one of") for p in problems)
    assert any(p.startswith("lang: 'eng'") for p in problems)
    assert any(p.startswith("standard_version: '1.0'") for p in problems)
    assert "category: 4 items, the standard allows 3" in problems
    assert "impacttoetsen_grouping[0].link: required by the standard, but empty" in problems


# The rules of v1_0_0.json @ fca0ce4 for every field the export writes, copied by hand.
SCHEMA_RULES = {
    "name": 100,
    "description_short": 350,
    "organization": 100,
    "begin_date": 7,
    "end_date": 7,
    "goal": 2500,
    "proportionality": 2500,
    "human_intervention": 2500,
    "risks": 2500,
    "lawful_basis": 2500,
    "impacttoetsen": 2500,
    "source_data": 2500,
    "provider": 200,
    "source_id": 100,
}


def test_exported_records_follow_the_schema_rules(loaded):
    views = [
        view(experiment("EXP-0001"), "retired"),
        view(experiment("EXP-0002", datasets=("woz-2024", "cbs-wijken-2024")), "in_production"),
    ]
    result = ar.export(views, loaded)
    for record in result.records:
        assert ar.check({**record, "contact_email": "a@b.nl", "publication_category": "x"}) == [
            "publication_category: 'x' is not one of Hoog-risico AI-systeem, "
            "Impactvolle algoritmes, Overige algoritmes"
        ]
        for field, limit in SCHEMA_RULES.items():
            assert len(record.get(field, "")) <= limit, field
            assert ar.MAX_LENGTH[field] == limit, field
        assert record["status"] in ("In ontwikkeling", "In gebruik", "Buiten gebruik")
        assert record["lang"] == "nld" and record["standard_version"] == "1.0.0"
        assert len(record["category"]) <= 3
        for link in record.get("lawful_basis_grouping", []):
            assert len(link["title"]) <= 100 and len(link["link"]) <= 500
        for moment in ("begin_date", "end_date"):
            if moment in record:
                datetime.strptime(record[moment], "%Y-%m")
    assert set(ar.REQUIRED) == {
        "name",
        "description_short",
        "organization",
        "status",
        "contact_email",
        "publication_category",
        "lang",
    }
