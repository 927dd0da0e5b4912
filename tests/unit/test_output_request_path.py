"""sandbox_client.outputs.request sends the airlock a path relative to the
home, read from the kernel's working directory as ``open`` reads it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "images" / "notebook" / "sandbox_client"))
from sandbox_client import outputs
from sandbox_client.client import RegistryError


class Recorder:
    """Stands in for the registry: keeps what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        self.sent.append((method, path, body))
        return {"id": "OUT-0001"}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / "project" / "results").mkdir(parents=True)
    monkeypatch.setattr(outputs, "HOME", str(home))
    return home


def sent_path(path: str) -> str:
    registry = Recorder()
    outputs.request(path, "table 3", client=registry)  # type: ignore[arg-type]
    [(method, route, body)] = registry.sent
    assert (method, route) == ("POST", "/outputs")
    return body["path"]


def test_a_relative_path_is_read_from_the_notebooks_folder(
    home: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(home / "project")
    assert sent_path("results/t.csv") == "project/results/t.csv"
    assert sent_path("./results/../results/t.csv") == "project/results/t.csv"
    assert sent_path("../notes.csv") == "notes.csv"


def test_in_the_home_and_absolute_paths_stay_as_they_are(
    home: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(home)
    assert sent_path("results/t.csv") == "results/t.csv"
    assert sent_path(str(home / "project" / "t.csv")) == "project/t.csv"


@pytest.mark.parametrize("path", ["../../elsewhere.csv", "/etc/passwd", "../.."])
def test_a_path_outside_the_home_is_refused_and_nothing_is_sent(
    home: Path, monkeypatch: pytest.MonkeyPatch, path: str
):
    monkeypatch.chdir(home / "project")
    registry = Recorder()
    with pytest.raises(RegistryError, match="only files in your home can be requested"):
        outputs.request(path, "table 3", client=registry)  # type: ignore[arg-type]
    assert registry.sent == []


def test_the_command_reports_a_refusal_and_exits_2(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.chdir(home)
    assert outputs.main(["request", "/etc/passwd", "--why", "x"]) == 2
    assert "only files in your home" in capsys.readouterr().err
