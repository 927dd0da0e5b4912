"""Data quality: check a data card's files against their Frictionless Table Schema.

Types, ``required``, ``unique``, ``enum``, ``minimum``/``maximum`` and the other Table
Schema constraints are checked by the ``frictionless`` library (imported lazily: it is
slow to import). Custom field keys such as ``pii: true`` are stripped before the
schema is handed over; the pii field names are kept in the result. Every failure
(missing or unreadable file, malformed schema) becomes an invalid result, never an
exception. Messages are built from frictionless's notes, which (foreign keys aside) hold
no cell values, so pii does not leak into a report. Row numbers count the header as row 1.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..config.model import DataCard

MAX_MESSAGES = 10
# Frictionless stops reading a file after this many errors (each costs ~0.1 ms to build);
# the counts are then lower bounds, ``rows`` is None and ``error_limit_reached`` is True.
ERROR_LIMIT = 10_000

# Field properties of Table Schema (v1 and v2) that frictionless understands.
FIELD_KEYS = {
    *("name", "title", "description", "type", "format", "missingValues", "constraints"),
    *("rdfType", "example", "trueValues", "falseValues", "bareNumber", "floatNumber"),
    *("groupChar", "decimalChar", "arrayItem", "delimiter", "itemType", "categories"),
    "categoriesOrdered",
}
_CAST_CONSTRAINTS = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"}
_CONSTRAINT = re.compile(r'constraint "(\w+)"')


@dataclass(frozen=True)
class FileQuality:
    """The check of one file; ``valid`` means no problems were found."""

    path: str
    checked: bool
    valid: bool
    rows: int | None = None
    fields: tuple[str, ...] = ()
    pii_fields: tuple[str, ...] = ()
    error_count: int = 0
    errors_by_type: dict[str, int] = field(default_factory=dict)  # sorted by type
    errors_by_constraint: dict[str, int] = field(default_factory=dict)  # constraint-errors only
    first_errors: tuple[str, ...] = ()
    error_limit_reached: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class DatasetQuality:
    dataset: str
    files: tuple[FileQuality, ...]

    @property
    def valid(self) -> bool:
        return all(f.valid for f in self.files)

    def as_dict(self) -> dict[str, Any]:
        files = [f.as_dict() for f in self.files]
        return {"dataset": self.dataset, "valid": self.valid, "files": files}


def check_dataset(data_dir: Path, card: DataCard) -> DatasetQuality:
    """Check every file of ``card``; paths are relative to ``data_dir`` (datasets/<id>/)."""
    results = []
    root = data_dir.resolve()
    for data_file in card.files:
        target = data_dir / data_file.path
        if Path(data_file.path).is_absolute() or not target.resolve().is_relative_to(root):
            pii, checked = _pii_fields(data_file.table_schema), data_file.table_schema is not None
            note = f"path is outside {data_dir}"
            result = _failed(str(target), "file-error", note, pii, checked=checked)
        else:
            result = check_file(target, data_file.table_schema)
        results.append(replace(result, path=data_file.path))
    return DatasetQuality(card.id, tuple(results))


def check_file(
    path: Path, table_schema: dict[str, Any] | None, *, error_limit: int = ERROR_LIMIT
) -> FileQuality:
    """Validate one tabular file against its Table Schema; without one, only count rows."""
    pii = _pii_fields(table_schema)
    if not path.is_file():
        note = "file not found"
        return _failed(str(path), "file-error", note, pii, checked=table_schema is not None)
    if table_schema is None:
        return _describe(path)
    from frictionless import Resource, Schema
    from frictionless.resources import TableResource

    try:
        schema = Schema.from_descriptor(_strip(table_schema))
        _check_constraint_values(schema)
    except Exception as exc:  # any failure to understand the schema is a schema problem
        return _failed(str(path), "schema-error", _exception_note(exc), pii)
    try:
        resource = Resource(path=path.name, basepath=str(path.parent), schema=schema)
        if not isinstance(resource, TableResource):
            note = f"not a table (frictionless reads it as {resource.type or 'unknown'})"
            return _failed(str(path), "format-error", note, pii)
        report = resource.validate(limit_errors=error_limit)
    except Exception as exc:  # frictionless raises for some unreadable sources
        return _failed(str(path), "source-error", _exception_note(exc), pii)
    task = report.tasks[0]
    errors = list(task.errors)
    stopped = any(w.startswith("reached error limit") for w in task.warnings)
    by_constraint = Counter(
        match.group(1)
        for e in errors
        if e.type == "constraint-error" and (match := _CONSTRAINT.search(e.note))
    )
    return FileQuality(
        path=str(path),
        checked=True,
        valid=report.valid,
        rows=None if stopped else task.stats.get("rows"),
        fields=tuple(schema.field_names),
        pii_fields=pii,
        error_count=len(errors),
        errors_by_type=dict(sorted(Counter(e.type for e in errors).items())),
        errors_by_constraint=dict(sorted(by_constraint.items())),
        first_errors=tuple(_short(e) for e in errors[:MAX_MESSAGES]),
        error_limit_reached=stopped,
    )


def _describe(path: Path) -> FileQuality:
    """An unchecked file: its row count and header when frictionless can read it as a table."""
    from frictionless import Resource
    from frictionless.resources import TableResource

    try:
        resource = Resource(path=path.name, basepath=str(path.parent))
        if isinstance(resource, TableResource):
            resource.infer(stats=True)
            return FileQuality(
                str(path), False, True, resource.rows, tuple(resource.schema.field_names)
            )
    except Exception:  # not a readable table: it is simply not checked
        pass
    return FileQuality(str(path), checked=False, valid=True)


def _strip(table_schema: dict[str, Any]) -> dict[str, Any]:
    """The schema without custom field keys (``pii`` and the like)."""
    if not isinstance(table_schema, dict) or not isinstance(table_schema.get("fields"), list):
        raise ValueError("a Table Schema must be a mapping with a list of fields")
    if not all(isinstance(f, dict) for f in table_schema["fields"]):
        raise ValueError("every field of a Table Schema must be a mapping")
    fields = [{k: v for k, v in f.items() if k in FIELD_KEYS} for f in table_schema["fields"]]
    return copy.deepcopy({**table_schema, "fields": fields})


def _check_constraint_values(schema: Any) -> None:
    """Frictionless accepts e.g. ``minimum: abc`` on an integer field, then crashes mid-file."""
    for fld in schema.fields:
        read = fld.create_value_reader()
        for name, value in fld.constraints.items():
            values = value if name == "enum" and isinstance(value, list) else [value]
            if name in _CAST_CONSTRAINTS and any(read(v) is None for v in values):
                raise ValueError(f'field {fld.name}: constraint "{name}" is not a valid {fld.type}')
            if name == "pattern":
                try:
                    re.compile(str(value))
                except re.error as exc:
                    raise ValueError(f'field {fld.name}: constraint "pattern": {exc}') from exc


def _pii_fields(table_schema: Any) -> tuple[str, ...]:
    fields = table_schema.get("fields") if isinstance(table_schema, dict) else None
    if not isinstance(fields, list):
        return ()
    return tuple(str(f.get("name")) for f in fields if isinstance(f, dict) and f.get("pii") is True)


def _failed(
    path: str, kind: str, note: str, pii: tuple[str, ...], *, checked: bool = True
) -> FileQuality:
    return FileQuality(
        path=path,
        checked=checked,
        valid=False,
        pii_fields=pii,
        error_count=1,
        errors_by_type={kind: 1},
        first_errors=(f"{kind}: {note}",),
    )


def _exception_note(exc: Exception) -> str:
    """A FrictionlessException carries an error and the reasons behind it."""
    reasons = [str(r.message) for r in getattr(exc, "reasons", None) or []]
    error = getattr(exc, "error", None)
    note = "; ".join(reasons) or getattr(error, "note", None) or str(exc)
    return str(note) or type(exc).__name__


def _short(error: Any) -> str:
    """``row 5, field bouwjaar: constraint-error: constraint "maximum" is "2025"``."""
    where = []
    if getattr(error, "row_number", None) is not None:
        where.append(f"row {error.row_number}")
    if getattr(error, "field_name", None):
        where.append(f"field {error.field_name}")
    detail = f"{error.type}: {error.note or error.title}"
    return f"{', '.join(where)}: {detail}" if where else detail
