"""`datasets verify -i`, its pure parts: what each node is asked to check,
the node's own check of its staged copies (``python -m sandbox.host.checksums``),
and how each node's answer is read and reported. The Ansible runs are in
tests/integration/test_host_tools.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sandbox.config.loader import load_config
from sandbox.governance.catalog import staged_dataset
from sandbox.governance.integrity import (
    CatalogVerification,
    DatasetVerification,
    node_verification,
    verify_catalog,
)
from sandbox.host import checksums
from sandbox.host.layout import Layout
from sandbox.host.staging import stage
from sandbox.provisioning.ansible import verify_variables
from sandbox.provisioning.context import Context


def test_verify_passes_each_version_without_its_generated_files(demo_copy: Path, tmp_path: Path):
    loaded = load_config(demo_copy)
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[nodes]\nnode-a\n")
    there = Context(layout=Layout(tmp_path / "state"), inventory=inventory)
    staged = [staged_dataset(loaded, "woz-2024", there.layout)]
    variables = verify_variables(staged, there, full=True)
    (entry,) = variables["sandbox_datasets"]
    assert entry["dest"] == str(staged[0].path) and "extras" not in entry
    assert entry["files"] == [{"path": p, "sha256": s} for p, s in staged[0].files]
    assert variables["sandbox_verify_full"] is True
    assert variables["sandbox_verify_cache"] == str(there.layout.verify_cache())


# --- a node's own check


@pytest.fixture
def node_copies(demo_copy: Path, tmp_path: Path):
    """woz-2024 staged, and an entry for a version that is not."""
    loaded = load_config(demo_copy)
    layout = Layout(tmp_path / "state")
    woz = staged_dataset(loaded, "woz-2024", layout)
    files = [{"path": p, "sha256": s} for p, s in woz.files]
    stage(woz.source, woz.path, files)
    entries = [
        {"id": "woz-2024", "dest": str(woz.path), "files": files},
        {"id": "other", "dest": str(tmp_path / "nowhere"), "files": files},
    ]
    return loaded, layout, woz, entries


def run_node(entries: list[dict], cache: Path, capsys, *flags: str) -> dict:
    assert checksums.main([*flags, "--cache", str(cache), json.dumps(entries)]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_node_reports_its_copies(node_copies, tmp_path: Path, capsys):
    _, _, woz, entries = node_copies
    report = run_node(entries, tmp_path / "cache.json", capsys)
    assert report["python"] and "version" in report
    copy, absent = report["datasets"]
    assert copy["staged"] and not copy["problems"] and copy["hashed"] == len(woz.files)
    assert not absent["staged"] and absent["hashed"] == 0
    again = run_node(entries, tmp_path / "cache.json", capsys)
    assert again["datasets"][0]["hashed"] == 0  # the cache answered
    assert run_node(entries, tmp_path / "cache.json", capsys, "--full")["datasets"][0]["hashed"]

    target = woz.path / woz.files[0][0]
    os.chmod(woz.path, 0o755)
    os.chmod(target, 0o644)
    target.write_bytes(target.read_bytes().replace(b"1", b"2", 1))
    (problem,) = run_node(entries, tmp_path / "cache.json", capsys)["datasets"][0]["problems"]
    assert problem["problem"] == "tampered" and problem["location"] == str(target)
    target.unlink()
    (problem,) = run_node(entries, tmp_path / "cache.json", capsys)["datasets"][0]["problems"]
    assert problem["problem"] == "missing"


def test_a_node_refuses_a_bad_argument(capsys):
    assert checksums.main(["[{}]"]) == 2
    assert "bad datasets argument" in capsys.readouterr().err


# --- reading and reporting the nodes' answers


def answer(node_copies, tmp_path: Path, capsys, tamper: bool = False) -> str:
    _, _, woz, entries = node_copies
    if tamper:
        target = woz.path / woz.files[0][0]
        os.chmod(woz.path, 0o755)
        os.chmod(target, 0o644)
        target.write_bytes(target.read_bytes().replace(b"1", b"2", 1))
    assert checksums.main(["--cache", str(tmp_path / "c.json"), json.dumps(entries[:1])]) == 0
    return capsys.readouterr().out


def catalog(node_copies) -> CatalogVerification:
    loaded, layout, _, _ = node_copies
    return verify_catalog(loaded, layout, "woz-2024", staged_here=False)


def test_every_node_ok(node_copies, tmp_path: Path, capsys):
    output = answer(node_copies, tmp_path, capsys)
    result = catalog(node_copies)
    (check,) = result.datasets
    assert check.staged is None and {f["staged"] for f in check.file_states()} == {"not checked"}
    result.add_nodes([node_verification("a", output), node_verification("b", output)])
    assert result.ok and not result.problems and not result.node_errors
    assert check.node_states() == {"a": "ok", "b": "ok"}
    assert check.as_dict()["nodes"] == {"a": "ok", "b": "ok"}
    assert result.nodes and result.nodes[0].summary() == "1 of 1 datasets staged, ok"
    as_dict = result.nodes[0].as_dict()
    assert as_dict["node"] == "a" and as_dict["ok"] and as_dict["datasets"][0]["staged"]


def test_a_tampered_copy_and_a_silent_node_are_named(node_copies, tmp_path: Path, capsys):
    output = answer(node_copies, tmp_path, capsys, tamper=True)
    result = catalog(node_copies)
    result.add_nodes(
        [
            node_verification("a", output),
            node_verification("b", "", "unreachable: ssh: connect to host b port 22"),
            node_verification("c", "not json"),
        ]
    )
    assert not result.ok
    (problem,) = result.problems
    assert problem.node == "a" and problem.problem == "tampered"
    assert str(problem).startswith("woz-2024: staged on a ") and ": tampered (sha256 " in str(
        problem
    )
    assert result.node_errors[0] == "b: unreachable: ssh: connect to host b port 22"
    assert result.node_errors[1].startswith("c: unreadable answer")
    (check,) = result.datasets
    states = check.node_states()
    assert states["a"].endswith("tampered") and states["b"] == states["c"] == "not checked"
    assert result.nodes and result.nodes[0].summary() == "1 of 1 datasets staged, 1 problem(s)"
    assert result.nodes[1].summary().startswith("unreachable")
    node_a = result.nodes[0].as_dict()
    assert not node_a["ok"] and "staged on a" in node_a["datasets"][0]["problems"][0]


def test_without_nodes_the_report_is_as_before(node_copies):
    loaded, layout, _, _ = node_copies
    (check,) = verify_catalog(loaded, layout, "woz-2024").datasets
    assert isinstance(check, DatasetVerification) and check.staged is True
    assert "nodes" not in check.as_dict()
