"""The Algoritmeregister standard 1.0 as JSON Schema, for the unit and CLI tests.

The register's own field configuration, github.com/MinBZK/Algoritmeregister
backend/app/schemas/config/v1_0.json at commit 4885a0537d142638732f7d83676800a701411e93
(tests/data/algoritmeregister, EUPL-1.2), translated to JSON Schema the way the
register's backend reads it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

STANDARD = Path(__file__).resolve().parent / "data" / "algoritmeregister" / "v1_0.json"


def _text_without_html(value: str) -> str:
    """backend/app/util/html.py strip_html: lxml's text nodes joined by one space."""
    from lxml import etree, html

    if not value.strip():
        return value
    return " ".join(etree.XPath("//text()")(html.document_fromstring(value)))


def _field(spec: dict[str, Any], top_level: bool) -> dict[str, Any]:
    """backend/app/schemas/versions.py _get_type_from_json_schema and _get_prop_dict:
    str, an enum of the permitted values, a list of those, of str (recommended
    items) or of objects; max_length counts the text without HTML and holds only on
    top-level fields (the validators are attached to AlgorithmIn alone)."""
    kind = spec["type"]
    if kind == "string":
        schema: dict[str, Any] = {"type": "string"}
        if spec.get("max_length") and top_level:
            schema["maxLengthWithoutHtml"] = spec["max_length"]
        return schema
    if kind == "enum":
        return {"enum": list(spec["permitted_values"])}
    assert kind == "array", kind
    if spec.get("permitted_values"):
        return {"type": "array", "items": {"enum": list(spec["permitted_values"])}}
    if spec.get("recommended_items") and "items" not in spec:
        return {"type": "array", "items": {"type": "string"}}
    return {"type": "array", "items": _object(spec["items"], top_level=False)}


def _object(properties: dict[str, Any], top_level: bool) -> dict[str, Any]:
    """Required fields must be there and not null; the others are Optional[...] = None.
    pydantic reads "required": "false" (source_data_grouping) as False. Unlike the
    backend (which ignores them), unknown fields are refused: they would be lost."""
    schema: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    for name, spec in properties.items():
        field_schema = _field(spec, top_level)
        if spec["required"] in (True, "true"):
            schema["required"].append(name)
        else:
            field_schema = {"anyOf": [field_schema, {"type": "null"}]}
        schema["properties"][name] = field_schema
    schema["additionalProperties"] = False
    return schema


def _max_length_without_html(validator, limit, instance, schema):
    if isinstance(instance, str) and len(_text_without_html(instance)) > limit:
        yield jsonschema.ValidationError(f"longer than {limit} characters without HTML")


def register_validator() -> jsonschema.protocols.Validator:
    """A validator of one register record (the flat body the submission API takes)."""
    standard = json.loads(STANDARD.read_text(encoding="utf-8"))
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema"}
    schema |= _object(standard["properties"], top_level=True)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.validators.extend(
        jsonschema.Draft202012Validator, {"maxLengthWithoutHtml": _max_length_without_html}
    )
    return validator(schema)


def violations(validator: jsonschema.protocols.Validator, record: dict) -> list[str]:
    """Each way ``record`` breaks the standard, as 'path: message', sorted."""
    return sorted(
        f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(record)
    )
