"""`sandbox report --format json` over a generated registry equals an
independent computation written here from the raw generated events."""

from __future__ import annotations

import json
import random
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.registry.db import open_registry_url
from sandbox.registry.importer import import_file

PATHS = [
    ["approved", "exploring", "validated", "in_production"],
    ["approved", "exploring", "validated", "in_production", "retired"],
    ["approved", "exploring", "validated", "exploring", "validated", "in_production"],
    ["stopped"],
    ["approved", "stopped"],
    ["approved", "exploring", "stopped"],
    ["approved", "exploring", "validated", "stopped"],
    ["approved"],
    ["approved", "exploring"],
    [],
]


def generate(count: int, seed: int) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)
    experiments, transitions = [], []
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for number in range(count):
        registered = start + timedelta(minutes=rng.randrange(0, 600 * 24 * 60))
        exp_id = f"GEN-{number:05d}"
        experiments.append(
            {
                "type": "experiment",
                "id": exp_id,
                "title": f"experiment {number}",
                "team": rng.choice(["belastingen", "leefomgeving", "jeugd"]),
                "sandbox": rng.choice(["demo", "pilot"]),
                "owner": "alice",
                "purpose": "policy-research",
                "registered_at": registered.isoformat(),
                "human_intervention": "a person decides",
                "risks": "bias",
                "proportionality": "ok",
            }
        )
        moment = registered
        for state in rng.choice(PATHS):
            moment += timedelta(hours=rng.randrange(1, 24 * 60))
            transitions.append(
                {
                    "type": "transition",
                    "experiment": exp_id,
                    "to": state,
                    "at": moment.isoformat(),
                    "actor": "carol",
                }
            )
    return experiments, transitions


def expected(experiments: list[dict], transitions: list[dict], since=None, until=None) -> dict:
    """The contract's definitions, computed straight from the generated records."""
    events: dict[str, list[dict]] = {}
    for t in transitions:
        events.setdefault(t["experiment"], []).append(t)
    rows = []
    for e in experiments:
        registered = datetime.fromisoformat(e["registered_at"])
        day = registered.date().isoformat()
        if (since and day < since) or (until and day >= until):
            continue
        mine = events.get(e["id"], [])
        production = [datetime.fromisoformat(t["at"]) for t in mine if t["to"] == "in_production"]
        stopped = [datetime.fromisoformat(t["at"]) for t in mine if t["to"] == "stopped"]
        rows.append(
            {
                "team": e["team"],
                "sandbox": e["sandbox"],
                "promoted": bool(production),
                "stopped": bool(stopped) and not production,
                "lead": (min(production) - registered).total_seconds() / 86400
                if production
                else None,
                "closed": min(production) if production else (min(stopped) if stopped else None),
                "entered": {"proposed"} | {t["to"] for t in mine},
            }
        )

    def block(items):
        promoted = sum(r["promoted"] for r in items)
        stopped = sum(r["stopped"] for r in items)
        leads = [r["lead"] for r in items if r["lead"] is not None]
        return {
            "registered": len(items),
            "open": len(items) - promoted - stopped,
            "promoted": promoted,
            "stopped": stopped,
            "conversion_rate": promoted / (promoted + stopped) if promoted + stopped else None,
            "median_lead_time_days": statistics.median(leads) if leads else None,
        }

    def by(key):
        return {k: block([r for r in rows if r[key] == k]) for k in sorted({r[key] for r in rows})}

    quarters: dict[str, list] = {}
    for r in rows:
        if r["closed"] is not None:
            c = r["closed"].astimezone(UTC)
            quarters.setdefault(f"{c.year}-Q{(c.month - 1) // 3 + 1}", []).append(r)
    by_quarter = {}
    for name in sorted(quarters):
        b = block(quarters[name])
        by_quarter[name] = {
            k: b[k] for k in ("promoted", "stopped", "conversion_rate", "median_lead_time_days")
        }
    states = ("proposed", "approved", "exploring", "validated", "in_production")
    return {
        "since": since,
        "until": until,
        "overall": block(rows),
        "by_team": by("team"),
        "by_sandbox": by("sandbox"),
        "by_quarter": by_quarter,
        "funnel": {s: sum(s in r["entered"] for r in rows) for s in states},
    }


def close(actual, wanted) -> None:
    if isinstance(wanted, dict):
        assert set(actual) == set(wanted)
        for key in wanted:
            close(actual[key], wanted[key])
    elif isinstance(wanted, float):
        assert abs(actual - wanted) < 1e-9
    else:
        assert actual == wanted


def test_report_equals_an_independent_computation(registry_url: str, tmp_path: Path, monkeypatch):
    experiments, transitions = generate(600, seed=7)
    data = tmp_path / "generated.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in experiments + transitions) + "\n")
    import_file(data, open_registry_url(registry_url))
    monkeypatch.setenv("SANDBOX_REGISTRY_URL", registry_url)
    runner = CliRunner()
    for since, until in ((None, None), ("2024-06-01", "2025-01-01")):
        args = ["report", "--format", "json"]
        args += ["--since", since, "--until", until] if since else []
        result = runner.invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        actual = json.loads(result.stdout)
        actual.pop("generated_at")
        close(actual, expected(experiments, transitions, since, until))
