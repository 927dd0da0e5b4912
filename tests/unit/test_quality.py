"""Data quality checks (sandbox/governance/quality.py): the demo datasets, each Table
Schema constraint, pii fields, files without a schema, unreadable files and malformed schemas."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from sandbox.config.loader import load_config
from sandbox.config.model import DataFile
from sandbox.governance.quality import DatasetQuality, FileQuality, check_dataset, check_file

CONFIG = Path(__file__).resolve().parents[2] / "config" / "sandbox.yaml"
SHA = "0" * 64


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def schema(*fields: dict[str, Any]) -> dict[str, Any]:
    return {"fields": list(fields)}


def as_json(result: FileQuality | DatasetQuality) -> dict[str, Any]:
    """as_dict() must be plain JSON: a round trip changes nothing."""
    data = result.as_dict()
    assert json.loads(json.dumps(data)) == data
    return data


# ----------------------------------------------------------------------------- demo datasets


@pytest.fixture(scope="module")
def demo() -> dict[str, DatasetQuality]:
    loaded = load_config(CONFIG)
    return {ident: check_dataset(c.data_dir, c.card) for ident, c in loaded.cards.items()}


def test_demo_datasets_are_valid(demo: dict[str, DatasetQuality]) -> None:
    assert sorted(demo) == ["cbs-wijken-2024", "meldingen-openbare-ruimte-2024", "woz-2024"]
    for result in demo.values():
        data = as_json(result)
        assert data["valid"] is True, data
        for file in data["files"]:
            assert file["checked"] is True
            assert file["error_count"] == 0
            assert file["errors_by_type"] == {}
            assert file["first_errors"] == []
            assert file["rows"] > 0


def test_demo_woz_file_reports_rows_fields_and_pii(demo: dict[str, DatasetQuality]) -> None:
    data = demo["woz-2024"].as_dict()
    assert data["dataset"] == "woz-2024"
    assert "checked_at" not in data
    [file] = data["files"]
    assert file["path"] == "woz-2024.csv"
    assert file["rows"] == 2000
    assert file["fields"] == [
        "object_id",
        "eigenaar_pseudoniem",
        "wijk_code",
        "bouwjaar",
        "oppervlakte_m2",
        "woz_waarde",
    ]
    assert file["pii_fields"] == ["eigenaar_pseudoniem"]


def test_results_are_deterministic() -> None:
    loaded = load_config(CONFIG).cards["woz-2024"]
    first = check_dataset(loaded.data_dir, loaded.card).as_dict()
    assert check_dataset(loaded.data_dir, loaded.card).as_dict() == first


# --------------------------------------------------------------------------------- violations

VIOLATIONS = {
    # name: (field, column values, error type, constraint, expected count)
    "type": ({"type": "integer"}, ["1", "x", "2", "3.5"], "type-error", None, 2),
    "required": (
        {"type": "string", "constraints": {"required": True}},
        ["a", "", "b", ""],
        "constraint-error",
        "required",
        2,
    ),
    "unique": (
        {"type": "integer", "constraints": {"unique": True}},
        ["1", "2", "1", "1"],
        "unique-error",
        None,
        2,
    ),
    "enum": (
        {"type": "string", "constraints": {"enum": ["afval", "groen"]}},
        ["afval", "verlichting", "groen", "overig"],
        "constraint-error",
        "enum",
        2,
    ),
    "minimum": (
        {"type": "integer", "constraints": {"minimum": 1800}},
        ["1900", "1799", "1800", "0"],
        "constraint-error",
        "minimum",
        2,
    ),
    "maximum": (
        {"type": "number", "constraints": {"maximum": 2025}},
        ["2025", "2025.5", "3000", "12"],
        "constraint-error",
        "maximum",
        2,
    ),
}


@pytest.mark.parametrize("name", sorted(VIOLATIONS))
def test_each_violation_is_detected_with_its_type_and_count(tmp_path: Path, name: str) -> None:
    spec, values, kind, constraint, count = VIOLATIONS[name]
    text = "id,value\n" + "".join(f"{i},{v}\n" for i, v in enumerate(values, start=1))
    table_schema = schema({"name": "id", "type": "integer"}, {"name": "value", **spec})

    data = as_json(check_file(write(tmp_path, text), table_schema))

    assert data["checked"] is True
    assert data["valid"] is False
    assert data["rows"] == len(values)
    assert data["error_count"] == count
    assert data["errors_by_type"] == {kind: count}
    assert data["errors_by_constraint"] == ({constraint: count} if constraint else {})
    assert len(data["first_errors"]) == count
    for message in data["first_errors"]:
        assert message.startswith("row ")
        assert ", field value: " + kind in message


def test_messages_name_row_and_field_and_never_echo_cell_values(tmp_path: Path) -> None:
    path = write(tmp_path, "naam,jaar\ngeheim-pseudoniem,1700\n")
    table_schema = schema(
        {"name": "naam", "type": "integer", "pii": True},
        {"name": "jaar", "type": "integer", "constraints": {"minimum": 1800}},
    )
    data = as_json(check_file(path, table_schema))
    assert data["first_errors"] == [
        'row 2, field naam: type-error: type is "integer/default"',
        'row 2, field jaar: constraint-error: constraint "minimum" is "1800"',
    ]
    assert "geheim" not in json.dumps(data)


def test_first_errors_are_capped_at_ten(tmp_path: Path) -> None:
    path = write(tmp_path, "n\n" + "x\n" * 25)
    data = as_json(check_file(path, schema({"name": "n", "type": "integer"})))
    assert data["error_count"] == 25
    assert len(data["first_errors"]) == 10
    assert data["error_limit_reached"] is False


def test_error_limit_stops_early_and_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, "n\n" + "x\n" * 50)
    result = check_file(path, schema({"name": "n", "type": "integer"}), error_limit=5)
    assert result.error_count == 5
    assert result.error_limit_reached is True
    assert result.rows is None


def test_header_that_does_not_match_the_schema_is_invalid(tmp_path: Path) -> None:
    path = write(tmp_path, "a,c\n1,2\n")
    table_schema = schema({"name": "a", "type": "integer"}, {"name": "b", "type": "integer"})
    data = as_json(check_file(path, table_schema))
    assert data["valid"] is False
    assert data["errors_by_type"] == {"incorrect-label": 1}


# --------------------------------------------------------------------------------------- pii


def test_pii_fields_are_reported_and_do_not_break_validation(tmp_path: Path) -> None:
    path = write(tmp_path, "id,bsn_hash,postcode\n1,ab12,1234AB\n2,cd34,5678CD\n")
    table_schema = schema(
        {"name": "id", "type": "integer", "constraints": {"unique": True}},
        {"name": "bsn_hash", "type": "string", "pii": True, "x-note": "keyed hash"},
        {"name": "postcode", "type": "string", "pii": True},
    )
    data = as_json(check_file(path, table_schema))
    assert data["valid"] is True, data
    assert data["pii_fields"] == ["bsn_hash", "postcode"]
    assert table_schema["fields"][1]["pii"] is True  # the caller's schema is left alone


# ------------------------------------------------------------------------------ no schema


def test_file_without_schema_is_not_checked_but_counted(tmp_path: Path) -> None:
    data = as_json(check_file(write(tmp_path, "a,b\n1,2\n3,4\n5,6\n"), None))
    assert data["checked"] is False
    assert data["valid"] is True
    assert data["rows"] == 3
    assert data["fields"] == ["a", "b"]
    assert data["error_count"] == 0


def test_non_table_without_schema_is_just_not_checked(tmp_path: Path) -> None:
    path = tmp_path / "toelichting.pdf"
    path.write_bytes(b"%PDF-1.4\n\x00\x01 not really a table")
    data = as_json(check_file(path, None))
    assert data["checked"] is False
    assert data["valid"] is True
    assert data["rows"] is None
    assert data["error_count"] == 0


# ---------------------------------------------------------------------- unreadable files


def test_garbage_csv_gives_a_clean_invalid_result(tmp_path: Path) -> None:
    path = tmp_path / "garbage.csv"
    path.write_bytes(random.Random(0).randbytes(4000))
    data = as_json(check_file(path, schema({"name": "a", "type": "integer"})))
    assert data["checked"] is True
    assert data["valid"] is False
    assert data["error_count"] >= 1
    assert data["first_errors"]


def test_garbage_spreadsheet_gives_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "tabel.xlsx"
    path.write_bytes(b"\x00\x01\x02 not a zip archive")
    data = as_json(check_file(path, schema({"name": "a", "type": "integer"})))
    assert data["valid"] is False
    assert list(data["errors_by_type"]) == ["format-error"]


def test_non_table_with_schema_is_invalid(tmp_path: Path) -> None:
    path = write(tmp_path, "just some text\n", "notes.txt")
    data = as_json(check_file(path, schema({"name": "a", "type": "string"})))
    assert data["valid"] is False
    assert data["errors_by_type"] == {"format-error": 1}
    assert "not a table" in data["first_errors"][0]


def test_missing_file_is_invalid(tmp_path: Path) -> None:
    data = as_json(check_file(tmp_path / "absent.csv", schema({"name": "a", "type": "string"})))
    assert data["valid"] is False
    assert data["errors_by_type"] == {"file-error": 1}
    assert data["first_errors"] == ["file-error: file not found"]


# ------------------------------------------------------------------------ malformed schemas


def test_unknown_constraint_gives_a_clean_schema_error(tmp_path: Path) -> None:
    path = write(tmp_path, "a\n1\n")
    bad = schema({"name": "a", "type": "integer", "constraints": {"between": [1, 5]}})
    data = as_json(check_file(path, bad))
    assert data["checked"] is True
    assert data["valid"] is False
    assert data["rows"] is None
    assert data["errors_by_type"] == {"schema-error": 1}
    assert '"between"' in data["first_errors"][0]


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ({"fields": "a,b"}, "list of fields"),
        ({"primaryKey": ["a"]}, "list of fields"),
        ({"fields": ["a"]}, "must be a mapping"),
        (schema({"type": "integer"}), "name"),
        (schema({"name": "a", "type": "money"}), "money"),
        (schema({"name": "a", "type": "integer", "constraints": {"minimum": "abc"}}), "minimum"),
        (schema({"name": "a", "type": "string", "constraints": {"pattern": "("}}), "pattern"),
        (schema({"name": "a", "type": "string", "constraints": {"required": "ja"}}), "boolean"),
    ],
)
def test_malformed_schemas_are_reported_as_such(
    tmp_path: Path, bad: dict[str, Any], fragment: str
) -> None:
    data = as_json(check_file(write(tmp_path, "a\n1\n"), bad))
    assert data["valid"] is False
    assert data["errors_by_type"] == {"schema-error": 1}
    assert fragment in data["first_errors"][0]


# ------------------------------------------------------------------------------ check_dataset


def test_dataset_is_invalid_when_any_file_is(tmp_path: Path) -> None:
    loaded = load_config(CONFIG).cards["woz-2024"]
    data_dir = tmp_path / "woz-2024"
    data_dir.mkdir()
    write(data_dir, "id\n1\n2\n", "good.csv")
    write(data_dir, "id\n1\n1\n", "dup.csv")
    write(data_dir, "vrije tekst\n", "readme.txt")
    unique_id = schema({"name": "id", "type": "integer", "constraints": {"unique": True}})
    files = [
        DataFile(path="good.csv", sha256=SHA, schema=unique_id),
        DataFile(path="dup.csv", sha256=SHA, schema=unique_id),
        DataFile(path="readme.txt", sha256=SHA),
        DataFile(path="../escape.csv", sha256=SHA, schema=unique_id),
    ]
    card = loaded.card.model_copy(update={"files": files})

    data = as_json(check_dataset(data_dir, card))

    assert data["valid"] is False
    assert [f["path"] for f in data["files"]] == [f.path for f in files]
    good, dup, readme, escape = data["files"]
    assert (good["valid"], good["rows"]) == (True, 2)
    assert dup["errors_by_type"] == {"unique-error": 1}
    assert (readme["checked"], readme["valid"]) == (False, True)
    assert escape["errors_by_type"] == {"file-error": 1}
    assert "outside" in escape["first_errors"][0]
