"""The airlock's disclosure rules on hand-computed tables."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from sandbox.governance import disclosure
from sandbox.governance.disclosure import Cell, Rules

RULES = Rules()


def magnitude(key: str, values: list[float]) -> Cell:
    top = tuple(sorted(values, reverse=True)[:2])
    return Cell((key,), len(values), sum(values), top, sum(1 for v in values if v < 0))


@pytest.mark.parametrize(("count", "fails"), [(0, True), (9, True), (10, False), (11, False)])
def test_threshold_is_fewer_than_ten_rows(count: int, fails: bool):
    assert disclosure.threshold(Cell(("a",), count), RULES) is fails


def test_zeros_only_when_they_are_disclosive():
    assert disclosure.zeros(Cell(("a",), 0), RULES)
    assert not disclosure.zeros(Cell(("a",), 0), Rules(zeros_disclosive=False))
    assert not disclosure.zeros(Cell(("a",), 1), RULES)


def test_nk_fails_at_exactly_ninety_percent():
    # 10 contributions: 45 + 45 of 100 -> 0.90 >= 0.90
    assert disclosure.nk(magnitude("a", [45, 45] + [1.25] * 8), RULES)
    # 44 + 45 of 99 -> 0.899 passes
    assert not disclosure.nk(magnitude("a", [44, 45] + [1.25] * 8), RULES)
    assert disclosure.nk(magnitude("a", [5.0]), RULES)  # one contributor dominates itself
    assert not disclosure.nk(magnitude("a", []), RULES)  # empty: 0/0 is not dominated
    assert not disclosure.nk(magnitude("a", [0.0] * 12), RULES)


def test_p_ratio_fails_below_ten_percent():
    # x1 = 100, x2 = 50, rest 10 -> p = 0.10 passes (strict <)
    assert not disclosure.p_ratio(magnitude("a", [100, 50, 5, 5]), RULES)
    # rest 9 -> p = 0.09 fails
    assert disclosure.p_ratio(magnitude("a", [100, 50, 4.5, 4.5]), RULES)
    assert disclosure.p_ratio(magnitude("a", [7.0]), RULES)  # alone: p = 0
    assert not disclosure.p_ratio(magnitude("a", []), RULES)
    # ACRO's quirk, kept for equal verdicts: an all-zero cell fails
    assert disclosure.p_ratio(magnitude("a", [0.0] * 12), RULES)


def test_a_negative_contribution_turns_dominance_into_review():
    cells = [magnitude("a", [1e9] + [1.0] * 20), magnitude("b", [-5.0] + [1.0] * 20)]
    findings = {f.check: f for f in disclosure.check_cells(cells, "magnitude", RULES)}
    assert set(findings) == {"negatives"}
    assert findings["negatives"].status == "review"
    assert findings["negatives"].cells == [["b"]]


def test_frequency_tables_get_threshold_and_zeros_only():
    cells = [Cell(("a",), 3), Cell(("b",), 0), Cell(("c",), 12)]
    findings = {f.check: f.cells for f in disclosure.check_cells(cells, "frequency", RULES)}
    assert findings == {"threshold": [["a"], ["b"]], "zeros": [["b"]]}


def test_cells_from_rows_counts_missing_magnitudes_as_rows_not_contributions():
    rows = [("a", 5.0), ("a", float("nan")), ("a", 3.0), ("b", None)]
    cells = {c.key: c for c in disclosure.cells_from_rows(rows, [0], 1)}
    assert cells[("a",)] == Cell(("a",), 3, 8.0, (5.0, 3.0), 0)
    assert cells[("b",)] == Cell(("b",), 1, 0.0, (), 0)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_crosstab_of_counts_is_checked_cell_by_cell(tmp_path: Path):
    table = write(tmp_path, "t.csv", "wijk,<1945,>1945\nA,12,3\nB,40,0\n")
    check = disclosure.check_file(table, "t.csv", RULES, set())
    assert (check.status, check.kind) == ("fail", "frequency")
    flagged = {f.check: f.cells for f in check.findings}
    assert flagged == {
        "threshold": [["A", ">1945"], ["B", ">1945"]],
        "zeros": [["B", ">1945"]],
        "structure": [],
    }


def test_whole_numbers_without_evidence_are_read_as_counts_but_need_review(tmp_path: Path):
    # sums of whole euros look like counts: without evidence no silent pass
    table = write(tmp_path, "t.csv", "wijk,<1945,>1945\nA,12,15\nB,40,10\n")
    check = disclosure.check_file(table, "t.csv", RULES, set())
    assert check.status == "review"
    assert [f.check for f in check.findings] == ["structure"]


def test_a_suppressed_table_with_a_count_column_passes(tmp_path: Path):
    table = write(tmp_path, "t.csv", "wijk,klasse,aantal\nA,<1945,12\nA,>1945,15\nB,<1945,40\n")
    check = disclosure.check_file(table, "t.csv", RULES, set())
    assert (check.status, check.findings) == ("pass", [])


def test_count_columns_are_found_by_their_name(tmp_path: Path):
    table = write(tmp_path, "t.csv", "wijk;jaar;aantal\nA;2024;25\nB;2024;4\n")
    check = disclosure.check_file(table, "t.csv", RULES, set())
    assert check.findings[0].cells == [["B", "2024", "aantal"]]


def test_a_table_of_means_without_evidence_needs_review(tmp_path: Path):
    table = write(tmp_path, "t.csv", "wijk,mean_woz\nA,312000.5\nB,280000.25\n")
    check = disclosure.check_file(table, "t.csv", RULES, set())
    assert check.status == "review"
    assert check.findings[0].check == "structure"


def test_evidence_beside_a_table_decides_dominance(tmp_path: Path):
    table = write(tmp_path, "t.csv", "wijk,sum_woz\nA,1000000\nB,400\n")
    cells = [
        {"key": ["A"], "n": 20, "sum": 1000000, "top": [950000, 1000]},
        {"key": ["B"], "n": 20, "sum": 400, "top": [20, 20]},
    ]
    made_for = hashlib.sha256(table.read_bytes()).hexdigest()
    data = {"format": "sandbox-sdc/1", "kind": "magnitude", "table_sha256": made_for}
    evidence = write(tmp_path, "t.csv.sdc.json", json.dumps({**data, "cells": cells}))
    check = disclosure.check_file(table, "t.csv", RULES, set(), evidence)
    assert check.status == "fail"
    assert {f.check: f.cells for f in check.findings} == {"nk": [["A"]], "p-ratio": [["A"]]}
    # the table changed after its evidence was made: the evidence no longer vouches for it
    table.write_text("wijk,sum_woz\nA,1000000\nB,400\nC,3\n")
    changed = disclosure.check_file(table, "t.csv", RULES, set(), evidence)
    assert "evidence" in {f.check for f in changed.findings}


def test_personal_data_columns_fail(tmp_path: Path):
    table = write(tmp_path, "t.csv", "BSN,aantal\n123,40\n")
    check = disclosure.check_file(table, "t.csv", RULES, {"bsn"})
    assert check.status == "fail"
    assert check.findings[0].check == "pii"


@pytest.mark.parametrize("name", ["model.pkl", "plot.png", "analysis.ipynb"])
def test_other_files_are_never_a_silent_pass(tmp_path: Path, name: str):
    path = write(tmp_path, name, "x")
    check = disclosure.check_file(path, name, RULES, set())
    assert check.status == "review"
    assert "manual review" in check.findings[0].message


def test_parquet_and_xlsx_tables_are_read(tmp_path: Path):
    import pandas

    frame = pandas.DataFrame({"wijk": ["A", "B"], "n": [25, 4]})
    frame.to_parquet(tmp_path / "t.parquet")
    frame.to_excel(tmp_path / "t.xlsx", index=False)
    for name in ("t.parquet", "t.xlsx"):
        check = disclosure.check_file(tmp_path / name, name, RULES, set())
        found = {f.check: f for f in check.findings}
        assert found["threshold"].cells == [["B", "n"]], name
        # other sheets or metadata are not checked: never a plain pass
        assert found["format"].status == "review", name
