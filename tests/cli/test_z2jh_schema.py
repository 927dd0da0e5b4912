"""`sandbox export z2jh` against the Zero to JupyterHub chart's own values schema.

The schema and the chart's defaults are those of chart 4.4.0 (tests/data/z2jh,
README there). Helm validates the chart's defaults merged with the user's values,
so the tests merge the same way before validating (Draft 7, as the schema says).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.cli.test_z2jh import export

CHART = Path(__file__).resolve().parents[1] / "data" / "z2jh"
SCHEMA = json.loads((CHART / "values.schema.json").read_text())
DEFAULTS = yaml.safe_load((CHART / "values.yaml").read_text())


def coalesce(defaults: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Helm's merge of a chart's defaults with the user's values: the user's
    value wins, maps merge key by key, and a null removes the default's key."""
    merged = copy.deepcopy(defaults)
    for key, value in values.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = coalesce(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def schema_errors(values: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMA)
    errors = validator.iter_errors(coalesce(DEFAULTS, values))
    return sorted(f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors)


def test_the_stored_schema_is_draft_7_and_takes_the_charts_own_defaults():
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    assert schema_errors({}) == []


def test_the_demo_export_meets_the_chart_schema(demo_copy: Path, tmp_path: Path):
    assert schema_errors(export(demo_copy, tmp_path)) == []


def test_other_resources_and_idle_timeout_meet_it(demo_copy: Path, tmp_path: Path):
    text = demo_copy.read_text()
    text = text.replace("idle_timeout: 1h", "idle_timeout: 30m")
    text = text.replace("{memory: 2G, cpus: 1.0}", "{memory: 512M, cpus: 2.5}")
    demo_copy.write_text(text)
    values = export(demo_copy, tmp_path)
    assert values["cull"] == {"enabled": True, "timeout": 1800, "every": 450}
    assert values["singleuser"]["cpu"] == {"limit": 2.5, "guarantee": 0.5}
    assert values["singleuser"]["memory"]["limit"] == 512 * 1024**2
    assert schema_errors(values) == []


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        # a KubeSpawner trait name is no chart key: helm refuses the whole file
        (
            ("singleuser", "extraContainerConfig"),
            {"securityContext": {}},
            "singleuser: Additional properties are not allowed ('extraContainerConfig'",
        ),
        (("hub", "colour"), "blue", "hub: Additional properties are not allowed ('colour'"),
        (("cull", "timeout"), "1h", "cull.timeout: '1h' is not of type 'integer', 'null'"),
        # hub.config sections are traitlets class names, capitalised
        (("hub", "config", "kubeSpawner"), {}, "hub.config: 'kubeSpawner' does not match"),
    ],
)
def test_the_schema_refuses_what_helm_would(
    demo_copy: Path, tmp_path: Path, path: tuple[str, ...], value: Any, expected: str
):
    values = export(demo_copy, tmp_path)
    *parents, key = path
    target = values
    for parent in parents:
        target = target[parent]
    target[key] = value
    errors = schema_errors(values)
    assert len(errors) == 1 and errors[0].startswith(expected), errors


def test_a_null_removes_a_default_the_schema_requires(demo_copy: Path, tmp_path: Path):
    values = export(demo_copy, tmp_path)
    values["singleuser"]["storage"]["homeMountPath"] = None
    assert schema_errors(values) == ["singleuser.storage: 'homeMountPath' is a required property"]
