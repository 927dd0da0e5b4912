"""The experiment lifecycle and promotion gate (PRODUCT.md section 6), without a database."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from sandbox.errors import InvalidInput
from sandbox.registry.lifecycle import (
    ALGORITMEREGISTER_STATUS,
    FINAL,
    STATES,
    TRANSITIONS,
    Event,
    Experiment,
    TransitionRefused,
    check_transition,
    current_state,
    gate_problems,
)

# Written out from PRODUCT.md section 6, independently of sandbox.registry.lifecycle.TRANSITIONS.
EXPECTED_ALLOWED = {
    ("proposed", "approved"),
    ("proposed", "stopped"),
    ("approved", "exploring"),
    ("approved", "stopped"),
    ("exploring", "validated"),
    ("exploring", "stopped"),
    ("validated", "in_production"),
    ("validated", "exploring"),
    ("validated", "stopped"),
    ("in_production", "retired"),
}
EXPECTED_STATES = {
    "proposed",
    "approved",
    "exploring",
    "validated",
    "in_production",
    "stopped",
    "retired",
}
EXPECTED_FINAL = {"stopped", "retired"}
ALL_PAIRS = list(itertools.product(sorted(EXPECTED_STATES), repeat=2))


def experiment(**overrides: object) -> Experiment:
    """A complete experiment: every gate field filled, personal data with a DPIA."""
    base = Experiment(
        id="EXP-0001",
        title="WOZ model",
        team="belastingen",
        sandbox="demo",
        owner="alice",
        purpose="policy-research",
        registered_at=datetime(2025, 1, 10, 9, 0, tzinfo=UTC),
        registered_by="alice",
        datasets=("woz-2024",),
        personal_data=True,
        human_intervention="a civil servant reviews every outcome",
        risks="bias against older houses",
        proportionality="no less intrusive alternative",
        dpia_reference="DPIA-2024-07",
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def test_states_match_product() -> None:
    assert set(STATES) == EXPECTED_STATES
    assert len(STATES) == len(EXPECTED_STATES)
    assert set(TRANSITIONS) == EXPECTED_STATES


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_every_pair_of_states(current: str, target: str) -> None:
    record = experiment()
    if (current, target) in EXPECTED_ALLOWED:
        check_transition(record, current, target)  # does not raise
        assert target in TRANSITIONS[current]
        return
    with pytest.raises(TransitionRefused) as caught:
        check_transition(record, current, target)
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.exit_code == 2
    message = str(caught.value)
    assert f"{current} -> {target}" in message
    assert record.id in message
    assert target not in TRANSITIONS[current]


def test_allowed_table_has_no_extra_transitions() -> None:
    actual = {(s, t) for s, targets in TRANSITIONS.items() for t in targets}
    assert actual == EXPECTED_ALLOWED


@pytest.mark.parametrize("current", sorted(EXPECTED_STATES))
@pytest.mark.parametrize("target", ["", "production", "Approved", "deleted", "proposed "])
def test_unknown_target_state_is_refused(current: str, target: str) -> None:
    with pytest.raises(TransitionRefused) as caught:
        check_transition(experiment(), current, target)
    assert caught.value.exit_code == 2
    assert "unknown state" in str(caught.value)
    assert repr(target) in str(caught.value)


@pytest.mark.parametrize("final", sorted(EXPECTED_FINAL))
def test_final_states_have_no_transitions(final: str) -> None:
    assert final in FINAL
    assert TRANSITIONS[final] == frozenset()
    for target in sorted(EXPECTED_STATES):
        with pytest.raises(TransitionRefused) as caught:
            check_transition(experiment(), final, target)
        assert "final" in str(caught.value)


def test_final_set_is_exactly_stopped_and_retired() -> None:
    assert set(FINAL) == EXPECTED_FINAL


def test_algoritmeregister_status_mapping() -> None:
    assert ALGORITMEREGISTER_STATUS == {
        "exploring": "In ontwikkeling",
        "validated": "In ontwikkeling",
        "in_production": "In gebruik",
        "retired": "Buiten gebruik",
    }
    for state in ("proposed", "approved", "stopped"):
        assert state not in ALGORITMEREGISTER_STATUS


# --- the promotion gate -------------------------------------------------------------------


def test_gate_passes_with_all_fields() -> None:
    record = experiment()
    assert gate_problems(record) == []
    check_transition(record, "validated", "in_production")


def test_gate_without_personal_data_needs_no_dpia() -> None:
    record = experiment(personal_data=False, dpia_reference="")
    assert gate_problems(record) == []
    check_transition(record, "validated", "in_production")


@pytest.mark.parametrize("blank", ["", " ", "\t\n  "])
@pytest.mark.parametrize("name", ["human_intervention", "risks", "proportionality"])
def test_gate_refuses_each_missing_field(name: str, blank: str) -> None:
    record = experiment(personal_data=False, **{name: blank})
    assert gate_problems(record) == [name]
    with pytest.raises(TransitionRefused) as caught:
        check_transition(record, "validated", "in_production")
    assert caught.value.exit_code == 2
    message = str(caught.value)
    assert "in_production" in message
    assert name in message
    assert record.id in message
    for other in {"human_intervention", "risks", "proportionality", "dpia_reference"} - {name}:
        assert other not in message


@pytest.mark.parametrize("blank", ["", "   "])
def test_gate_with_personal_data_needs_dpia(blank: str) -> None:
    record = experiment(personal_data=True, dpia_reference=blank)
    assert gate_problems(record) == ["dpia_reference"]
    with pytest.raises(TransitionRefused) as caught:
        check_transition(record, "validated", "in_production")
    assert "dpia_reference" in str(caught.value)


def test_gate_lists_everything_missing() -> None:
    record = experiment(
        personal_data=True,
        human_intervention="",
        risks=" ",
        proportionality="",
        dpia_reference="",
    )
    assert gate_problems(record) == [
        "human_intervention",
        "risks",
        "proportionality",
        "dpia_reference",
    ]
    with pytest.raises(TransitionRefused) as caught:
        check_transition(record, "validated", "in_production")
    message = str(caught.value)
    for name in ("human_intervention", "risks", "proportionality", "dpia_reference"):
        assert name in message


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("proposed", "approved"),
        ("approved", "exploring"),
        ("exploring", "validated"),
        ("validated", "exploring"),
        ("validated", "stopped"),
        ("in_production", "retired"),
    ],
)
def test_gate_applies_only_to_promotion(current: str, target: str) -> None:
    record = experiment(human_intervention="", risks="", proportionality="", dpia_reference="")
    check_transition(record, current, target)  # does not raise


def test_promotion_from_wrong_state_is_a_lifecycle_refusal() -> None:
    with pytest.raises(TransitionRefused) as caught:
        check_transition(experiment(), "exploring", "in_production")
    assert "exploring -> in_production" in str(caught.value)


def test_current_state() -> None:
    at = datetime(2025, 1, 10, tzinfo=UTC)
    assert current_state([]) == "proposed"
    events = [
        Event("EXP-0001", 0, None, "proposed", at, "alice"),
        Event("EXP-0001", 1, "proposed", "approved", at, "carol"),
    ]
    assert current_state(events) == "approved"


# ------------------------------------------------------------ reasons and amendments


@pytest.mark.parametrize("target", ["approved", "stopped"])
def test_decisions_need_a_reason_unless_the_history_comes_from_elsewhere(target):
    from sandbox.registry.lifecycle import ReasonRequired

    with pytest.raises(ReasonRequired, match=f"proposed -> {target} needs a reason"):
        check_transition(experiment(), "proposed", target, " ")
    check_transition(experiment(), "proposed", target, "agreed")
    check_transition(experiment(), "proposed", target)  # None: an import's history


def test_an_amendment_says_what_changed_and_the_latest_values_follow_from_the_events():
    from sandbox.registry.lifecycle import amend, latest_values

    registered = experiment(risks="", datasets=("woz-2024",))
    first, changes = amend(registered, "validated", {"risks": "bias", "datasets": ["a", "b"]})
    assert changes == {
        "risks": {"from": "", "to": "bias"},
        "datasets": {"from": ["woz-2024"], "to": ["a", "b"]},
    }
    assert first.datasets == ("a", "b")
    second, more = amend(first, "validated", {"risks": "bias, checked", "datasets": ("a", "b")})
    assert more == {"risks": {"from": "bias", "to": "bias, checked"}}  # datasets: unchanged
    at = datetime(2025, 2, 1, tzinfo=UTC)
    history = [
        Event("EXP-0001", 0, None, "proposed", at, "alice"),
        Event("EXP-0001", 1, "validated", "validated", at, "carol", "", changes),
        Event("EXP-0001", 2, "validated", "validated", at, "carol", "", more),
    ]
    assert latest_values(registered, history) == second
    assert current_state(history) == "validated"


def test_a_known_names_check_lists_the_known_values():
    from sandbox.registry.known_names import KnownNames

    known = KnownNames(
        {"demo": ("belastingen", "leefomgeving")}, ("woz-2024",), ("policy-research",)
    )
    assert known.problems(experiment()) == []
    found = known.problems(experiment(sandbox="werkinkomn", team="jeugd", datasets=("x",)))
    assert found == [
        "unknown sandbox 'werkinkomn'; known: demo",
        "unknown team 'jeugd'; known: belastingen, leefomgeving",
        "unknown dataset 'x'; known: woz-2024",
    ]
    assert known.problems(experiment(team="jeugd"), ["risks"]) == []  # only the given fields
    service = KnownNames.of_service(
        {"sandbox": "demo", "teams": {"alice": ["belastingen"], "carol": []}}
    )
    assert service.groups == {"demo": ("belastingen",)} and service.datasets is None
    assert service.problems(experiment(purpose="anything")) == []  # no catalog: not checked
