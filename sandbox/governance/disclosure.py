"""Statistical disclosure control for outputs leaving the airlock: the table
rules of ACRO (SACRO project, PyPI ``acro``) as pure functions of per-cell
evidence, and what a handed-in file can be checked for.

The rules follow acro 1.0.2 exactly (tests/unit/test_disclosure_acro.py runs
ACRO beside them on the same crosstabs and pivot tables):

* threshold: a cell fails when fewer than ``threshold`` rows make it (< 10);
* zeros: a cell of a frequency table fails when no row makes it;
* N-K dominance: a cell fails when its ``n`` largest contributions are at
  least ``k`` of its total ((x1 + x2) / total >= 0.9);
* p-ratio dominance: a cell fails when (total - x1 - x2) / x1 < p (0.10),
  i.e. the second-largest contributor can estimate the largest within p%;
* negatives: when any cell holds a negative contribution, dominance is not
  defined: those cells need review and N-K/p-ratio are not evaluated.

Frequency tables (counts) get threshold and zeros; magnitude tables (sums and
means) get threshold, N-K and p-ratio, as in ACRO's ontology.

A suppressed cell (blank, NaN, or one of the markers ``*``, ``x``, ``.``; in
evidence, ``"suppressed": true``) shows nothing, so no rule applies to it; the
table gets a ``suppressed`` note naming those cells. A count that cannot be
read (inf, a fraction, text) is never taken as a number: the table gets
``review``.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..host.hashing import sha256_file

PASS, REVIEW, FAIL = "pass", "review", "fail"
SEVERITY = {PASS: 0, REVIEW: 1, FAIL: 2}
EVIDENCE_SUFFIX = ".sdc.json"
EVIDENCE_FORMAT = "sandbox-sdc/1"
TABULAR = {".csv", ".parquet", ".xlsx"}
# headers that make a column a count column (case-insensitive)
COUNT_HEADER = re.compile(r"^(n|count|counts|aantal|freq|frequency)$|_(n|count|aantal)$", re.I)
# what a suppressed cell holds besides a blank or NaN (case-insensitive): ACRO's
# and pandas' blank, the usual asterisk, and the CBS's "x" (secret) and "." (not
# available); not "-", which the CBS uses for zero
SUPPRESSION_MARKERS = frozenset({"", "*", "x", "."})


@dataclass(frozen=True)
class Rules:
    threshold: int = 10
    p_ratio: float = 0.10
    nk_n: int = 2
    nk_k: float = 0.90
    zeros_disclosive: bool = True


@dataclass(frozen=True)
class Cell:
    """One cell's evidence: the rows that make it and, for a magnitude
    table, their total and largest contributions (descending)."""

    key: tuple[str, ...]
    count: int
    total: float | None = None
    top: tuple[float, ...] = ()
    negatives: int = 0
    suppressed: bool = False  # shows nothing: no rule applies
    unreadable: bool = False  # holds something that is not a count: review by hand


def threshold(cell: Cell, rules: Rules) -> bool:
    return cell.count < rules.threshold


def zeros(cell: Cell, rules: Rules) -> bool:
    return rules.zeros_disclosive and cell.count == 0


def nk(cell: Cell, rules: Rules) -> bool:
    if not cell.total or not cell.top:  # empty or all-zero cell: 0/0, not dominated
        return False
    return sum(cell.top[: rules.nk_n]) / cell.total >= rules.nk_k


def p_ratio(cell: Cell, rules: Rules) -> bool:
    if not cell.top or cell.total is None:  # empty cell passes
        return False
    x1 = cell.top[0]
    rest = cell.total - sum(cell.top[:2])
    # ACRO keeps the bare remainder where x1 == 0 (an all-zero cell fails)
    p = rest if x1 == 0 else rest / x1
    return p < rules.p_ratio


FREQUENCY_CHECKS = {"threshold": threshold, "zeros": zeros}
MAGNITUDE_CHECKS = {"threshold": threshold, "nk": nk, "p-ratio": p_ratio}
DOMINANCE = {"nk", "p-ratio"}


@dataclass
class Finding:
    check: str
    status: str
    message: str
    cells: list[list[str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status,
            "message": self.message,
            "cells": self.cells,
        }


@dataclass
class FileCheck:
    """The verdict on one requested file."""

    path: str
    status: str
    kind: str  # frequency | magnitude | other
    findings: list[Finding] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "kind": self.kind,
            "findings": [f.as_dict() for f in self.findings],
        }


def worst(statuses: Iterable[str]) -> str:
    return max(statuses, key=SEVERITY.__getitem__, default=PASS)


def check_cells(cells: Sequence[Cell], kind: str, rules: Rules) -> list[Finding]:
    """Every rule of the table's kind over its cells; a finding per rule that flags any."""
    checks = FREQUENCY_CHECKS if kind == "frequency" else MAGNITUDE_CHECKS
    suppressed = [list(c.key) for c in cells if c.suppressed]
    unreadable = [list(c.key) for c in cells if c.unreadable and not c.suppressed]
    shown = [c for c in cells if not (c.suppressed or c.unreadable)]
    negative = [list(c.key) for c in shown if c.negatives]
    findings = []
    for name, rule in checks.items():
        if name in DOMINANCE and negative:
            continue
        flagged = [list(c.key) for c in shown if rule(c, rules)]
        if flagged:
            findings.append(Finding(name, FAIL, _MESSAGES[name].format(rules=rules), flagged))
    if negative:
        findings.append(Finding("negatives", REVIEW, _MESSAGES["negatives"], negative))
    if unreadable:
        findings.append(Finding("unreadable", REVIEW, _MESSAGES["unreadable"], unreadable))
    if suppressed:
        findings.append(Finding("suppressed", PASS, _MESSAGES["suppressed"], suppressed))
    return findings


_MESSAGES = {
    "threshold": "cells made by fewer than {rules.threshold} rows",
    "zeros": "cells that no row makes (zeros are disclosive)",
    "nk": "cells dominated by their {rules.nk_n} largest contributions (>= {rules.nk_k:.0%})",
    "p-ratio": "cells whose largest contribution can be estimated within {rules.p_ratio:.0%}",
    "negatives": "negative contributions: dominance is not defined, review by hand",
    "unreadable": "cells that cannot be read as counts (inf, fractions or text): not"
    " checked, manual review",
    "suppressed": "suppressed cells (blank, NaN, *, x or .): no rule applies to them; check"
    " that totals shown elsewhere do not give them away (secondary suppression)",
}


def cells_from_rows(
    rows: Iterable[Sequence[Any]], keys: Sequence[int], value: int | None, n: int = 2
) -> list[Cell]:
    """Evidence per cell from microdata: ``keys`` are the positions of the
    grouping columns, ``value`` the magnitude's (None: a frequency table).
    Missing magnitudes count as rows but not as contributions, as in ACRO."""
    counts: dict[tuple[str, ...], int] = {}
    values: dict[tuple[str, ...], list[float]] = {}
    for row in rows:
        key = tuple(str(row[i]) for i in keys)
        counts[key] = counts.get(key, 0) + 1
        if value is not None:
            x = row[value]
            if x is not None and not (isinstance(x, float) and math.isnan(x)):
                values.setdefault(key, []).append(float(x))
    cells = []
    for key, count in counts.items():
        if value is None:
            cells.append(Cell(key, count))
            continue
        contributions = values.get(key, [])
        top = tuple(sorted(contributions, reverse=True)[: max(n, 2)])
        negatives = sum(1 for x in contributions if x < 0)
        cells.append(Cell(key, count, sum(contributions), top, negatives))
    return cells


def read_evidence(path: Path) -> tuple[str, list[Cell], str]:
    """The evidence the notebook client writes beside a table (``X.csv.sdc.json``):
    the table's kind, its cells, and the sha256 of the table it was made for."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != EVIDENCE_FORMAT:
        raise ValueError(f"not {EVIDENCE_FORMAT} evidence")
    kind = data["kind"]
    if kind not in ("frequency", "magnitude"):
        raise ValueError(f"unknown table kind {kind!r}")
    cells = [_evidence_cell(cell) for cell in data["cells"]]
    return kind, cells, str(data.get("table_sha256", ""))


def _evidence_cell(cell: dict[str, Any]) -> Cell:
    key = tuple(str(k) for k in cell["key"])
    if cell.get("suppressed"):
        return Cell(key, 0, suppressed=True)
    count = _finite(cell["n"], key)
    if count != int(count):
        raise ValueError(f"cell {list(key)}: n {count} is not a whole number")
    return Cell(
        key,
        int(count),
        None if cell.get("sum") is None else _finite(cell["sum"], key),
        tuple(_finite(x, key) for x in cell.get("top", [])),
        int(_finite(cell.get("negatives", 0), key)),
    )


def _finite(value: Any, key: tuple[str, ...]) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"cell {list(key)}: {value} is not a finite number")
    return number


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def read_count(text: str) -> int | None:
    """A count cell's whole number; None when it is suppressed (blank, NaN or
    a marker). A value that is not a count (inf, a fraction, text) raises
    ValueError."""
    value = text.strip()
    if value.lower() in SUPPRESSION_MARKERS:
        return None
    number = _number(value)
    if number is not None and math.isnan(number):
        return None
    if number is None or not math.isfinite(number) or number != int(number):
        raise ValueError(f"{text!r} is not a count")
    return int(number)


def count_cell(key: tuple[str, ...], text: str) -> Cell:
    try:
        count = read_count(text)
    except ValueError:
        return Cell(key, 0, unreadable=True)
    if count is None:
        return Cell(key, 0, suppressed=True)
    return Cell(key, count, negatives=int(count < 0))


def read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV; Parquet and XLSX when pandas can read them."""
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            sample = handle.read(4096)
            handle.seek(0)
            try:
                dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel
            rows = list(csv.reader(handle, dialect))
        return (rows[0], rows[1:]) if rows else ([], [])
    import pandas  # only for Parquet and XLSX

    frame = (
        pandas.read_parquet(path) if path.suffix.lower() == ".parquet" else pandas.read_excel(path)
    )
    frame = frame.reset_index() if frame.index.name else frame
    header = [str(c) for c in frame.columns]
    return header, [["" if pandas.isna(v) else str(v) for v in row] for row in frame.to_numpy()]


def cells_from_counts(header: list[str], rows: list[list[str]]) -> list[Cell] | None:
    """A handed-in frequency table, by the documented rule: count columns are
    named like counts (n, count, aantal, ..._n); without one, a table whose
    every cell but the first column is a whole number (or suppressed, or not
    finite) is a crosstab of counts. None: this is not recognisably a table
    of counts."""
    named = [i for i, name in enumerate(header) if COUNT_HEADER.search(name.strip())]
    if named:
        labels = [i for i in range(len(header)) if i not in named]
        return [
            count_cell(tuple([row[j] for j in labels if j < len(row)] + [header[i]]), row[i])
            for row in rows
            for i in named
            if i < len(row)
        ]
    if len(header) < 2 or not rows:
        return None
    shown = [
        (row[0], header[j], row[j]) for row in rows for j in range(1, min(len(row), len(header)))
    ]
    cells = [count_cell((label, column), text) for label, column, text in shown]
    for cell, (_, _, text) in zip(cells, shown, strict=True):
        number = _number(text.strip())
        if cell.unreadable and (number is None or math.isfinite(number)):
            return None  # text or fractions: labels or means, not counts
    if all(c.suppressed or c.unreadable for c in cells):
        return None
    return cells


def check_file(
    path: Path,
    shown_as: str,
    rules: Rules,
    pii_columns: set[str],
    evidence: Path | None = None,
) -> FileCheck:
    """What the automatic checks say of one file. Never a silent pass: a file
    they cannot judge is ``review`` with the reason."""
    suffix = path.suffix.lower()
    if suffix not in TABULAR:
        return FileCheck(
            shown_as,
            REVIEW,
            "other",
            [Finding("manual", REVIEW, "no automatic check: manual review")],
        )
    try:
        header, rows = read_table(path)
    except (ImportError, ValueError, OSError, UnicodeDecodeError) as exc:
        message = f"could not be read as a table ({exc}): manual review"
        return FileCheck(shown_as, REVIEW, "other", [Finding("manual", REVIEW, message)])
    findings = []
    leaked = sorted({h for h in header if h.strip().lower() in pii_columns})
    if leaked:
        message = "personal-data columns (pii: true in a mounted dataset): " + ", ".join(leaked)
        findings.append(Finding("pii", FAIL, message))
    if suffix != ".csv":
        message = (
            f"a {suffix} file can hold more than the table checked here (other sheets,"
            " metadata): review the file itself"
        )
        findings.append(Finding("format", REVIEW, message))
    kind, cells = "other", None
    if evidence is not None:
        try:
            kind, cells, made_for = read_evidence(evidence)
        except (ValueError, KeyError, TypeError, OverflowError) as exc:
            findings.append(Finding("evidence", REVIEW, f"unreadable evidence: {exc}"))
        else:
            if made_for != sha256_file(path):
                message = "the evidence was made for another version of this table"
                findings.append(Finding("evidence", REVIEW, message))
    if cells is None:
        cells = cells_from_counts(header, rows)
        kind = "frequency" if cells is not None else "other"
        if cells is not None and not any(COUNT_HEADER.search(h.strip()) for h in header):
            message = (
                "read as counts (whole numbers, no evidence beside it): if they are sums,"
                " dominance was not checked; review by hand or make it with"
                " sandbox_client.outputs.table"
            )
            findings.append(Finding("structure", REVIEW, message))
    if cells is None:
        message = (
            "a table without counts or evidence: dominance cannot be checked, manual review"
            " (make it with sandbox_client.outputs.table to check it)"
        )
        findings.append(Finding("structure", REVIEW, message))
    else:
        findings.extend(check_cells(cells, kind, rules))
    return FileCheck(shown_as, worst(f.status for f in findings), kind, findings)
