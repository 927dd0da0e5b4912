"""The configuration reference: every key of ``sandbox.yaml`` and of a data card,
read from the model's JSON Schema, with its type in YAML words (enums listed,
never a class name), whether it is required, its default and its description
from ``descriptions``. ``docgen`` writes it as docs/configuration.md and
``sandbox schema`` puts the descriptions into the JSON Schema it prints.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from .descriptions import DATA_CARD, SANDBOX_YAML, Extra

Kind = Literal["config", "datacard"]


@dataclass(frozen=True)
class Row:
    key: str  # as the reference shows it: sandboxes[].auth.type
    type: str
    required: bool
    default: str
    description: str


def model_of(kind: Kind) -> type[BaseModel]:
    from .model import DataCard, SandboxConfig

    return SandboxConfig if kind == "config" else DataCard


def descriptions_of(kind: Kind) -> dict[str, str | Extra]:
    return SANDBOX_YAML if kind == "config" else DATA_CARD


def model_keys(kind: Kind) -> list[str]:
    """Every key the model has, in the order the reference lists them."""
    return [key for key, _ in properties(kind)]


def properties(kind: Kind) -> list[tuple[str, dict[str, Any]]]:
    """Every key the model has with its JSON Schema property."""
    schema = model_of(kind).model_json_schema(by_alias=True)
    return [(key, prop) for key, prop, _, _ in _walk(schema, schema.get("$defs", {}), "")]


def rows(kind: Kind) -> list[Row]:
    """The model's keys, each followed by the documented keys inside it that the
    model leaves free (a Table Schema's fields and their ``pii``)."""
    schema = model_of(kind).model_json_schema(by_alias=True)
    described = descriptions_of(kind)
    found = []
    for key, prop, required, _ in _walk(schema, schema.get("$defs", {}), ""):
        text = described.get(key, "")
        found.append(
            Row(
                key,
                type_text(prop, schema.get("$defs", {})),
                required,
                default_text(prop.get("default")),
                text if isinstance(text, str) else text.description,
            )
        )
        for inner, extra in described.items():
            if isinstance(extra, Extra) and inner.rsplit(".", 1)[0].removesuffix("[]") == key:
                found += _extra_rows(inner, described)
    return found


def _extra_rows(key: str, described: dict[str, str | Extra]) -> list[Row]:
    extra = described[key]
    assert isinstance(extra, Extra)
    found = [Row(key, extra.type, extra.required, extra.default, extra.description)]
    for inner, more in described.items():
        if isinstance(more, Extra) and inner.rsplit(".", 1)[0].removesuffix("[]") == key:
            found += _extra_rows(inner, described)
    return found


def described_schema(kind: Kind) -> dict[str, Any]:
    """The model's JSON Schema with each property's description from ``descriptions``."""
    schema = copy.deepcopy(model_of(kind).model_json_schema(by_alias=True))
    described = descriptions_of(kind)
    for key, prop, _, _ in _walk(schema, schema.get("$defs", {}), ""):
        text = described.get(key)
        if isinstance(text, str):
            prop["description"] = text
    return schema


def _walk(
    schema: dict[str, Any], defs: dict[str, Any], prefix: str
) -> Iterator[tuple[str, dict[str, Any], bool, dict[str, Any]]]:
    """(key, its property node, required, the object it holds if any), depth first."""
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        key = f"{prefix}{name}"
        inner = _object(prop, defs)
        yield key, prop, name in required, inner or {}
        if inner:
            yield from _walk(inner, defs, key + ".")
        items = prop.get("items", {})
        listed = _object(items, defs) if isinstance(items, dict) else None
        if listed:
            yield from _walk(listed, defs, key + "[].")


def _object(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any] | None:
    """The object with properties a node holds: directly, by $ref, or as one of anyOf."""
    for option in [node, *node.get("anyOf", [])]:
        target = _resolve(option, defs)
        if "properties" in target:
            return target
    return None


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        return defs[node["$ref"].rsplit("/", 1)[1]]
    return node


def type_text(node: dict[str, Any], defs: dict[str, Any]) -> str:
    """``integer, 0–3``, ``list of nl / en / fy / de``, ``date or null``: YAML words."""
    node = {**_resolve(node, defs), **{k: v for k, v in node.items() if k != "$ref"}}
    if "anyOf" in node:
        options = [type_text(option, defs) for option in node["anyOf"]]
        shown = [o for o in options if o != "null"]
        text = " or ".join(shown)
        if len(shown) < len(options):
            text += ", or null" if "/" in text else " or null"
        return text
    if "enum" in node:
        return " / ".join(_scalar(v) for v in node["enum"])
    if "const" in node:
        return _scalar(node["const"])
    kind = node.get("type")
    if kind == "array":
        if "prefixItems" in node:
            return "list [" + ", ".join(type_text(i, defs) for i in node["prefixItems"]) + "]"
        items = node.get("items")
        return f"list of {type_text(items, defs)}" if items else "list"
    if kind in ("integer", "number"):
        return kind + _bounds(node)
    if kind == "string" and node.get("format") in ("date", "date-time"):
        return str(node["format"])
    if kind is None or kind == "object":
        return "object"
    return str(kind)


def _bounds(node: dict[str, Any]) -> str:
    low, high = node.get("minimum"), node.get("maximum")
    if low is not None and high is not None:
        return f", {low}–{high}"
    parts = []
    if "exclusiveMinimum" in node:
        parts.append(f"> {node['exclusiveMinimum']}")
    elif low is not None:
        parts.append(f"≥ {low}")
    if "exclusiveMaximum" in node:
        parts.append(f"< {node['exclusiveMaximum']}")
    elif high is not None:
        parts.append(f"≤ {high}")
    return ", " + " and ".join(parts) if parts else ""


def default_text(value: Any) -> str:
    """A default as it is written in YAML; nothing for null and empty or nested values."""
    if value is None or isinstance(value, dict) or value == []:
        return ""
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    return _scalar(value)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)
