"""`sandbox datasets access-log --format logboek`, checked field by field
against the Logboek Dataverwerkingen's own table of a record."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.registry import access_log
from sandbox.registry.db import open_registry_url

# MinBZK/logboek-dataverwerkingen, branch develop (commit 4f516d72, 2024-09-30),
# sections/03-specificaties/02-component-logboek.md: the fields of a record
# ("Veld | Type | optioneel | Omschrijving"), as the standard states them.
STANDARD = {
    "trace_id": ("16 byte", "verplicht"),
    "operation_id": ("8 byte", "verplicht"),
    "status_code": ("enum", "verplicht"),
    "name": ("string", "verplicht"),
    "start_time": ("timestamp (ms)", "verplicht"),
    "end_time": ("timestamp (ms)", "verplicht"),
    "parent_operation_id": ("8 byte", "optioneel"),
    "foreign_operation": ("message", "optioneel"),
    "resource": ("message", "optioneel"),
    "attributes": ("list", "verplicht"),
}
STATUS_CODES = ("STATUS_CODE_UNKNOWN", "STATUS_CODE_OK", "STATUS_CODE_ERROR")
CORE_ATTRIBUTES = ("dpl.core.processing_activity_id", "dpl.core.data_subject_id")
ACTIVITY = "https://www.voorbeeld.nl/verwerkingsregister/woz-beleidsonderzoek"
AT = datetime(2026, 12, 2, 10, 15, 30, 123456, tzinfo=UTC)


def bytes_as_hex(value: str, size: int) -> bool:
    return re.fullmatch(f"[0-9a-f]{{{2 * size}}}", value) is not None


def exported(tmp_path: Path, monkeypatch) -> list[dict]:
    url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    access_log.record(
        open_registry_url(url),
        [
            access_log.AccessEntry(
                trace, AT, "alice", "demo", "woz-2024", "2024.1", "8c53c5d0", "policy-research",
                "public-task: https://wetten.overheid.nl/BWBR0007119", "granted", "", ACTIVITY,
            ),
            access_log.AccessEntry(
                trace, AT, "alice", "demo", "meldingen", "2024.2", "d41d8cd9", "policy-research",
                "no personal data", "refused", "its data agreement expired on 2026-01-01",
            ),
        ],
    )  # fmt: skip
    monkeypatch.setenv("SANDBOX_REGISTRY_URL", url)
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(tmp_path / "state"))
    result = CliRunner().invoke(cli, ["datasets", "access-log", "--format", "logboek"])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_every_record_has_the_standards_fields_in_its_types(tmp_path: Path, monkeypatch):
    records = exported(tmp_path, monkeypatch)
    assert len(records) == 2  # one per access decision
    for record in records:
        for field, (kind, presence) in STANDARD.items():
            if presence == "verplicht":
                assert field in record, field
            if field not in record:
                continue
            value = record[field]
            if kind == "16 byte":
                assert bytes_as_hex(value, 16), (field, value)
            elif kind == "8 byte":
                assert bytes_as_hex(value, 8), (field, value)
            elif kind == "enum":
                assert value in STATUS_CODES
            elif kind == "string":
                assert isinstance(value, str) and value
            elif kind == "timestamp (ms)":
                # RFC 3339 in UTC, to the millisecond
                assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", value), value
            elif kind in ("list", "message"):
                assert isinstance(value, dict)
        assert set(record) <= set(STANDARD)
        assert all(k.startswith(("dpl.", "data_sandbox.")) for k in record["attributes"])


def test_the_values_say_what_was_decided(tmp_path: Path, monkeypatch):
    granted, refused = exported(tmp_path, monkeypatch)
    assert granted["trace_id"] == refused["trace_id"]  # one server start: one trace
    assert granted["operation_id"] != refused["operation_id"]
    assert granted["start_time"] == granted["end_time"] == "2026-12-02T10:15:30.123Z"
    # a refusal is a processing handled as intended, not a technical error
    assert granted["status_code"] == refused["status_code"] == "STATUS_CODE_OK"
    assert granted["attributes"]["dpl.core.processing_activity_id"] == ACTIVITY
    assert "dpl.core.processing_activity_id" not in refused["attributes"]  # none recorded
    assert refused["attributes"]["data_sandbox.decision"] == "refused"
    assert "expired" in refused["attributes"]["data_sandbox.reason"]
    assert granted["resource"]["attributes"]["data_sandbox.sandbox"] == "demo"
    # the person is not in the Logboek: the trace id leads to the access log that names them
    assert "alice" not in json.dumps(granted)
    assert set(CORE_ATTRIBUTES) >= {k for k in granted["attributes"] if k.startswith("dpl.")}
