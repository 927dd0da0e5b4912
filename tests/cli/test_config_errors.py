"""Every config error through the CLI: one `file:line: key: message` with the
fix in words, exit 2, no traceback, for `validate`, `plan` and `up` alike."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.cli import cli

PROJECT = Path(__file__).resolve().parents[2]
PROBLEM = re.compile(r"^(Error: )?[^:\s][^:]*:(\d+:)? .+")


@pytest.fixture
def config(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(tmp_path / "state"))
    shutil.copytree(PROJECT / "config", tmp_path / "config")
    return tmp_path / "config" / "sandbox.yaml"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def invoke(config: Path, *args: str):
    return CliRunner().invoke(cli, ["-c", str(config), *args])


def assert_one_clean_problem(result, *expected: str) -> str:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0]
    return lines[0]


WOZ = "datasets/woz-2024.yaml"


@pytest.mark.parametrize("command", ["validate", "plan", "up"])
@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "sandbox.yaml",
            "expires: 2027-12-31",
            "expires: 2027-02-30",
            "sandbox.yaml:19: sandboxes[0].expires: 2027-02-30 is not a date: "
            "February 2027 has 28 days; use YYYY-MM-DD",
        ),
        (
            WOZ,
            "valid_until: 2027-06-30",
            "valid_until: 2027-06-31",
            "woz-2024.yaml:26: agreement.valid_until: 2027-06-31 is not a date: "
            "June 2027 has 30 days; use YYYY-MM-DD",
        ),
        (
            "sandbox.yaml",
            "expires: 2027-12-31",
            "expires: 30-06-2027",
            "sandboxes[0].expires: use YYYY-MM-DD: write 30-06-2027 as 2027-06-30",
        ),
        (
            "sandbox.yaml",
            "    max_tier: 2\n",
            "    max_tier: 2\n    max_tier: 1\n",
            "sandbox.yaml:19: sandboxes[0].max_tier: duplicate key (also on line 18)",
        ),
        (
            "sandbox.yaml",
            "    max_tier: 2\n",
            "    max_teir: 2\n",
            "sandbox.yaml:18: sandboxes[0].max_teir: unknown key; did you mean `max_tier`?",
        ),
        (
            "sandbox.yaml",
            "    spawner: docker\n",
            "      spawner: docker\n",
            "sandbox.yaml:20: spawner: YAML syntax error: mapping values are not allowed here; "
            "this line is indented deeper than the key above it",
        ),
        (
            WOZ,
            "8c53c5d0be2d7a443138fad6fad883c9699f5b3d546770c62b06f6148a840139",
            "0" * 64,
            "woz-2024.yaml:33: files[0].sha256: expected text, but YAML reads 000000…0000 "
            "as the number 0; quote the checksum",
        ),
    ],
    ids=["february-30", "june-31", "day-first", "duplicate", "misspelt", "indent", "zeros"],
)
def test_the_issues_examples(config: Path, command, file, old, new, expected):
    edit(config.parent / file, old, new)
    line = assert_one_clean_problem(invoke(config, command), expected)
    assert "unknown dataset" not in line


def test_validate_json_says_what_is_wrong_on_stdout(config: Path):
    edit(config, "expires: 2027-12-31", "expires: 2027-02-30")
    result = invoke(config, "validate", "--json")
    assert result.exit_code == 2 and "Traceback" not in result.output
    import json

    data = json.loads(result.stdout)
    assert data["valid"] is False
    [problem] = data["problems"]
    assert problem["key"] == "sandboxes[0].expires" and problem["line"] == 19
    assert "February 2027 has 28 days" in problem["message"]


# ------------------------------------------------------------------ mutated configs

LINES = (PROJECT / "config" / "sandbox.yaml").read_text().splitlines()
CARD_LINES = (PROJECT / "config" / "datasets" / "woz-2024.yaml").read_text().splitlines()
ODD_VALUES = [
    "2027-02-30", "2027-06-31", "2024-13-45", "30-06-2027", "0" * 64, "1.0", "yes", "~",
    "[unclosed", "{a: 1", "'open", "a: b: c", "- x", "*alias", "!!python/name:os.system",
    "2027-12-31 10:00", "0o17", "1e400", "", ":", "?", "|", "@x", "%TAG",
]  # fmt: skip


def _mutation():
    line = st.integers(0, len(LINES) - 1)
    value = st.one_of(st.sampled_from(ODD_VALUES), st.text(max_size=12))
    return st.one_of(
        st.tuples(st.just("value"), line, value),
        st.tuples(st.just("indent"), line, st.integers(-4, 4)),
        st.tuples(st.just("duplicate"), line, st.just("")),
        st.tuples(st.just("delete"), line, st.just("")),
        st.tuples(
            st.just("key"), line, st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", max_size=10)
        ),
    )


def apply(lines: list[str], mutation) -> list[str]:
    kind, index, arg = mutation
    index %= len(lines)
    line = lines[index]
    if kind == "value" and ":" in line:
        lines[index] = line.split(":", 1)[0] + ": " + arg
    elif kind == "indent":
        lines[index] = " " * max(0, len(line) - len(line.lstrip()) + arg) + line.lstrip()
    elif kind == "duplicate":
        lines.insert(index, line)
    elif kind == "delete":
        del lines[index]
    elif kind == "key" and ":" in line:
        stripped = line.lstrip(" -")
        lines[index] = line[: len(line) - len(stripped)] + arg + ":" + stripped.split(":", 1)[1]
    return lines


@settings(
    max_examples=min(60, settings().max_examples),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    mutations=st.lists(_mutation(), min_size=1, max_size=3),
    in_card=st.booleans(),
    command=st.sampled_from(["validate", "plan"]),
)
def test_a_mutated_config_is_valid_or_exit_2_without_traceback(
    tmp_path_factory, monkeypatch, mutations, in_card, command
):
    root = tmp_path_factory.mktemp("mutated")
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(root / "state"))
    shutil.copytree(PROJECT / "config", root / "config")
    target = root / "config" / ("datasets/woz-2024.yaml" if in_card else "sandbox.yaml")
    lines = list(CARD_LINES if in_card else LINES)
    for mutation in mutations:
        lines = apply(lines, mutation) or [""]
    target.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(cli, ["-c", str(root / "config" / "sandbox.yaml"), command])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        problems = result.stderr.splitlines()
        assert problems and problems[0].startswith("Error: ")
        assert all(PROBLEM.match(p) for p in problems), problems
