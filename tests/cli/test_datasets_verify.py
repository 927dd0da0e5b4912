"""`sandbox datasets verify`: every data card's source files (sha256 and Table
Schema) and the staged copies on this machine (sha256); exit 1 naming each bad
file, whichever copy it is in."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.config.loader import load_config
from sandbox.governance.catalog import staged_dataset
from sandbox.host.hashing import sha256_file
from sandbox.host.layout import Layout
from sandbox.host.staging import stage


@pytest.fixture
def run(tmp_path: Path, monkeypatch):
    state = tmp_path / "s"
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(state))
    monkeypatch.setenv("COLUMNS", "200")

    def invoke(*args: str):
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    invoke.state = state  # type: ignore[attr-defined]
    return invoke


def flip_last_digit(path: Path) -> None:
    """Change one byte and keep the size: a 1 becomes a 2 near the end."""
    data = bytearray(path.read_bytes())
    index = data.rindex(b"1")
    data[index] = ord("2")
    os.chmod(path, 0o644)
    path.write_bytes(bytes(data))


def stage_demo(config: Path, state: Path, dataset: str) -> Path:
    """Stage a dataset's current version as `sandbox up` does; its folder."""
    staged = staged_dataset(load_config(config), dataset, Layout(state))
    stage(staged.source, staged.path, [{"path": p, "sha256": s} for p, s in staged.files])
    return staged.path


def woz_source(demo_copy: Path) -> Path:
    return demo_copy.parent / "datasets" / "woz-2024" / "woz-2024.csv"


def test_an_untouched_demo_passes(run, demo_copy: Path):
    result = run("-c", str(demo_copy), "datasets", "verify")
    assert result.exit_code == 0, result.output
    assert "verify: 0 problem(s), 0 warning(s)" in result.stdout
    assert "woz-2024" in result.stdout and "not staged" in result.stdout
    report = json.loads(run("-c", str(demo_copy), "datasets", "verify", "--json").stdout)
    assert report["ok"] is True and report["problems"] == []
    woz = next(d for d in report["datasets"] if d["dataset"] == "woz-2024")
    assert woz["files"] == [
        {"path": "woz-2024.csv", "source": "ok", "schema": "ok", "staged": "not staged"}
    ]


def test_a_changed_source_byte_fails_naming_the_file(run, demo_copy: Path):
    source = woz_source(demo_copy)
    assert run("-c", str(demo_copy), "datasets", "verify").exit_code == 0  # fills the cache
    flip_last_digit(source)
    result = run("-c", str(demo_copy), "datasets", "verify")
    assert result.exit_code == 1
    assert f"woz-2024: source {source}: changed (sha256 " in result.stderr
    assert f"{source} (source, changed)" in result.stderr
    assert "cbs-wijken-2024" not in result.stderr
    report = run("-c", str(demo_copy), "datasets", "verify", "--json")
    assert report.exit_code == 1
    woz = next(d for d in json.loads(report.stdout)["datasets"] if d["dataset"] == "woz-2024")
    assert woz["ok"] is False and woz["files"][0]["source"] == "changed"


def test_a_missing_source_file_fails_naming_it(run, demo_copy: Path):
    source = woz_source(demo_copy)
    source.unlink()
    result = run("-c", str(demo_copy), "datasets", "verify", "woz-2024")
    assert result.exit_code == 1
    assert f"woz-2024: source {source}: missing" in result.stderr


def test_a_changed_staged_copy_fails_naming_it(run, demo_copy: Path):
    folder = stage_demo(demo_copy, run.state, "woz-2024")
    assert run("-c", str(demo_copy), "datasets", "verify").exit_code == 0
    copy = folder / "woz-2024.csv"
    flip_last_digit(copy)
    result = run("-c", str(demo_copy), "datasets", "verify")
    assert result.exit_code == 1
    assert f"woz-2024: staged {copy}: tampered" in result.stderr
    assert str(woz_source(demo_copy)) not in result.stderr  # the source is fine
    report = json.loads(run("-c", str(demo_copy), "datasets", "verify", "--json").stdout)
    woz = next(d for d in report["datasets"] if d["dataset"] == "woz-2024")
    assert woz["staged"] is True
    assert woz["files"][0] == {
        "path": "woz-2024.csv",
        "source": "ok",
        "schema": "ok",
        "staged": "tampered",
    }


def test_unchanged_files_come_from_the_cache_unless_full(run, demo_copy: Path):
    stage_demo(demo_copy, run.state, "woz-2024")
    first = json.loads(run("-c", str(demo_copy), "datasets", "verify", "--json").stdout)
    again = json.loads(run("-c", str(demo_copy), "datasets", "verify", "--json").stdout)
    full = json.loads(run("-c", str(demo_copy), "datasets", "verify", "--full", "--json").stdout)
    assert (first["files_read"], first["schemas_checked"]) == (4, 3)  # 3 sources, 1 staged
    assert (again["files_read"], again["schemas_checked"]) == (0, 0)
    # a schema check depends on the content only: kept while the sha256 is the same
    assert (full["files_read"], full["schemas_checked"]) == (4, 0)
    flip_last_digit(woz_source(demo_copy))
    changed = json.loads(run("-c", str(demo_copy), "datasets", "verify", "--json").stdout)
    assert (changed["files_read"], changed["schemas_checked"]) == (1, 1)


def test_a_schema_failure_warns_and_fails_with_quality_strict(run, demo_copy: Path):
    source = woz_source(demo_copy)
    lines = source.read_text().splitlines(keepends=True)
    fields = lines[1].split(",")
    fields[3] = "3000"  # bouwjaar: the schema allows 1800 to 2025
    lines[1] = ",".join(fields)
    source.write_text("".join(lines))
    card = demo_copy.parent / "datasets" / "woz-2024.yaml"
    text = card.read_text()
    old = "8c53c5d0be2d7a443138fad6fad883c9699f5b3d546770c62b06f6148a840139"
    card.write_text(text.replace(old, sha256_file(source)))

    warned = run("-c", str(demo_copy), "datasets", "verify")
    assert warned.exit_code == 0
    assert f"warning: woz-2024: source {source}: fails its schema" in warned.stderr
    assert 'constraint "maximum"' in warned.stderr

    card.write_text(card.read_text().replace("files:\n", "quality: strict\nfiles:\n", 1))
    refused = run("-c", str(demo_copy), "datasets", "verify")
    assert refused.exit_code == 1
    assert f"{source} (source, fails its schema)" in refused.stderr
