"""Our disclosure rules give ACRO's verdicts, cell by cell, on the same
crosstabs and pivot tables (acro 1.0.2, run here beside them)."""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import itertools
import logging
import random
from typing import TYPE_CHECKING

import pytest

from sandbox.governance import disclosure
from sandbox.governance.disclosure import Cell, Rules

if TYPE_CHECKING:
    import pandas as pd

# pandas and acro load in the tests that use them, not at collection (one xdist
# worker runs them: IMPORT_GROUPS in tests/conftest.py)

ACRO_NAMES = {
    "MinimumThresholdCheck": "threshold",
    "PresenceOfZeroCheck": "zeros",
    "NKCheck": "nk",
    "PPercentCheck": "p-ratio",
}
WIJK = ["A", "B", "C", "D", "E"]
KLASSE = ["<1945", "1945-1990", ">1990"]


def microdata(seed: int, negatives: bool = False) -> pd.DataFrame:
    """Cells of every size around the threshold, some dominated, one empty."""
    import pandas as pd

    chance = random.Random(seed)
    rows = []
    for wijk, klasse in itertools.product(WIJK, KLASSE):
        if (wijk, klasse) == ("E", ">1990"):
            continue  # an empty cell
        size = chance.choice([1, 2, 3, 9, 10, 11, 25, 60])
        values = [chance.uniform(150_000, 450_000) for _ in range(size)]
        if chance.random() < 0.3:
            values[0] = chance.choice([5e6, 5e8])  # a dominating contribution
        if chance.random() < 0.1:
            values = [0.0] * size
        rows += [(wijk, klasse, v) for v in values]
    if negatives:
        rows.append(("A", "<1945", -5000.0))
    frame = pd.DataFrame(rows, columns=["wijk", "klasse", "woz"])
    frame["wijk"] = pd.Categorical(frame.wijk, categories=WIJK)
    frame["klasse"] = pd.Categorical(frame.klasse, categories=KLASSE)
    return frame


def quiet_acro():
    """ACRO's output unprinted, and its debug lines (f-strings, built even when
    not logged) without rendering whole DataFrames: display options only."""
    import pandas as pd

    stack = contextlib.ExitStack()
    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
    stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
    stack.enter_context(pd.option_context("display.max_rows", 1, "display.max_columns", 1))
    return stack


def acro_verdicts(frame: pd.DataFrame, kind: str, aggfunc: str | None) -> tuple[dict, str]:
    from acro import ACRO

    with quiet_acro():
        acro = ACRO(suppress=False)
        logging.getLogger("acro").setLevel(logging.ERROR)
        if kind == "crosstab":
            values = None if aggfunc is None else frame.woz
            acro.crosstab(frame.wijk, frame.klasse, values=values, aggfunc=aggfunc)
        else:
            acro.pivot_table(frame, index="wijk", columns="klasse", values="woz", aggfunc=aggfunc)
    record = acro.results.get(f"output_{acro.results.output_id - 1}")
    outcome = record.outcome
    verdicts = {}
    for row in outcome.index:
        for column in outcome.columns:
            label = column[-1] if isinstance(column, tuple) else column
            text = str(outcome.loc[row, column])
            flags = {ACRO_NAMES[x.strip()] for x in text.split(";") if x.strip() in ACRO_NAMES}
            verdicts[(str(row), str(label))] = flags
    return verdicts, record.status


@functools.cache
def _verdicts_on_microdata(seed: int, kind: str, aggfunc: str | None) -> tuple[dict, str]:
    return acro_verdicts(microdata(seed), kind, aggfunc)


def acro_verdicts_on_microdata(seed: int, kind: str, aggfunc: str | None) -> tuple[dict, str]:
    """ACRO's verdicts on ``microdata(seed)``: asked for by these tests and by
    test_disclosure_evidence for the same tables, so run once per worker."""
    verdicts, status = _verdicts_on_microdata(seed, kind, aggfunc)
    return copy.deepcopy(verdicts), status


def our_verdicts(frame: pd.DataFrame, aggfunc: str | None) -> tuple[dict, str]:
    rows = list(frame.itertuples(index=False, name=None))
    value = None if aggfunc is None else 2
    cells = {c.key: c for c in disclosure.cells_from_rows(rows, [0, 1], value)}
    for key in itertools.product(WIJK, KLASSE):
        cells.setdefault(key, Cell(key, 0, None if value is None else 0.0))
    kind = "frequency" if aggfunc is None else "magnitude"
    findings = disclosure.check_cells(list(cells.values()), kind, Rules())
    verdicts: dict = {key: set() for key in cells}
    for finding in findings:
        if finding.check != "negatives":
            for key in finding.cells:
                verdicts[tuple(key)].add(finding.check)
    return verdicts, disclosure.worst(f.status for f in findings)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    ("kind", "aggfunc"),
    [
        ("crosstab", None),
        ("crosstab", "sum"),
        ("crosstab", "mean"),
        ("pivot", "sum"),
        ("pivot", "mean"),
    ],
)
def test_same_verdicts_as_acro(seed: int, kind: str, aggfunc: str | None):
    frame = microdata(seed)
    theirs, their_status = acro_verdicts_on_microdata(seed, kind, aggfunc)
    ours, our_status = our_verdicts(frame, aggfunc)
    assert len(theirs) == len(WIJK) * len(KLASSE)
    assert {k: v for k, v in ours.items() if k in theirs} == theirs
    assert our_status == their_status


def test_the_cases_are_not_all_alike():
    # the random tables hit every rule, so the comparison above can fail
    seen = set()
    for seed in range(6):
        for aggfunc in (None, "sum"):
            for flags in our_verdicts(microdata(seed), aggfunc)[0].values():
                seen |= flags
    assert seen == {"threshold", "zeros", "nk", "p-ratio"}


@pytest.mark.parametrize("aggfunc", ["sum", "mean"])
def test_a_negative_value_makes_both_say_review(aggfunc: str):
    chance = random.Random(7)
    rows = [
        (wijk, klasse, chance.uniform(150_000, 450_000))
        for wijk, klasse in itertools.product(WIJK, KLASSE)
        for _ in range(20)
    ]
    rows[0] = ("A", "<1945", -5000.0)
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["wijk", "klasse", "woz"])
    _, their_status = acro_verdicts(frame, "pivot", aggfunc)
    _, our_status = our_verdicts(frame, aggfunc)
    assert (our_status, their_status) == ("review", "review")
