"""The offboarding keys of a sandbox: a grace period in words is a config
error with file:line and exit 2, nothing provisioned."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from sandbox.cli import cli
from tests.conftest import PROJECT


def test_a_grace_in_words_is_a_config_error_with_file_and_line(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(tmp_path / "state"))
    shutil.copytree(PROJECT / "config", tmp_path / "config")
    config = tmp_path / "config" / "sandbox.yaml"
    text = config.read_text()
    config.write_text(
        text.replace("    admins: [admin]\n", "    admins: [admin]\n"
                     "    offboarding: {homes: archive, grace: 30 days}\n")
    )  # fmt: skip
    line = text[: text.index("    admins: [admin]")].count("\n") + 2
    result = CliRunner().invoke(cli, ["-c", str(config), "validate"])
    assert result.exit_code == 2, result.output
    assert f"sandbox.yaml:{line}:" in result.stderr
    assert "offboarding.grace" in result.stderr and "P30D" in result.stderr
