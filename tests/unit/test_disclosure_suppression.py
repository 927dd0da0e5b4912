"""Suppressed tables in the airlock: blank, NaN and marked cells are skipped by
every rule and noted; a value that is not a count means manual review, never
a crash; sandbox_client.outputs.table(suppress=True) blanks what ACRO blanks."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest

from sandbox.governance import disclosure
from sandbox.governance.disclosure import Cell, Rules
from tests.unit.test_disclosure_acro import microdata, quiet_acro

sys.path.insert(0, str(Path(__file__).parents[2] / "images" / "notebook" / "sandbox_client"))
from sandbox_client import outputs

RULES = Rules()
# acro and pandas load in the tests that use them (see test_disclosure_acro)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def findings(check: disclosure.FileCheck) -> dict[str, tuple[str, list[list[str]]]]:
    return {f.check: (f.status, f.cells) for f in check.findings}


@pytest.mark.parametrize("marker", ["", "*", "x", "X", ".", "NaN", "nan", " * "])
def test_a_suppressed_count_passes_with_a_note(tmp_path: Path, marker: str):
    # without suppression the cell of 3 fails; blanked or marked it is not read as 0
    table = write(
        tmp_path, "t.csv", f"wijk,klasse,aantal\nA,<1945,12\nA,>1945,{marker}\nB,<1945,40\n"
    )
    check = disclosure.check_file(table, "t.csv", RULES, set())
    assert check.status == "pass"
    assert findings(check) == {"suppressed": ("pass", [["A", ">1945", "aantal"]])}
    assert "secondary suppression" in check.findings[0].message


def test_suppressed_cells_are_skipped_by_every_rule():
    counts = [Cell(("a",), 0, suppressed=True), Cell(("b",), 3), Cell(("c",), 12)]
    found = {f.check: f.cells for f in disclosure.check_cells(counts, "frequency", RULES)}
    assert found == {"threshold": [["b"]], "suppressed": [["a"]]}  # no zeros for "a"
    sums = [
        Cell(("a",), 0, suppressed=True),  # no total, no contributions: p-ratio would fail it
        Cell(("b",), 20, 1000.0, (950.0, 10.0)),  # dominated
        Cell(("c",), 20, 2000.0, (110.0, 105.0)),
    ]
    found = {f.check: f.cells for f in disclosure.check_cells(sums, "magnitude", RULES)}
    assert found == {"nk": [["b"]], "p-ratio": [["b"]], "suppressed": [["a"]]}


def test_a_suppressed_crosstab_without_a_count_header_is_still_read_as_counts(tmp_path: Path):
    table = write(tmp_path, "t.csv", "wijk,<1945,>1945\nA,12,*\nB,40,\n")
    check = disclosure.check_file(table, "t.csv", RULES, set())
    assert check.kind == "frequency"
    assert findings(check) == {
        "structure": ("review", []),  # whole numbers without evidence, as before
        "suppressed": ("pass", [["A", ">1945"], ["B", ">1945"]]),
    }


@pytest.mark.parametrize("value", ["inf", "-inf", "Infinity", "1e999", "12.5", "twelve"])
def test_a_count_that_cannot_be_read_means_manual_review(tmp_path: Path, value: str):
    table = write(tmp_path, "t.csv", f"wijk,aantal\nA,{value}\nB,40\n")
    check = disclosure.check_file(table, "t.csv", RULES, set())
    assert check.status == "review"
    status, cells = findings(check)["unreadable"]
    assert (status, cells) == ("review", [["A", "aantal"]])
    assert "manual review" in check.findings[0].message


@pytest.mark.parametrize("value", ["inf", "-inf", "NaN"])
def test_a_crosstab_with_a_value_that_is_not_finite_does_not_crash(tmp_path: Path, value: str):
    # these raised OverflowError / ValueError (a 500 through the service)
    table = write(tmp_path, "t.csv", f"wijk,<1945,>1945\nA,12,{value}\nB,40,15\n")
    check = disclosure.check_file(table, "t.csv", RULES, set())
    expected = "suppressed" if value == "NaN" else "unreadable"
    assert findings(check)[expected][1] == [["A", ">1945"]]
    assert check.status == "review"  # no count header and no evidence: review anyway


def test_fractions_or_text_in_a_crosstab_are_not_counts(tmp_path: Path):
    for text in ("wijk,a,b\nA,12.5,3\n", "wijk,a,b\nA,twelve,3\n", "wijk,a,b\nA,*,\n"):
        check = disclosure.check_file(write(tmp_path, "t.csv", text), "t.csv", RULES, set())
        assert (check.status, check.kind) == ("review", "other"), text
        assert [f.check for f in check.findings] == ["structure"], text


@pytest.mark.parametrize("n", ["NaN", "Infinity", "1e999", "2.5", '"many"'])
def test_evidence_that_is_not_finite_is_unreadable_not_a_crash(tmp_path: Path, n: str):
    table = write(tmp_path, "t.csv", "wijk,sum_woz\nA,1000\n")
    evidence = write(
        tmp_path,
        "t.csv.sdc.json",
        '{"format": "sandbox-sdc/1", "kind": "magnitude", "table_sha256": "",'
        f' "cells": [{{"key": ["A"], "n": {n}, "sum": 1000, "top": [10, 10]}}]}}',
    )
    check = disclosure.check_file(table, "t.csv", RULES, set(), evidence)
    assert check.status == "review"
    assert "unreadable evidence" in check.findings[0].message


def test_evidence_marks_suppressed_cells(tmp_path: Path):
    table = write(tmp_path, "t.csv", "wijk,sum_woz\nA,\nB,40000\n")
    cells = [
        {"key": ["A"], "suppressed": True},
        {"key": ["B"], "n": 20, "sum": 40000, "top": [2500, 2400]},
    ]
    made_for = disclosure.sha256_file(table)
    data = {
        "format": "sandbox-sdc/1",
        "kind": "magnitude",
        "table_sha256": made_for,
        "cells": cells,
    }
    evidence = write(tmp_path, "t.csv.sdc.json", json.dumps(data))
    check = disclosure.check_file(table, "t.csv", RULES, set(), evidence)
    assert (check.status, findings(check)) == ("pass", {"suppressed": ("pass", [["A"]])})


def test_missing_values_in_parquet_are_suppressed_cells(tmp_path: Path):
    import pandas

    frame = pandas.DataFrame({"wijk": ["A", "B"], "n": pandas.array([25, None], dtype="Int64")})
    frame.to_parquet(tmp_path / "t.parquet")
    check = disclosure.check_file(tmp_path / "t.parquet", "t.parquet", RULES, set())
    assert findings(check)["suppressed"] == ("pass", [["B", "n"]])
    assert "threshold" not in findings(check)


# ------------------------------------------------ the notebook's suppressed table


def test_table_suppress_blanks_the_cells_under_the_threshold_by_hand(tmp_path: Path):
    import pandas

    rows = [("A", "<1945")] * 12 + [("A", ">1945")] * 3 + [("B", "<1945")] * 40
    frame = pandas.DataFrame(rows, columns=["wijk", "klasse"])
    path = tmp_path / "t.csv"
    outputs.table(frame, "wijk", "klasse", path=str(path), suppress=True)
    # A >1945 holds 3 rows, B >1945 none: both blank
    assert path.read_text() == "wijk,<1945,>1945\nA,12,\nB,40,\n"
    cells = json.loads(Path(str(path) + ".sdc.json").read_text())["cells"]
    assert cells[1] == {"key": ["A", ">1945"], "suppressed": True}  # no count kept
    check = disclosure.check_file(path, "t.csv", RULES, set(), Path(str(path) + ".sdc.json"))
    assert (check.status, findings(check)) == (
        "pass",
        {"suppressed": ("pass", [["A", ">1945"], ["B", ">1945"]])},
    )
    # with the sandbox's own threshold
    outputs.table(frame, "wijk", "klasse", path=str(path), suppress=True, threshold=13)
    assert path.read_text() == "wijk,<1945,>1945\nA,,\nB,40,\n"


def test_table_suppress_blanks_dominated_sums_by_hand(tmp_path: Path):
    import pandas

    rows = [("A", 1000.0)] * 10 + [("B", 100_000.0)] + [("B", 10.0)] * 11
    frame = pandas.DataFrame(rows, columns=["wijk", "woz"])
    shown = outputs.table(frame, "wijk", None, "woz", "sum", suppress=True)
    # B: 100000 + 10 of 100110 is over 90% (N-K) and (100110 - 100010) / 100000 < 10% (p)
    assert shown.isna().tolist() == [False, True]
    assert shown["A"] == 10_000.0


def acro_blanks(frame, aggfunc: str) -> set[tuple[str, str]]:
    from acro import ACRO

    with quiet_acro():
        acro = ACRO(suppress=True)
        logging.getLogger("acro").setLevel(logging.ERROR)
        values = None if aggfunc == "count" else frame.woz
        table = acro.crosstab(
            frame.wijk, frame.klasse, values=values, aggfunc=None if aggfunc == "count" else aggfunc
        )
    return {(str(r), str(c)) for r in table.index for c in table.columns if table.isna().loc[r, c]}


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("aggfunc", ["count", "sum", "mean"])
def test_table_suppress_blanks_what_acro_blanks_and_the_airlock_passes_it(
    tmp_path: Path, seed: int, aggfunc: str
):
    frame = microdata(seed)
    values = None if aggfunc == "count" else "woz"
    path = tmp_path / "t.csv"
    shown = outputs.table(frame, "wijk", "klasse", values, aggfunc, str(path), suppress=True)
    ours = {(str(r), str(c)) for r in shown.index for c in shown.columns if shown.isna().loc[r, c]}
    assert ours == acro_blanks(frame, aggfunc)
    evidence = Path(str(path) + disclosure.EVIDENCE_SUFFIX)
    check = disclosure.check_file(path, "t.csv", RULES, set(), evidence)
    assert check.status == "pass"
    assert {tuple(cell) for cell in findings(check)["suppressed"][1]} == ours
    # and they are exactly the cells the airlock fails in the table left whole
    whole = tmp_path / "whole.csv"
    outputs.table(frame, "wijk", "klasse", values, aggfunc, str(whole))
    unsafe = disclosure.check_file(
        whole, "whole.csv", RULES, set(), Path(str(whole) + disclosure.EVIDENCE_SUFFIX)
    )
    assert {tuple(c) for f in unsafe.findings for c in f.cells} == ours


def test_table_refuses_an_nk_rule_its_evidence_cannot_hold():
    with pytest.raises(ValueError, match="n 1 or 2"):
        outputs.table(microdata(0), "wijk", "klasse", "woz", "sum", suppress=True, nk=(3, 0.9))


def test_a_row_longer_than_its_header_does_not_crash(tmp_path: Path):
    table = write(tmp_path, "t.csv", "wijk,a\nA,12,3\nB,40\n")
    check = disclosure.check_file(table, "t.csv", RULES, set())
    assert check.kind == "frequency"
