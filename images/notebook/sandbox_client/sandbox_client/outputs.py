"""Ask for an output to leave the sandbox through the airlock.

    from sandbox_client import outputs
    outputs.request("results/crosstab.csv", "table 3 of the council report")

The file (or folder) is copied at once out of your home into the airlock,
checked for disclosure risks, and released only when stewards approve it.
From a terminal: ``sandbox-output request PATH --why TEXT``.

A table made with ``outputs.table(frame, index, columns, values, aggfunc)``
is written with its evidence beside it (``NAME.sdc.json``: per cell the rows,
the total and the two largest contributions, and the table's sha256), so the
airlock can check dominance too, as ACRO does. Request the table and the
evidence goes with it; the airlock uses it for its checks and never releases
it (the largest contributions are individual values).

With ``suppress=True`` the table leaves blank every cell the airlock would
fail (threshold; for sums and means also N-K and p-ratio dominance, with the
sandbox's rules passed as ``threshold``, ``p_ratio`` and ``nk``), and its
evidence marks them suppressed: the airlock skips them and notes them. This
is primary suppression only: a cell that can be worked out from totals you
publish beside the table (secondary disclosure) is not blanked for you.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import sys
import tarfile
from typing import Any

from .client import Registry, RegistryError

HOME = "/home/jovyan"
EVIDENCE_FORMAT = "sandbox-sdc/1"


def request(
    path: str, justification: str, experiment: str | None = None, client: Registry | None = None
) -> dict[str, Any]:
    """Request ``path`` (relative to the current directory, as ``open`` reads
    it, or absolute), a file or folder in your home; the answer holds the
    request's id, files with sha256, and what the checks found."""
    body = {
        "path": home_relative(path),
        "justification": justification,
        "experiment": experiment or "",
    }
    registry = client or Registry()
    try:
        return registry._call("POST", "/outputs", body)
    except RegistryError as exc:
        # a swarm server on another node than the hub's: the airlock cannot
        # read this home, so the files go with the request
        if exc.status != 409 or "upload" not in exc.message:
            raise
    return registry._call("POST", "/outputs", {**body, "upload": packed(body["path"])})


def packed(relative: str) -> str:
    """``relative`` (a file or folder in the home) and the evidence beside it,
    as base64 of a tar; links are sent as links (the airlock refuses them)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:") as archive:
        for name in (relative, relative + ".sdc.json"):
            if os.path.lexists(os.path.join(HOME, name)):
                archive.add(os.path.join(HOME, name), arcname=name)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def home_relative(path: str) -> str:
    """``path`` as the airlock reads it: relative to your home. A notebook's
    kernel runs in the notebook's folder, so a relative path is taken from
    there; a path outside the home is refused (nothing is sent)."""
    full = os.path.abspath(path)
    relative = os.path.relpath(full, HOME)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        raise RegistryError(400, f"{path}: only files in your home can be requested")
    return relative


def table(
    frame: Any,
    index: str,
    columns: str | None = None,
    values: str | None = None,
    aggfunc: str = "count",
    path: str | None = None,
    suppress: bool = False,
    threshold: int = 10,
    p_ratio: float = 0.10,
    nk: tuple[int, float] = (2, 0.90),
) -> Any:
    """A crosstab (``aggfunc`` count) or table of sums or means of ``values``
    by ``index`` (and ``columns``) from microdata ``frame`` (pandas); with
    ``path``, written as CSV with its evidence at ``path + ".sdc.json"``.
    Every combination of the labels is a cell, empty ones included; rows
    with a missing label are left out, rows with a missing value count as
    rows but not as contributions (as in ACRO). With ``suppress``, cells the
    airlock's rules (``threshold``, ``p_ratio``, ``nk``) would fail are
    blank (primary suppression only)."""
    import numpy as np
    import pandas as pd

    if aggfunc not in ("count", "sum", "mean"):
        raise ValueError("aggfunc must be count, sum or mean")
    if aggfunc != "count" and values is None:
        raise ValueError(f"aggfunc {aggfunc} needs values")
    if not 1 <= nk[0] <= 2:
        raise ValueError("nk is [n, k] with n 1 or 2 (the evidence keeps two contributions)")
    keys = [index] + ([columns] if columns else [])
    # one integer per cell: each key's labels factorised once, sorted
    codes, labels = zip(*(pd.factorize(frame[k], sort=True) for k in keys), strict=True)
    known = np.logical_and.reduce([c >= 0 for c in codes])
    sizes = [len(label) for label in labels]
    cell = np.ravel_multi_index([c[known] for c in codes], sizes) if keys else None
    cells = int(np.prod(sizes))
    evidence: dict[str, Any] = {"n": np.bincount(cell, minlength=cells)}
    shown = evidence["n"].astype(float)
    if aggfunc != "count":
        value = frame[values].to_numpy(dtype=float)[known]
        present = ~np.isnan(value)
        value, cell = value[present], cell[present]
        evidence["sum"] = np.bincount(cell, weights=value, minlength=cells)
        evidence["negatives"] = np.bincount(cell, weights=value < 0, minlength=cells)
        # the two largest contributions of each cell: sort by cell, then value down
        order = np.lexsort((-value, cell))
        ranked_cells, ranked = cell[order], value[order]
        first = np.flatnonzero(np.r_[True, ranked_cells[1:] != ranked_cells[:-1]])
        top = np.full((cells, 2), np.nan)
        top[ranked_cells[first], 0] = ranked[first]
        second = first + 1
        second = second[
            (second < len(ranked)) & (np.r_[ranked_cells, -1][second] == ranked_cells[first])
        ]
        top[ranked_cells[second], 1] = ranked[second]
        evidence["top"] = top
        contributions = np.bincount(cell, minlength=cells)
        with np.errstate(invalid="ignore", divide="ignore"):
            shown = evidence["sum"] if aggfunc == "sum" else evidence["sum"] / contributions
    hidden = (
        _disclosive(evidence, aggfunc, threshold, p_ratio, nk)
        if suppress
        else np.zeros(cells, dtype=bool)
    )
    grid = pd.MultiIndex.from_product(labels, names=keys)
    result = pd.Series(shown, index=grid, name=values or "n")
    if aggfunc == "count":
        result = result.astype("Int64")  # a blank stays a blank, not a float
    result = result.mask(hidden)
    result = result.unstack(columns) if columns else result
    if path:
        result.to_csv(path)
        with open(path, "rb") as table_file:
            made_for = hashlib.sha256(table_file.read()).hexdigest()
        with open(path + ".sdc.json", "w", encoding="utf-8") as handle:
            handle.write(json.dumps(_evidence(grid, evidence, aggfunc, made_for, hidden)))
    return result


def _disclosive(
    evidence: dict[str, Any], aggfunc: str, threshold: int, p_ratio: float, nk: tuple[int, float]
) -> Any:
    """Per cell: would the airlock fail it (sandbox.governance.disclosure's
    rules, over the same evidence)? With a negative contribution anywhere
    dominance is not defined and only the threshold decides."""
    import numpy as np

    hidden = evidence["n"] < threshold
    if aggfunc == "count" or evidence["negatives"].any():
        return hidden
    total, top = evidence["sum"], evidence["top"]
    contributed = ~np.isnan(top[:, 0])
    with np.errstate(invalid="ignore", divide="ignore"):
        largest = np.nansum(top[:, : nk[0]], axis=1)
        dominated = contributed & (total != 0) & (largest / total >= nk[1])
        x1 = np.nan_to_num(top[:, 0])
        rest = total - np.nansum(top, axis=1)
        p = np.where(x1 == 0, rest, rest / np.where(x1 == 0, 1, x1))
        estimable = contributed & (p < p_ratio)
    return hidden | dominated | estimable


def _evidence(
    grid: Any, evidence: dict[str, Any], aggfunc: str, made_for: str, hidden: Any
) -> dict[str, Any]:
    kind = "frequency" if aggfunc == "count" else "magnitude"
    keys = [[str(k) for k in (key if isinstance(key, tuple) else (key,))] for key in grid]
    counts = evidence["n"].tolist()
    if kind == "frequency":
        cells = [{"key": key, "n": n} for key, n in zip(keys, counts, strict=True)]
    else:
        sums, negatives = evidence["sum"].tolist(), evidence["negatives"].tolist()
        tops = [[x for x in pair if x == x] for pair in evidence["top"].tolist()]
        cells = [
            {"key": key, "n": n, "sum": total, "top": top, "negatives": int(negative)}
            for key, n, total, top, negative in zip(
                keys, counts, sums, tops, negatives, strict=True
            )
        ]
    # a blanked cell keeps nothing but its key: it is shown as nothing
    cells = [
        {"key": cell["key"], "suppressed": True} if blank else cell
        for cell, blank in zip(cells, hidden.tolist(), strict=True)
    ]
    return {"format": EVIDENCE_FORMAT, "kind": kind, "table_sha256": made_for, "cells": cells}


def mine(client: Registry | None = None) -> list[dict[str, Any]]:
    """Your output requests and their state."""
    return (client or Registry())._call("GET", "/outputs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sandbox-output", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    asked = commands.add_parser("request", help="request a file or folder of your home")
    asked.add_argument("path")
    asked.add_argument("--why", required=True, help="why it must leave the sandbox")
    asked.add_argument("--experiment", default="")
    commands.add_parser("list", help="your requests")
    args = parser.parse_args(argv)
    try:
        if args.command == "request":
            answer = request(args.path, args.why, args.experiment)
            checks = answer["checks"]["status"]
            print(f"{answer['id']}: requested ({checks} by the automatic checks)")
        else:
            print(json.dumps(mine(), indent=2))
    except RegistryError as exc:
        print(f"sandbox-output: {exc.message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
