"""The airlock's keys in sandbox.yaml as PRODUCT.md writes them: max_bytes as a
size like 100M (or bytes), and an N-K rule the evidence can hold."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.config.loader import load_config

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(tmp_path / "state"))
    shutil.copytree(PROJECT / "config", tmp_path / "config")
    return tmp_path / "config" / "sandbox.yaml"


def with_airlock(config: Path, airlock: str) -> Path:
    text = config.read_text()
    old = "    idle_timeout: 1h\n"
    assert old in text
    config.write_text(text.replace(old, f"{old}    airlock: {airlock}\n", 1))
    return config


@pytest.mark.parametrize(
    ("written", "max_bytes"),
    [("100M", 100 * 1024**2), ("1G", 1024**3), ("512KiB", 512 * 1024), ("104857600", 104857600)],
)
def test_max_bytes_is_a_size_or_a_number_of_bytes(config: Path, written: str, max_bytes: int):
    airlock = f"{{threshold: 10, p_ratio: 0.1, nk: [2, 0.9], max_bytes: {written}}}"
    loaded = load_config(with_airlock(config, airlock), verify_checksums=False)
    assert loaded.config.sandbox("demo").airlock.max_bytes == max_bytes


@pytest.mark.parametrize(
    ("airlock", "expected"),
    [
        ("{nk: [3, 0.9]}", "sandboxes[0].airlock.nk: "),
        ("{nk: [0, 0.9]}", "sandboxes[0].airlock.nk: "),
        ("{max_bytes: lots}", "sandboxes[0].airlock.max_bytes: 'lots' is not a size like 100M"),
    ],
)
def test_a_rule_the_airlock_cannot_keep_is_refused_at_load(
    config: Path, airlock: str, expected: str
):
    result = CliRunner().invoke(cli, ["-c", str(with_airlock(config, airlock)), "validate"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    [line] = result.stderr.splitlines()
    assert f"sandbox.yaml:26: {expected}" in line, line
    if "nk" in airlock:
        assert "1 or 2" in line
