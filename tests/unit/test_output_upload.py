"""A request from a swarm server on another node than the hub's carries its
files (the airlock cannot read that home): the client packs them when the
service answers 409, and the service unpacks them under the same rules as a
home it reads itself."""

from __future__ import annotations

import base64
import io
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from sandbox.host.airlock import Refused, take, unpack

sys.path.insert(0, str(Path(__file__).parents[2] / "images" / "notebook" / "sandbox_client"))
from sandbox_client import outputs
from sandbox_client.client import RegistryError


class ElsewhereRegistry:
    """Answers as the service does for a home on another node: 409 without
    the files, the request's id with them."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        self.sent.append(body)
        if "upload" not in body:
            raise RegistryError(409, "another node than the hub's: send the files (upload)")
        return {"id": "OUT-0001"}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / "results").mkdir(parents=True)
    (home / "results" / "t.csv").write_text("a,b\n1,2\n")
    (home / "results" / "t.csv.sdc.json").write_text("{}")
    (home / "results" / "other.csv").write_text("not asked for\n")
    monkeypatch.setattr(outputs, "HOME", str(home))
    monkeypatch.chdir(home / "results")
    return home


def test_the_client_sends_the_file_and_its_evidence_when_asked_and_the_airlock_takes_them(
    home: Path, tmp_path: Path
):
    registry = ElsewhereRegistry()
    assert outputs.request("t.csv", "table 3", client=registry) == {"id": "OUT-0001"}  # type: ignore[arg-type]
    first, second = registry.sent
    assert "upload" not in first and second["path"] == "results/t.csv"
    unpacked = tmp_path / "unpacked"
    unpack(second["upload"], unpacked, max_bytes=1000)
    taken = take(unpacked, "results/t.csv", tmp_path / "copy", max_bytes=1000)
    assert sorted(t.path for t in taken) == ["t.csv", "t.csv.sdc.json"]
    assert not (unpacked / "results" / "other.csv").exists()  # only what was asked


def test_another_refusal_is_not_answered_with_files(home: Path):
    class Refusing(ElsewhereRegistry):
        def _call(self, method: str, path: str, body: Any = None) -> Any:
            self.sent.append(body)
            raise RegistryError(400, "results/t.csv: not found")

    registry = Refusing()
    with pytest.raises(RegistryError):
        outputs.request("t.csv", "table 3", client=registry)  # type: ignore[arg-type]
    assert len(registry.sent) == 1


def tar_of(*members: tuple[tarfile.TarInfo, bytes]) -> str:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:") as archive:
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            archive.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return base64.b64encode(buffer.getvalue()).decode()


def member(name: str, kind: bytes = tarfile.REGTYPE, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        ("not base64!", "not a base64 tar"),
        (base64.b64encode(b"not a tar").decode(), "not a base64 tar"),
        (tar_of((member("../escape.csv"), b"x")), "not a path in your home"),
        (tar_of((member("/etc/x.csv"), b"x")), "not a path in your home"),
        (tar_of((member("t.csv", tarfile.SYMTYPE, "/etc/passwd"), b"")), "only files and folders"),
        (tar_of((member("t.csv", tarfile.LNKTYPE, "x"), b"")), "only files and folders"),
        (tar_of((member("big.csv"), b"x" * 101)), "over the airlock's limit of 100"),
    ],
)
def test_an_upload_that_is_not_plain_files_in_the_home_is_refused_whole(
    tmp_path: Path, upload: str, message: str
):
    into = tmp_path / "unpacked"
    with pytest.raises(Refused, match=message):
        unpack(upload, into, max_bytes=100)
    assert not into.exists() or not any(into.rglob("*"))
