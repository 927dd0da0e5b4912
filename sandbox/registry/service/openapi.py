"""The OpenAPI 3.1 document of the registry service's JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..lifecycle import (
    REASON_REQUIRED,
    SERVICE,
    STATES,
    FieldSpec,
    amendable_fields,
    experiment_fields,
    field_types,
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "400": _json(_ref("Error"), "Malformed request"),
    "401": _json(_ref("Error"), "Not logged in / no token"),
    "403": _json(_ref("Error"), "Not allowed for this user"),
}


def field_schema(kind: Any, spec: FieldSpec) -> dict[str, Any]:
    """The JSON Schema of one experiment field (sandbox.registry.lifecycle.Experiment)."""
    if kind is bool:
        schema: dict[str, Any] = {"type": "boolean"}
    elif kind == tuple[str, ...]:
        schema = {"type": "array", "items": {"type": "string"}}
    elif kind == dict[str, Any]:
        schema = {"type": "object"}
    elif kind is datetime:
        schema = {"type": "string", "format": "date-time"}
    else:
        schema = {"type": "string"}
        if spec.required:
            schema["minLength"] = 1
        if spec.pattern:
            schema["pattern"] = spec.pattern
        if spec.max_length:
            schema["maxLength"] = spec.max_length
    return {**schema, "description": spec.help}


def document(prefix: str) -> dict[str, Any]:
    text = {"type": "string"}
    types = field_types()
    every_field = {item.name: field_schema(types[item.name], s) for item, s in experiment_fields()}
    new_fields = {item.name: every_field[item.name] for item, _ in experiment_fields(SERVICE)}
    new_fields["team"] = {**new_fields["team"], "description": "default: your group"}
    event = {
        "type": "object",
        "required": ["experiment", "seq", "to_state", "at", "actor"],
        "properties": {
            "experiment": text,
            "seq": {"type": "integer"},
            "from_state": {"type": ["string", "null"]},
            "to_state": {"type": "string", "enum": list(STATES)},
            "at": {"type": "string", "format": "date-time"},
            "actor": text,
            "reason": text,
            "changes": {
                "type": "object",
                "description": "an amendment's changes (field -> {from, to}); "
                "absent on a transition",
                "additionalProperties": {
                    "type": "object",
                    "required": ["from", "to"],
                    "properties": {"from": {}, "to": {}},
                },
            },
        },
    }
    amended_fields = {name: every_field[name] for name in amendable_fields(SERVICE)}
    needs_reason = ", ".join(REASON_REQUIRED)
    experiment = {
        "type": "object",
        "required": [
            "id",
            *(i.name for i, s in experiment_fields() if s.required),
            "state",
            "events",
        ],
        "properties": {
            **every_field,
            "state": {"type": "string", "enum": list(STATES)},
            "events": {"type": "array", "items": _ref("Event")},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "data-sandbox experiment registry",
            "version": "1.0.0",
            "description": "Experiments and their append-only lifecycle events.",
        },
        "servers": [{"url": prefix.rstrip("/") + "/api"}],
        "components": {
            "securitySchemes": {
                "hubToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`token <JupyterHub API token>`",
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": text},
                },
                "Event": event,
                "Experiment": experiment,
                "NewExperiment": {
                    "type": "object",
                    # team is required too, but defaults to the caller's group
                    "required": [
                        i.name
                        for i, s in experiment_fields(SERVICE)
                        if s.required and i.name != "team"
                    ],
                    "additionalProperties": False,
                    "properties": new_fields,
                },
                "NewTransition": {
                    "type": "object",
                    "required": ["to"],
                    "additionalProperties": False,
                    "properties": {
                        "to": {"type": "string", "enum": list(STATES)},
                        "reason": {
                            **text,
                            "description": f"why; required (non-empty) to {needs_reason}",
                        },
                    },
                },
                "NewAmendment": {
                    "type": "object",
                    "required": ["fields"],
                    "additionalProperties": False,
                    "properties": {
                        "fields": {
                            "type": "object",
                            "description": "the new values; at least one must differ",
                            "minProperties": 1,
                            "additionalProperties": False,
                            "properties": amended_fields,
                        },
                        "reason": text,
                    },
                },
            },
        },
        "security": [{"hubToken": []}],
        "paths": {
            "/me": {
                "get": {
                    "summary": "Who you are here and your roles",
                    "responses": {"200": _json({"type": "object"}, "The caller"), **ERRORS},
                }
            },
            "/report": {
                "get": {
                    "summary": "The manager report (managers and admins)",
                    "parameters": [
                        {"name": n, "in": "query", "required": False, "schema": text}
                        for n in ("since", "until", "team", "sandbox")
                    ],
                    "responses": {"200": _json({"type": "object"}, "The report"), **ERRORS},
                }
            },
            "/experiments": {
                "get": {
                    "summary": "Experiments you may read",
                    "responses": {
                        "200": _json({"type": "array", "items": _ref("Experiment")}, "List"),
                        **ERRORS,
                    },
                },
                "post": {
                    "summary": "Register an experiment in this sandbox (analysts)",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("NewExperiment")}},
                    },
                    "responses": {"201": _json(_ref("Experiment"), "Registered"), **ERRORS},
                },
            },
            "/experiments/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": text}],
                "get": {
                    "summary": "One experiment with its events",
                    "responses": {
                        "200": _json(_ref("Experiment"), "The experiment"),
                        "404": _json(_ref("Error"), "Unknown experiment"),
                        **ERRORS,
                    },
                },
            },
            "/experiments/{id}/transitions": {
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": text}],
                "post": {
                    "summary": "Move your experiment to its next state",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("NewTransition")}},
                    },
                    "responses": {
                        "201": _json(_ref("Event"), "The new event"),
                        "404": _json(_ref("Error"), "Unknown experiment"),
                        "409": _json(_ref("Error"), "Transition not allowed now"),
                        **ERRORS,
                    },
                },
            },
            "/experiments/{id}/amendments": {
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": text}],
                "post": {
                    "summary": "Give some fields of your experiment new values (an event)",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("NewAmendment")}},
                    },
                    "responses": {
                        "201": _json(_ref("Event"), "The amendment"),
                        "404": _json(_ref("Error"), "Unknown experiment"),
                        **ERRORS,
                    },
                },
            },
        },
    }
