"""Draft a data card from data files: what can be measured is filled in (the
sha256, the size, a Table Schema inferred by frictionless, columns whose name
looks like personal data marked ``pii: true``); every governance field is left
empty with a ``TODO`` comment saying what it takes, so that ``validate``
refuses the card until a person has filled it in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, get_args

import yaml

from ..config.model import Biv, Classification, DataCard, PersonalData, Retention
from ..host.hashing import sha256_file

# Column names that suggest personal data (Dutch and English): marked for review.
PII_NAME = re.compile(
    r"(^|_|-)(bsn|burgerservicenummer|a_?nummer|naam|name|voornaam|achternaam|initialen|"
    r"adres|address|straat|street|huisnummer|postcode|zip|woonplaats|e?-?mail|telefoon|phone|"
    r"mobiel|geboortedatum|geboren|birth|dob|leeftijd|age|geslacht|gender|iban|rekening|"
    r"kenteken|licen[cs]e_?plate|ip_?adres|ip|eigenaar|owner|persoon|person|burger|klant|"
    r"client|patient|pseudoniem|pseudonym)($|_|-)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class MeasuredFile:
    path: str  # relative to datasets/<id>/
    sha256: str
    size: int
    table_schema: dict[str, Any] | None
    rows: int | None


def measure(source: Path, relative: str) -> MeasuredFile:
    """Checksum, size and (for a table frictionless reads) schema and rows."""
    schema, rows = infer_schema(source)
    return MeasuredFile(relative, sha256_file(source), source.stat().st_size, schema, rows)


def infer_schema(path: Path) -> tuple[dict[str, Any] | None, int | None]:
    """A Table Schema inferred by frictionless from the file's rows; None for
    a file it does not read as a table. Columns that look personal get
    ``pii: true``."""
    from frictionless import Resource
    from frictionless.resources import TableResource

    try:
        resource = Resource(path=path.name, basepath=str(path.parent))
        if not isinstance(resource, TableResource):
            return None, None
        resource.infer(stats=True)
        fields = resource.schema.to_descriptor().get("fields", [])
    except Exception:  # not a readable table: described by checksum only
        return None, None
    for item in fields:
        if PII_NAME.search(str(item.get("name", ""))):
            item["pii"] = True
    return {"fields": fields}, resource.rows


def _choices(model: type, name: str) -> str:
    annotation = model.model_fields[name].annotation  # type: ignore[attr-defined]
    values = [a for a in get_args(annotation) if a is not type(None)]
    while len(values) == 1 and get_args(values[0]):
        values = [a for a in get_args(values[0]) if a is not type(None)]
    return " | ".join(str(v) for v in values)


def card_text(dataset_id: str, files: list[MeasuredFile], today: date | None = None) -> str:
    """The draft card as YAML with comments."""
    level = _choices(Biv, "integriteit")
    lines = [
        f"# Drafted by `sandbox datasets add` on {(today or date.today()).isoformat()}.",
        "# Measured: the files' sha256, size and Table Schema. Yours to fill in: every",
        "# field marked TODO (`sandbox validate` refuses the card until then), and check",
        "# the columns marked pii: true (their names look like personal data).",
        f"id: {dataset_id}",
        "title:            # TODO: a short title",
        "description:      # TODO: what the data holds and where it comes from",
        'version: "1"',
        "owner:            # TODO: the department that answers for the data",
        "steward:          # TODO: who looks after it (e-mail)",
        "contact_point:    # TODO: where questions go (e-mail)",
        "license:          # TODO: e.g. CC-BY-4.0, or proprietary",
        f"access_rights:    # TODO: {_choices(DataCard, 'access_rights')}",
        "classification:",
        f"  rubricering:    # TODO: {_choices(Classification, 'rubricering')}",
        "  biv:",
        f"    beschikbaarheid:    # TODO: {level}",
        f"    integriteit:        # TODO: {level}",
        f"    vertrouwelijkheid:  # TODO: {level}",
        "personal_data:",
        f"  kind:           # TODO: {_choices(PersonalData, 'kind')}",
        "  # identifiability: needed when kind is not none: "
        + _choices(PersonalData, "identifiability"),
        "purposes: []      # TODO: the purposes the data may be used for (doelbinding)",
        "# legal_basis: [{ground: public-task, reference: https://wetten.overheid.nl/...}]",
        "# dpia: {status: done, reference: DPIA-..., date: YYYY-MM-DD}",
        "# agreement: {reference: ..., valid_until: YYYY-MM-DD}",
        "retention:",
        "  period:         # TODO: an ISO-8601 period, e.g. P7Y",
        f"  action:         # TODO: {_choices(Retention, 'action')}",
        "  basis:          # TODO: e.g. Selectielijst gemeenten 2020, 1.1.1",
        "files:",
    ]
    for item in files:
        rows = f", {item.rows} rows" if item.rows is not None else ""
        lines += [
            f"  - path: {_scalar(item.path)}",
            f'    sha256: "{item.sha256}"  # {item.size} bytes{rows}',
        ]
        if item.table_schema is not None:
            schema = yaml.safe_dump({"schema": item.table_schema}, sort_keys=False)
            lines += ["    " + line for line in schema.rstrip().splitlines()]
    return "\n".join(lines) + "\n"


def _scalar(text: str) -> str:
    return yaml.safe_dump(text, default_style=None).removesuffix("\n...\n").strip()


@dataclass(frozen=True)
class Drafted:
    card: Path
    data_dir: Path
    files: list[MeasuredFile]


def add_dataset(
    datasets_dir: Path, dataset_id: str, sources: list[Path], today: date | None = None
) -> Drafted:
    """Copy ``sources`` into ``datasets/<id>/`` and write ``datasets/<id>.yaml``
    as a draft; refuses an existing card, a bad id and two files of one name."""
    import shutil

    from ..config.model import SLUG
    from ..errors import InvalidInput

    if not re.match(SLUG, dataset_id) or len(dataset_id) > 63:
        raise InvalidInput(
            f"--id {dataset_id!r}: use lower-case letters, digits and '-' (like woz-2024)"
        )
    card = datasets_dir / f"{dataset_id}.yaml"
    if card.exists():
        raise InvalidInput(f"{card} already exists: edit it, or choose another --id")
    names = [source.name for source in sources]
    if len(set(names)) != len(names):
        raise InvalidInput("two files have the same name; they would land on one path")
    for source in sources:
        if not source.is_file():
            raise InvalidInput(f"{source}: file not found")
    data_dir = datasets_dir / dataset_id
    data_dir.mkdir(parents=True, exist_ok=True)
    measured = []
    for source in sources:
        target = data_dir / source.name
        if source.resolve() != target.resolve():
            shutil.copyfile(source, target)
        measured.append(measure(target, source.name))
    card.write_text(card_text(dataset_id, measured, today), encoding="utf-8")
    return Drafted(card, data_dir, measured)
