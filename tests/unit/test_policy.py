"""Pure-logic tests of sandbox/governance/policy.py: tier derivation and the seven rules
of PRODUCT.md §5.

Every test builds a tiny config in ``tmp_path`` (sandbox.yaml, data cards and their files with
correct checksums), loads it with ``load_config`` and evaluates the policy on a fixed date.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.config.loader import LoadedConfig, load_config
from sandbox.config.model import DataCard
from sandbox.errors import PolicyViolation
from sandbox.governance.policy import Violation, dataset_tier, enforce, errors, evaluate

TODAY = dt.date(2026, 6, 1)
FUTURE = dt.date(2027, 12, 31)
PAST = dt.date(2026, 1, 1)
DROP = object()  # override value meaning "leave this key out"


# ----------------------------------------------------------------------------------- builders


def card(
    ident: str,
    *,
    access: str = "niet-publiek",
    rubricering: str = "ongerubriceerd",
    kind: str = "none",
    identifiability: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A complete, valid data card; personal data gets a legal basis and a done DPIA."""
    personal: dict[str, Any] = {"kind": kind}
    if identifiability is not None:
        personal["identifiability"] = identifiability
    if kind == "special":
        personal["special_categories"] = ["health"]
        personal["art9_exception"] = "art. 9(2)(j) AVG"
    data: dict[str, Any] = {
        "id": ident,
        "title": f"Dataset {ident}",
        "description": "Synthetic test data.",
        "version": "1.0",
        "owner": "Afdeling Test",
        "steward": "steward@example.org",
        "contact_point": "data@example.org",
        "license": "CC-BY-4.0",
        "access_rights": access,
        "classification": {
            "rubricering": rubricering,
            "biv": {
                "beschikbaarheid": "midden",
                "integriteit": "midden",
                "vertrouwelijkheid": "midden",
            },
        },
        "personal_data": personal,
        "purposes": ["research", "statistics"],
        "retention": {"period": "P5Y", "action": "destroy", "basis": "Selectielijst 1.1"},
        "files": [{"path": "data.csv"}],
    }
    if kind != "none":
        data["legal_basis"] = [{"ground": "public-task", "reference": "https://wetten.example/1"}]
        data["dpia"] = {"status": "done", "reference": "DPIA-1", "date": dt.date(2025, 1, 1)}
    for key, value in overrides.items():
        if value is DROP:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def group(name: str, *grants: tuple[str, str], dpia: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": name,
        "members": ["alice"],
        "grants": [{"dataset": d, "purpose": p} for d, p in grants],
    }
    if dpia is not None:
        data["dpia"] = dpia
    return data


def sandbox(*groups: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A sandbox that satisfies rules 6 and 9 for tier 3 unless overridden."""
    data: dict[str, Any] = {
        "name": "lab",
        "max_tier": 3,
        "expires": FUTURE,
        "spawner": "docker",
        "network": {"egress": False},
        "idle_timeout": "1h",
        "hub": {"ip": "127.0.0.1", "port": 8000},
        "auth": {"type": "per-user-password"},
        "groups": list(groups),
    }
    for key, value in overrides.items():
        if value is DROP:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def dump(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, default_flow_style=False))


def write_config(
    root: Path,
    cards: list[dict[str, Any]],
    sandboxes: list[dict[str, Any]],
    org_kind: str = "government",
    **organisation: Any,
) -> Path:
    """Write sandbox.yaml, datasets/<id>.yaml and datasets/<id>/<file> (with a correct
    sha256 unless the card sets one); return the path of sandbox.yaml."""
    config = root / "config"
    for data in cards:
        data = copy.deepcopy(data)
        for entry in data["files"]:
            content = f"id,dataset\n1,{data['id']}\n".encode()
            target = config / "datasets" / data["id"] / entry["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            entry.setdefault("sha256", hashlib.sha256(content).hexdigest())
        dump(config / "datasets" / f"{data['id']}.yaml", data)
    (config / "datasets").mkdir(parents=True, exist_ok=True)
    top = {
        "organisation": {"name": "Gemeente Test", "kind": org_kind, **organisation},
        "sandboxes": sandboxes,
        "datasets": "datasets/",
    }
    dump(config / "sandbox.yaml", top)
    return config / "sandbox.yaml"


def build(
    tmp_path: Path,
    cards: list[dict[str, Any]],
    *groups: dict[str, Any],
    org_kind: str = "government",
    **sandbox_overrides: Any,
) -> LoadedConfig:
    path = write_config(tmp_path, cards, [sandbox(*groups, **sandbox_overrides)], org_kind)
    return load_config(path)


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    """1-based number of the nth line of ``path`` containing ``needle``."""
    hits = [n for n, text in enumerate(path.read_text().splitlines(), 1) if needle in text]
    assert len(hits) >= nth, f"{needle!r} occurs {len(hits)} times in {path}"
    return hits[nth - 1]


def by_rule(violations: list[Violation], rule: int) -> list[Violation]:
    return [v for v in violations if v.rule == rule]


def card_path(loaded: LoadedConfig, ident: str) -> Path:
    return loaded.datasets_dir / f"{ident}.yaml"


def assert_located(violation: Violation, file: Path, line: int) -> None:
    assert Path(violation.problem.file).resolve() == file.resolve()
    assert violation.problem.line == line


# ------------------------------------------------------------------------- tier derivation


@pytest.mark.parametrize(
    ("access", "rubricering", "kind", "identifiability", "tier"),
    [
        ("publiek", "ongerubriceerd", "none", None, 0),
        ("niet-publiek", "ongerubriceerd", "none", None, 1),
        ("onder-voorwaarden", "ongerubriceerd", "none", None, 1),
        ("niet-publiek", "ongerubriceerd", "regular", "anonymous", 1),
        ("niet-publiek", "ongerubriceerd", "regular", "aggregated", 1),
        ("niet-publiek", "ongerubriceerd", "regular", "pseudonymised", 2),
        ("niet-publiek", "ongerubriceerd", "regular", "identifiable", 3),
        ("niet-publiek", "ongerubriceerd", "special", "pseudonymised", 3),
        ("niet-publiek", "ongerubriceerd", "special", "aggregated", 3),
        ("niet-publiek", "ongerubriceerd", "criminal", "pseudonymised", 3),
        ("niet-publiek", "ongerubriceerd", "national-id", "pseudonymised", 3),
        ("publiek", "dep-vertrouwelijk", "none", None, 4),
        ("niet-publiek", "dep-vertrouwelijk", "regular", "anonymous", 4),
        ("niet-publiek", "stg-confidentieel", "none", None, 4),
        ("niet-publiek", "stg-geheim", "none", None, 4),
        ("niet-publiek", "stg-zeer-geheim", "special", "identifiable", 4),
    ],
)
def test_dataset_tier(
    access: str, rubricering: str, kind: str, identifiability: str | None, tier: int
) -> None:
    data = card(
        "x", access=access, rubricering=rubricering, kind=kind, identifiability=identifiability
    )
    data["files"] = [{"path": "data.csv", "sha256": "0" * 64}]
    assert dataset_tier(DataCard.model_validate(data)) == tier


# ------------------------------------------------------------------------------------- rule 1


def test_rule1_tier_within_max_tier_passes(tmp_path: Path) -> None:
    loaded = build(
        tmp_path,
        [card("pseudo", kind="regular", identifiability="pseudonymised")],
        group("team", ("pseudo", "research")),
        max_tier=2,
    )
    assert evaluate(loaded, TODAY) == []


def test_rule1_tier_above_max_tier_fails(tmp_path: Path) -> None:
    loaded = build(
        tmp_path,
        [card("ident", kind="regular", identifiability="identifiable")],
        group("team", ("ident", "research")),
        max_tier=2,
    )
    [violation] = by_rule(evaluate(loaded, TODAY), 1)
    assert (violation.sandbox, violation.group, violation.dataset) == ("lab", "team", "ident")
    assert not violation.warning
    assert "tier 3 exceeds max_tier 2" in violation.message
    assert violation.problem.key == "sandboxes[0].groups[0].grants[0].dataset"
    assert_located(violation, loaded.path, line_of(loaded.path, "- dataset: ident"))


def test_rule1_tier4_is_refused_even_at_max_tier_3(tmp_path: Path) -> None:
    loaded = build(
        tmp_path,
        [card("secret", rubricering="dep-vertrouwelijk")],
        group("team", ("secret", "research")),
        max_tier=3,
    )
    [violation] = by_rule(evaluate(loaded, TODAY), 1)
    assert (violation.sandbox, violation.group, violation.dataset) == ("lab", "team", "secret")
    assert "tier 4 (dep-vertrouwelijk) is never allowed" in violation.message
    assert_located(violation, loaded.path, line_of(loaded.path, "- dataset: secret"))


# ------------------------------------------------------------------------------------- rule 2


def test_rule2_legal_basis_present_passes(tmp_path: Path) -> None:
    loaded = build(
        tmp_path,
        [card("pseudo", kind="regular", identifiability="pseudonymised")],
        group("team", ("pseudo", "research")),
    )
    assert by_rule(evaluate(loaded, TODAY), 2) == []


def test_rule2_missing_legal_basis_fails(tmp_path: Path) -> None:
    loaded = build(
        tmp_path,
        [card("pseudo", kind="regular", identifiability="pseudonymised", legal_basis=[])],
        group("team", ("pseudo", "research")),
    )
    [violation] = by_rule(evaluate(loaded, TODAY), 2)
    assert (violation.sandbox, violation.group, violation.dataset) == (None, None, "pseudo")
    assert "legal_basis" in violation.message
    path = card_path(loaded, "pseudo")
    assert_located(violation, path, line_of(path, "legal_basis:"))


REGISTER = "https://www.example.org/verwerkingsregister"


def with_register(tmp_path: Path, cards: list[dict[str, Any]]) -> LoadedConfig:
    path = write_config(
        tmp_path,
        cards,
        [sandbox(group("team", *((c["id"], "research") for c in cards)), max_tier=3)],
        processing_register=REGISTER,
    )
    return load_config(path)


def test_rule2_with_a_processing_register_tier2_needs_its_processing_activity(tmp_path: Path):
    pseudo = card("pseudo", kind="regular", identifiability="pseudonymised")
    open_data = card("open", access="publiek")
    [violation] = by_rule(evaluate(with_register(tmp_path, [pseudo, open_data]), TODAY), 2)
    assert violation.dataset == "pseudo"
    assert "processing_activity" in violation.message and REGISTER in violation.message
    path = tmp_path / "config" / "datasets" / "pseudo.yaml"
    assert_located(violation, path, line_of(path, "personal_data:"))


def test_rule2_processing_activity_given_or_no_register_passes(tmp_path: Path):
    named = card(
        "pseudo",
        kind="regular",
        identifiability="pseudonymised",
        processing_activity=f"{REGISTER}/research",
    )
    assert by_rule(evaluate(with_register(tmp_path / "a", [named]), TODAY), 2) == []
    unnamed = card("pseudo", kind="regular", identifiability="pseudonymised")
    loaded = build(tmp_path / "b", [unnamed], group("team", ("pseudo", "research")))
    assert by_rule(evaluate(loaded, TODAY), 2) == []  # no register: not required


def test_rule2_government_may_not_use_legitimate_interest(tmp_path: Path) -> None:
    basis = [
        {"ground": "public-task", "reference": "https://wetten.example/1"},
        {"ground": "legitimate-interest", "reference": "belangenafweging-7"},
    ]
    loaded = build(
        tmp_path,
        [card("pseudo", kind="regular", identifiability="pseudonymised", legal_basis=basis)],
        group("team", ("pseudo", "research")),
        org_kind="government",
    )
    [violation] = by_rule(evaluate(loaded, TODAY), 2)
    assert (violation.sandbox, violation.group, violation.dataset) == (None, None, "pseudo")
    assert "legitimate-interest" in violation.message
    assert violation.problem.key == "legal_basis[1].ground"
    path = card_path(loaded, "pseudo")
    assert_located(violation, path, line_of(path, "ground: legitimate-interest"))


def test_rule2_other_organisation_may_use_legitimate_interest(tmp_path: Path) -> None:
    basis = [{"ground": "legitimate-interest", "reference": "belangenafweging-7"}]
    loaded = build(
        tmp_path,
        [card("pseudo", kind="regular", identifiability="pseudonymised", legal_basis=basis)],
        group("team", ("pseudo", "research")),
        org_kind="other",
    )
    assert by_rule(evaluate(loaded, TODAY), 2) == []


def test_rule2_special_data_with_categories_and_exception_passes(tmp_path: Path) -> None:
    loaded = build(
        tmp_path,
        [card("health", kind="special", identifiability="pseudonymised")],
        group("team", ("health", "research")),
    )
    assert by_rule(evaluate(loaded, TODAY), 2) == []


# ------------------------------------------------------------------------------------- rule 3


@pytest.mark.parametrize(
    "dpia",
    [
        {"status": "done", "reference": "DPIA-1"},
        {"status": "not-required", "reference": "BESLUIT-2025-3"},
    ],
)
def test_rule3_dpia_done_or_not_required_with_reference_passes(
    tmp_path: Path, dpia: dict[str, str]
) -> None:
    loaded = build(
        tmp_path,
        [card("pseudo", kind="regular", identifiability="pseudonymised", dpia=dpia)],
        group("team", ("pseudo", "research")),
    )
    assert by_rule(evaluate(loaded, TODAY), 3) == []


@pytest.mark.parametrize(
    ("dpia", "needle", "message"),
    [
        (DROP, "personal_data:", "needs a dpia entry"),
        ({"status": "required"}, "status: required", "required but not done"),
        ({"status": "not-required"}, "dpia:", "needs a reference"),
    ],
    ids=["missing", "required", "not-required-without-reference"],
)
def test_rule3_personal_data_without_done_dpia_fails(
    tmp_path: Path, dpia: Any, needle: str, message: str
) -> None:
    loaded = build(
        tmp_path,
        [card("pseudo", kind="regular", identifiability="pseudonymised", dpia=dpia)],
        group("team", ("pseudo", "research")),
    )
    [violation] = by_rule(evaluate(loaded, TODAY), 3)
    assert (violation.sandbox, violation.group, violation.dataset) == (None, None, "pseudo")
    assert message in violation.message
    path = card_path(loaded, "pseudo")
    assert_located(violation, path, line_of(path, needle))


def test_rule3_does_not_apply_without_personal_data(tmp_path: Path) -> None:
    loaded = build(tmp_path, [card("open", dpia=DROP)], group("team", ("open", "research")))
    assert evaluate(loaded, TODAY) == []


# ------------------------------------------------------------------------------------- rule 4


def test_rule4_purpose_among_dataset_purposes_passes(tmp_path: Path) -> None:
    loaded = build(tmp_path, [card("open")], group("team", ("open", "statistics")))
    assert by_rule(evaluate(loaded, TODAY), 4) == []


def test_rule4_purpose_not_among_dataset_purposes_fails(tmp_path: Path) -> None:
    loaded = build(tmp_path, [card("open")], group("team", ("open", "marketing")))
    [violation] = by_rule(evaluate(loaded, TODAY), 4)
    assert (violation.sandbox, violation.group, violation.dataset) == ("lab", "team", "open")
    assert "'marketing' is not one of: research, statistics" in violation.message
    assert violation.problem.key == "sandboxes[0].groups[0].grants[0].purpose"
    assert_located(violation, loaded.path, line_of(loaded.path, "purpose: marketing"))


# ------------------------------------------------------------------------------------- rule 5

TWO_PERSONAL = [
    card("woz", kind="regular", identifiability="pseudonymised"),
    card("brp", kind="regular", identifiability="pseudonymised"),
    card("open"),
]


def test_rule5_linking_personal_datasets_with_group_dpia_passes(tmp_path: Path) -> None:
    loaded = build(
        tmp_path,
        TWO_PERSONAL,
        group("team", ("woz", "research"), ("brp", "research"), dpia="DPIA-KOPPELING-1"),
    )
    assert by_rule(evaluate(loaded, TODAY), 5) == []


def test_rule5_one_personal_dataset_plus_open_data_needs_no_group_dpia(tmp_path: Path) -> None:
    loaded = build(tmp_path, TWO_PERSONAL, group("team", ("woz", "research"), ("open", "research")))
    assert by_rule(evaluate(loaded, TODAY), 5) == []


def test_rule5_linking_personal_datasets_without_group_dpia_fails(tmp_path: Path) -> None:
    loaded = build(
        tmp_path,
        TWO_PERSONAL,
        group("other", ("open", "research")),
        group("team", ("woz", "research"), ("open", "research"), ("brp", "research")),
    )
    [violation] = by_rule(evaluate(loaded, TODAY), 5)
    assert (violation.sandbox, violation.group, violation.dataset) == ("lab", "team", None)
    assert "woz, brp" in violation.message
    assert violation.problem.key == "sandboxes[0].groups[1].name"
    assert_located(violation, loaded.path, line_of(loaded.path, "- name: team"))


def test_rule5_same_personal_dataset_granted_twice_is_not_linking(tmp_path: Path) -> None:
    loaded = build(
        tmp_path, TWO_PERSONAL, group("team", ("woz", "research"), ("woz", "statistics"))
    )
    assert by_rule(evaluate(loaded, TODAY), 5) == []


# ------------------------------------------------------------------------------------- rule 6

PSEUDO = [card("pseudo", kind="regular", identifiability="pseudonymised")]


def test_rule6_tier2_with_isolation_passes(tmp_path: Path) -> None:
    loaded = build(tmp_path, PSEUDO, group("team", ("pseudo", "research")))
    assert evaluate(loaded, TODAY) == []


def test_rule6_does_not_apply_below_tier2(tmp_path: Path) -> None:
    loaded = build(
        tmp_path,
        [card("open")],
        group("team", ("open", "research")),
        max_tier=1,
        spawner="local",
        network={"egress": True},
        expires=DROP,
        idle_timeout=None,
    )
    assert evaluate(loaded, TODAY) == []


@pytest.mark.parametrize(
    ("override", "needle", "message"),
    [
        ({"spawner": "local"}, "spawner: local", "container isolation"),
        ({"network": {"egress": True}}, "network:", "network.egress: false"),
        ({"expires": DROP}, "- name: lab", "an expires date"),
        ({"idle_timeout": None}, "- name: lab", "an idle_timeout"),
    ],
    ids=["local-spawner", "egress", "no-expires", "no-idle-timeout"],
)
def test_rule6_tier2_without_isolation_fails(
    tmp_path: Path, override: dict[str, Any], needle: str, message: str
) -> None:
    loaded = build(tmp_path, PSEUDO, group("team", ("pseudo", "research")), **override)
    [violation] = evaluate(loaded, TODAY)
    assert violation.rule == 6
    assert (violation.sandbox, violation.group, violation.dataset) == ("lab", None, None)
    assert not violation.warning
    assert f"holds tier 2 data, so it needs {message}" in violation.message
    assert_located(violation, loaded.path, line_of(loaded.path, needle))


def test_rule6_reports_every_missing_safeguard(tmp_path: Path) -> None:
    loaded = build(
        tmp_path,
        PSEUDO,
        group("team", ("pseudo", "research")),
        spawner="local",
        network={"egress": True},
        expires=DROP,
        idle_timeout=None,
    )
    assert len(by_rule(evaluate(loaded, TODAY), 6)) == 4


# ------------------------------------------------------------------------------------- rule 7


def test_rule7_valid_agreement_and_unexpired_sandbox_pass(tmp_path: Path) -> None:
    agreement = {"reference": "GLP-1", "valid_until": TODAY}
    loaded = build(
        tmp_path,
        [card("open", agreement=agreement)],
        group("team", ("open", "research")),
        expires=TODAY,
    )
    assert evaluate(loaded, TODAY) == []


def test_rule7_expired_agreement_on_granted_dataset_is_an_error(tmp_path: Path) -> None:
    agreement = {"reference": "GLP-1", "valid_until": PAST}
    loaded = build(
        tmp_path, [card("open", agreement=agreement)], group("team", ("open", "research"))
    )
    [violation] = evaluate(loaded, TODAY)
    assert violation.rule == 7
    assert not violation.warning
    assert (violation.sandbox, violation.group, violation.dataset) == ("lab", "team", "open")
    assert f"agreement GLP-1 expired on {PAST.isoformat()}" in violation.message
    assert_located(violation, loaded.path, line_of(loaded.path, "- dataset: open"))


def test_rule7_expired_agreement_on_ungranted_dataset_is_ignored(tmp_path: Path) -> None:
    agreement = {"reference": "GLP-1", "valid_until": PAST}
    loaded = build(
        tmp_path,
        [card("open"), card("old", agreement=agreement)],
        group("team", ("open", "research")),
    )
    assert evaluate(loaded, TODAY) == []


def test_rule7_sandbox_past_expires_is_a_warning(tmp_path: Path) -> None:
    loaded = build(tmp_path, [card("open")], group("team", ("open", "research")), expires=PAST)
    [violation] = evaluate(loaded, TODAY)
    assert violation.rule == 7
    assert violation.warning
    assert (violation.sandbox, violation.group, violation.dataset) == ("lab", None, None)
    assert "no new servers will start" in violation.message
    assert violation.problem.key == "sandboxes[0].expires"
    assert_located(violation, loaded.path, line_of(loaded.path, "expires:"))
    assert errors([violation]) == []


# ------------------------------------------------------------------------------------ enforce


def test_enforce_raises_every_error_at_once(tmp_path: Path) -> None:
    agreement = {"reference": "GLP-1", "valid_until": PAST}
    loaded = build(
        tmp_path,
        [
            card("ident", kind="regular", identifiability="identifiable", dpia=DROP),
            card("open", agreement=agreement),
        ],
        group("team", ("ident", "research"), ("open", "marketing")),
        max_tier=2,
        spawner="local",
        expires=PAST,
    )
    found = evaluate(loaded, TODAY)
    assert {v.rule for v in errors(found)} == {1, 3, 4, 6, 7}
    with pytest.raises(PolicyViolation) as caught:
        enforce(loaded, TODAY)
    assert caught.value.exit_code == 2
    problems = caught.value.problems
    assert len(problems) == len(errors(found))
    rendered = str(caught.value)
    for violation in errors(found):
        assert f"rule {violation.rule} [" in rendered
    assert "rule 1 [lab/team/ident]" in rendered
    assert "rule 4 [lab/team/open]" in rendered
    assert "rule 3 [ident]" in rendered
    # the warning (sandbox expired) is not among the errors
    assert all("no new servers" not in p.message for p in problems)
    assert all(p.file and p.line for p in problems)


def test_enforce_returns_warnings_when_there_are_no_errors(tmp_path: Path) -> None:
    loaded = build(tmp_path, [card("open")], group("team", ("open", "research")), expires=PAST)
    [warning] = enforce(loaded, TODAY)
    assert warning.rule == 7 and warning.warning


def test_enforce_returns_nothing_for_a_clean_config(tmp_path: Path) -> None:
    loaded = build(tmp_path, PSEUDO, group("team", ("pseudo", "research")))
    assert enforce(loaded, TODAY) == []


def test_demo_config_is_clean_today_and_expires_later(demo_copy: Path) -> None:
    loaded = load_config(demo_copy)
    assert evaluate(loaded, TODAY) == []
    later = evaluate(loaded, dt.date(2028, 1, 2))
    assert {(v.rule, v.dataset, v.warning) for v in later} == {
        (7, "woz-2024", False),
        (7, "meldingen-openbare-ruimte-2024", False),
        (7, None, True),
    }
