"""What travels with a dataset into the container: ``DATACARD.md`` for people
and ``datapackage.json`` (a Frictionless Data Package) for tools."""

from __future__ import annotations

import re
from datetime import date
from pathlib import PurePosixPath
from typing import Any

from ..config.model import DataCard
from .policy import dataset_tier

TIER_MEANING = {
    0: "public, no personal data",
    1: "not public, no personal data",
    2: "pseudonymised personal data",
    3: "identifiable or special personal data",
    4: "classified: never in a sandbox",
}


def _cell(value: object) -> str:
    """A value as one Markdown table cell: on one line, its pipes escaped."""
    return " ".join(str(value).split()).replace("|", "\\|")


def _line(label: str, value: object) -> str:
    return f"| {label} | {_cell(value) if value not in (None, '', []) else '-'} |"


def render_markdown(card: DataCard, quality: dict[str, Any] | None = None) -> str:
    tier = dataset_tier(card)
    personal = card.personal_data
    rows = [
        _line("Version", card.version),
        _line("Tier", f"{tier} ({TIER_MEANING[tier]})"),
        _line("Owner", card.owner),
        _line("Steward", card.steward),
        _line("Contact", card.contact_point),
        _line("Publisher", card.publisher),
        _line("License", card.license),
        _line("Access rights", card.access_rights),
        _line("Purposes (doelbinding)", ", ".join(card.purposes)),
        _line(
            "Classification",
            f"{card.classification.rubricering}; BIV "
            f"{card.classification.biv.beschikbaarheid}/{card.classification.biv.integriteit}/"
            f"{card.classification.biv.vertrouwelijkheid}",
        ),
        _line(
            "Personal data",
            personal.kind
            + (f", {personal.identifiability}" if personal.identifiability else "")
            + (
                f", categories: {', '.join(personal.special_categories)}"
                if personal.special_categories
                else ""
            ),
        ),
        _line("Legal basis", "; ".join(f"{b.ground} ({b.reference})" for b in card.legal_basis)),
        _line(
            "DPIA",
            f"{card.dpia.status} {card.dpia.reference or ''}".strip() if card.dpia else None,
        ),
        _line(
            "Retention",
            f"{card.retention.period}, then {card.retention.action} ({card.retention.basis})",
        ),
        _line(
            "Agreement",
            f"{card.agreement.reference}, valid until {card.agreement.valid_until}"
            if card.agreement
            else None,
        ),
    ]
    title = " ".join(card.title.split())
    lines = [f"# {title}", "", card.description.strip(), "", "| | |", "|---|---|", *rows, ""]
    lines += ["## Files", "", "| file | sha256 |", "|---|---|"]
    lines += [f"| {_cell(f.path)} | `{f.sha256}` |" for f in card.files]
    if quality is not None:
        lines += ["", "## Quality", ""]
        for item in quality.get("files", []):
            state = "valid" if item.get("valid") else f"{item.get('error_count', 0)} problem(s)"
            checked = "" if item.get("checked", True) else " (no schema: not checked)"
            rows = item.get("rows")
            counted = f"{rows} rows" if rows is not None else "rows not counted"
            lines.append(f"- {item['path']}: {counted}, {state}{checked}")
    lines += [
        "",
        "This folder is read-only. Use the data only for the purposes above; "
        "questions go to the steward.",
        "",
    ]
    return "\n".join(lines)


def resource_name(path: str, taken: set[str]) -> str:
    """A Data Package resource name: lower case letters, digits and ``-._/``,
    from the file's path without its suffix, unique within the package."""
    pure = PurePosixPath(path)
    for candidate in (str(pure.with_suffix("")), path):
        name = re.sub(r"[^-a-z0-9._/]+", "-", candidate.lower().replace("_", "-")).strip("-")
        if name and name not in taken:
            return name
    number = 2
    while f"{name}-{number}" in taken:
        number += 1
    return f"{name}-{number}"


def _json_ready(value: Any) -> Any:
    """YAML gives dates (a schema's ``minimum: 2024-01-01``); JSON takes text."""
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_ready(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def data_package(card: DataCard, quality: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Frictionless Data Package; governance fields under the `sandbox:` prefix."""
    resources = []
    taken: set[str] = set()
    for data_file in card.files:
        suffix = PurePosixPath(data_file.path).suffix.lstrip(".").lower()
        name = resource_name(data_file.path, taken)
        taken.add(name)
        resource: dict[str, Any] = {
            "name": name,
            "path": data_file.path,
            "hash": f"sha256:{data_file.sha256}",
        }
        if suffix:
            resource["format"] = suffix
        if data_file.table_schema:
            resource["schema"] = _json_ready(data_file.table_schema)
        resources.append(resource)
    governance = card.model_dump(
        mode="json",
        include={
            "owner",
            "steward",
            "contact_point",
            "publisher",
            "access_rights",
            "classification",
            "personal_data",
            "legal_basis",
            "purposes",
            "dpia",
            "retention",
            "agreement",
        },
    )
    package: dict[str, Any] = {
        "name": card.id,
        "title": card.title,
        "description": card.description.strip(),
        "version": card.version,
        "licenses": [{"name": card.license}],
        "keywords": list(card.themes),
        "resources": resources,
        "sandbox:tier": dataset_tier(card),
        "sandbox:governance": governance,
    }
    if quality is not None:
        package["sandbox:quality"] = quality
    return package
