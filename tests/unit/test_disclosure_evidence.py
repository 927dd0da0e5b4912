"""A table made in the notebook with sandbox_client.outputs.table carries the
evidence the airlock needs: its checks of the handed-in file give ACRO's
verdicts on the microdata, cell by cell."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from sandbox.governance import disclosure
from tests.unit.test_disclosure_acro import acro_verdicts_on_microdata, microdata

sys.path.insert(0, str(Path(__file__).parents[2] / "images" / "notebook" / "sandbox_client"))
from sandbox_client import outputs


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("aggfunc", ["count", "sum", "mean"])
def test_the_airlock_checks_a_notebook_table_as_acro_checks_the_microdata(
    tmp_path: Path, seed: int, aggfunc: str
):
    frame = microdata(seed)
    path = tmp_path / "table.csv"
    outputs.table(
        frame, "wijk", "klasse", None if aggfunc == "count" else "woz", aggfunc, str(path)
    )
    evidence = Path(str(path) + disclosure.EVIDENCE_SUFFIX)
    assert json.loads(evidence.read_text())["format"] == disclosure.EVIDENCE_FORMAT
    check = disclosure.check_file(path, "table.csv", disclosure.Rules(), set(), evidence)
    theirs, their_status = acro_verdicts_on_microdata(
        seed, "crosstab", None if aggfunc == "count" else aggfunc
    )
    ours = {key: set() for key in theirs}
    for finding in check.findings:
        for cell in finding.cells:
            ours[tuple(cell)].add(finding.check)
    assert ours == theirs
    assert check.status == their_status


def test_the_evidence_holds_no_row(tmp_path: Path):
    frame = microdata(0)
    path = tmp_path / "t.csv"
    outputs.table(frame, "wijk", "klasse", "woz", "sum", str(path))
    cells = json.loads(Path(str(path) + ".sdc.json").read_text())["cells"]
    assert set().union(*(cell.keys() for cell in cells)) == {"key", "n", "sum", "top", "negatives"}
    assert all(len(cell["top"]) <= 2 for cell in cells)
