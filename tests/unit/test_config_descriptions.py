"""The configuration reference describes every key of the model, lists every
enum, and never shows a class name (docs/configuration.md, `sandbox schema`)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from sandbox.config.descriptions import DATA_CARD, SANDBOX_YAML, Extra
from sandbox.config.reference import (
    described_schema,
    descriptions_of,
    model_keys,
    model_of,
    properties,
    rows,
    type_text,
)
from sandbox.devtools.docgen import config_reference

KINDS = ("config", "datacard")


@pytest.mark.parametrize("kind", KINDS)
def test_every_key_of_the_model_is_described(kind):
    described = descriptions_of(kind)
    missing = [
        key
        for key in model_keys(kind)
        if not isinstance(described.get(key), str) or not str(described[key]).strip()
    ]
    assert not missing, (
        f"describe these keys in sandbox/config/descriptions.py (one sentence each): {missing}"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_no_description_is_left_for_a_key_the_model_lost(kind):
    keys = set(model_keys(kind))
    described = descriptions_of(kind)
    stale = [k for k, v in described.items() if isinstance(v, str) and k not in keys]
    assert not stale
    for key, value in described.items():
        if isinstance(value, Extra):  # inside a free value of a model key, or of another Extra
            parent = key.rsplit(".", 1)[0].removesuffix("[]")
            assert parent in keys or isinstance(described.get(parent), Extra), key


def class_names() -> set[str]:
    names = set()
    for kind in KINDS:
        schema = model_of(kind).model_json_schema(by_alias=True)
        names |= set(schema.get("$defs", {}))
        names.add(str(schema.get("title")))
    return names


@pytest.mark.parametrize("kind", KINDS)
def test_no_class_name_or_python_value_leaks(kind):
    leaked = re.compile(r"\b(" + "|".join(sorted(class_names())) + r")\b")
    for row in rows(kind):
        assert not leaked.search(row.type), (row.key, row.type)
        assert not re.search(r"\b(True|False|None)\b", f"{row.type} {row.default}"), row.key
    reference = config_reference()
    assert "Dpia" not in reference and "Agreement, null" not in reference


def enum_values(node: Any, defs: dict[str, Any]) -> set[str]:
    """The enum values in a property, not those of the objects it holds."""
    if isinstance(node, list):
        return set().union(set(), *(enum_values(v, defs) for v in node))
    if not isinstance(node, dict):
        return set()
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[1]]
        return {str(v) for v in target.get("enum", [])}
    found = {str(v) for v in node.get("enum", [])}
    for key in ("anyOf", "items", "prefixItems"):
        found |= enum_values(node.get(key), defs)
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_every_enum_is_listed(kind):
    defs = model_of(kind).model_json_schema(by_alias=True).get("$defs", {})
    shown = {row.key: row.type for row in rows(kind)}
    checked = 0
    for key, prop in properties(kind):
        for value in enum_values(prop, defs):
            assert re.search(rf"(^| ){re.escape(value)}($| |,)", shown[key]), (key, value)
            checked += 1
    assert checked >= 10  # the check ran


def test_identifiability_shows_its_choices():
    row = next(r for r in rows("datacard") if r.key == "personal_data.identifiability")
    assert row.type == "identifiable / pseudonymised / aggregated / anonymous, or null"
    kind = next(r for r in rows("datacard") if r.key == "personal_data.kind")
    assert kind.type == "none / regular / special / criminal / national-id"


def test_dpia_and_agreement_are_objects_or_null():
    types = {r.key: r.type for r in rows("datacard")}
    assert types["dpia"] == "object or null"
    assert types["agreement"] == "object or null"
    assert types["language"] == "list of nl / en / fy / de"
    assert types["issued"] == "date or null"


def test_pii_in_a_table_schema_is_documented():
    keys = [r.key for r in rows("datacard")]
    at = keys.index("files[].schema")
    assert keys[at + 1] == "files[].schema.fields"
    pii = next(r for r in rows("datacard") if r.key == "files[].schema.fields[].pii")
    assert pii.type == "boolean" and "personal data" in pii.description
    assert "| `files[].schema.fields[].pii` | boolean |" in config_reference()


def test_defaults_are_written_as_yaml():
    defaults = {r.key: r.default for r in rows("config")}
    assert defaults["sandboxes[].network.egress"] == "true"
    assert defaults["sandboxes[].airlock.nk"] == "[2, 0.9]"
    assert defaults["sandboxes[].expires"] == ""


def test_type_text_reads_like_yaml():
    assert type_text({"type": "integer", "minimum": 0, "maximum": 3}, {}) == "integer, 0–3"
    assert type_text({"type": "number", "exclusiveMinimum": 0}, {}) == "number, > 0"
    ref = {"$ref": "#/$defs/Thing"}
    assert type_text({"anyOf": [ref, {"type": "null"}]}, {"Thing": {"type": "object"}}) == (
        "object or null"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_the_json_schema_carries_every_description(kind):
    schema = described_schema(kind)
    described = descriptions_of(kind)
    top = "sandboxes" if kind == "config" else "files"
    assert schema["properties"][top]["description"] == described[top]
    text = json.dumps(schema)
    for key in model_keys(kind):
        assert json.dumps(described[key]) in text, key


def test_the_two_tables_are_not_mixed_up():
    assert "sandboxes" in SANDBOX_YAML and "sandboxes" not in DATA_CARD
    assert "personal_data" in DATA_CARD and "personal_data" not in SANDBOX_YAML
