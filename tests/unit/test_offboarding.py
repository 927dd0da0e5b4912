"""Offboarding of homes: the grace period, who is forgotten when added back,
archive vs destroy, the `offboarding` keys and the period arithmetic."""

from __future__ import annotations

import io
import threading
from datetime import date
from pathlib import Path

import pytest

from sandbox.config.model import Offboarding, Sandbox, SandboxConfig, add_period
from sandbox.host import names, volumes
from sandbox.host.layout import Layout
from sandbox.provisioning import offboarding


def sandbox(homes: str = "archive", grace: str = "P30D") -> Sandbox:
    return Sandbox.model_validate(
        {
            "name": "demo",
            "offboarding": {"homes": homes, "grace": grace},
            "groups": [{"name": "belastingen", "members": ["bob"]}],
        }
    )


@pytest.fixture
def engine(monkeypatch):
    """Docker's home volumes, faked: what exists, and what was done to it."""
    state = {"volumes": ["sandbox-demo-home-alice", "sandbox-demo-home-bob"], "done": []}
    monkeypatch.setattr(volumes, "volumes", lambda prefix: list(state["volumes"]))
    state["teams"] = {"belastingen": "sandbox-demo-shared-belastingen"}
    monkeypatch.setattr(volumes, "team_volumes", lambda sandbox: dict(state["teams"]))

    def archive(volume, image, target):
        state["done"].append(("archive", volume, image, target.name))
        return volumes.Offboarded(volume, "archived", "ab" * 32, 10, str(target))

    def destroy(volume, image):
        state["done"].append(("destroy", volume, image))
        return volumes.Offboarded(volume, "destroyed", "cd" * 32, 10)

    monkeypatch.setattr(volumes, "archive", archive)
    monkeypatch.setattr(volumes, "destroy", destroy)
    return state


def test_a_removed_users_home_waits_out_the_grace_period(tmp_path: Path, engine):
    layout, model = Layout(tmp_path), sandbox()
    assert offboarding.after_up(model, ["alice"], "img", layout, date(2026, 3, 1)) == []
    assert offboarding.read_pending(layout, "demo") == {"alice": "2026-03-01"}
    assert offboarding.after_up(model, [], "img", layout, date(2026, 3, 30)) == []
    actions = offboarding.after_up(model, [], "img", layout, date(2026, 3, 31))
    assert [(a.user, a.done.what) for a in actions] == [("alice", "archived")]
    assert engine["done"][0][:3] == ("archive", "sandbox-demo-home-alice", "img")
    assert offboarding.read_pending(layout, "demo") == {}
    assert not layout.offboarding_pending("demo").exists()


def test_a_user_added_back_within_the_grace_period_keeps_their_home(tmp_path: Path, engine):
    layout = Layout(tmp_path)
    engine["volumes"].remove("sandbox-demo-home-alice")
    offboarding.after_up(sandbox(), ["bob"], "img", layout, date(2026, 3, 1))
    # bob is a member of belastingen in the model: he is back
    assert offboarding.after_up(sandbox(), [], "img", layout, date(2026, 6, 1)) == []
    assert engine["done"] == [] and offboarding.read_pending(layout, "demo") == {}


def test_destroy_removes_the_volume_and_keeps_the_digest(tmp_path: Path, engine):
    actions = offboarding.offboard(
        sandbox("destroy"), ["alice", "nobody"], "img", Layout(tmp_path), "down --purge"
    )
    assert [(a.user, a.done.what, a.done.sha256) for a in actions] == [
        ("alice", "destroyed", "cd" * 32)
    ]


def test_periods_add_months_and_years_within_the_month():
    assert add_period(date(2024, 1, 31), "P1M") == date(2024, 2, 29)
    assert add_period(date(2024, 2, 29), "P1Y") == date(2025, 2, 28)
    assert add_period(date(2026, 3, 1), "P30D") == date(2026, 3, 31)
    assert add_period(date(2026, 3, 1), "P2W") == date(2026, 3, 15)


def test_defaults_keep_what_purge_did_and_a_month_of_grace():
    assert Offboarding() == Offboarding(homes="destroy", grace="P30D")


def test_one_home_that_cannot_be_read_keeps_only_itself_and_stays_pending(
    tmp_path: Path, engine, monkeypatch
):
    def archive(volume, image, target):
        if volume.endswith("alice"):
            raise OSError("reading volume sandbox-demo-home-alice failed: tar exited 2")
        engine["done"].append(("archive", volume))
        return volumes.Offboarded(volume, "archived", "ab" * 32, 10, str(target))

    monkeypatch.setattr(volumes, "archive", archive)
    layout, model = Layout(tmp_path), sandbox()
    offboarding.write_pending(layout, "demo", {"alice": "2026-01-01", "carol": "2026-01-01"})
    engine["volumes"].append("sandbox-demo-home-carol")
    actions = offboarding.after_up(model, [], "img", layout, date(2026, 6, 1))
    assert [(a.user, a.done.what) for a in actions] == [("alice", "failed"), ("carol", "archived")]
    assert "tar exited 2" in actions[0].done.error
    assert offboarding.read_pending(layout, "demo") == {"alice": "2026-01-01"}  # tried again


def test_a_failed_archive_leaves_no_partial_file(tmp_path: Path, monkeypatch):
    def broken(volume, image, sink):
        sink.write(b"x" * 100)
        raise OSError("reading volume v failed")

    monkeypatch.setattr(volumes, "_copy", broken)
    removed = []
    monkeypatch.setattr(volumes, "remove_volume", removed.append)
    target = tmp_path / "off" / "alice.tar.gz"
    with pytest.raises(OSError):
        volumes.archive("v", "img", target)
    assert not target.exists() and removed == []


def test_tar_reads_as_root_with_only_the_capability_to_read():
    command = volumes.tar_command("sandbox-demo-home-alice", "img")
    assert command[command.index("--user") + 1] == "0:0"
    assert command[command.index("--cap-drop") + 1] == "ALL"
    assert command[command.index("--cap-add") + 1] == "DAC_READ_SEARCH"
    assert "sandbox-demo-home-alice:/home/jovyan:ro" in command


def test_a_command_that_says_much_on_stderr_does_not_block_the_copy():
    chunks: list[bytes] = []

    class Sink:
        def write(self, data: bytes) -> None:
            chunks.append(data)

    # 1 MB on stderr before stdout ends: more than a pipe holds
    script = "head -c 1000000 /dev/zero | tr '\\0' e >&2; printf data"
    done = threading.Thread(target=volumes.copy_stream, args=(["sh", "-c", script], Sink()))
    done.daemon = True
    done.start()
    done.join(timeout=20)
    assert not done.is_alive() and b"".join(chunks) == b"data"


def test_a_command_that_fails_raises_with_the_end_of_what_it_said():
    with pytest.raises(OSError, match=r"exited 2: .*cannot open"):
        volumes.copy_stream(["sh", "-c", "echo 'x: cannot open' >&2; exit 2"], io.BytesIO())


def test_a_sandbox_named_like_anothers_homes_keeps_its_volumes_from_the_other(
    tmp_path: Path, engine
):
    # sandbox demo-home-b's homes start with demo's prefix: sandbox-demo-home-b-home-alice
    engine["volumes"].append("sandbox-demo-home-b-home-alice")
    layout = Layout(tmp_path)
    layout.sandbox_dir("demo-home-b").mkdir(parents=True)
    assert offboarding.home_users("demo", offboarding.known_sandboxes(layout)) == ["alice", "bob"]
    actions = offboarding.offboard(
        sandbox("destroy"), ["alice", "b-home-alice"], "img", layout, "down --purge"
    )
    assert [a.done.volume for a in actions] == ["sandbox-demo-home-alice"]
    assert names.foreign_homes_pattern("demo", ["demo", "demo-home-b", "other"]) == (
        "^(sandbox-demo-home-b-home-)"
    )
    assert names.foreign_homes_pattern("demo", ["demo", "other"]) == "^$"


def test_one_configuration_cannot_hold_a_sandbox_named_like_anothers_homes():
    def config(*names: str) -> dict:
        return {
            "organisation": {"name": "Gemeente", "kind": "government"},
            "sandboxes": [
                {"name": n, "hub": {"port": 8000 + i}, "groups": [{"name": "g", "members": ["x"]}]}
                for i, n in enumerate(names)
            ],
        }

    with pytest.raises(ValueError, match="home volumes of demo-home-b would be named like"):
        SandboxConfig.model_validate(config("demo", "demo-home-b"))
    SandboxConfig.model_validate(config("demo", "demo-homes", "home-demo"))


def test_a_home_of_someone_no_longer_in_the_sandbox_waits_out_the_grace_period(
    tmp_path: Path, engine
):
    # alice left while the sandbox was down: no revocation of this `up` names her
    layout = Layout(tmp_path)
    assert offboarding.after_up(sandbox(), [], "img", layout, date(2026, 3, 1)) == []
    assert offboarding.read_pending(layout, "demo") == {"alice": "2026-03-01"}
    actions = offboarding.after_up(sandbox(), [], "img", layout, date(2026, 3, 31))
    assert [(a.user, a.done.what) for a in actions] == [("alice", "archived")]


def test_with_an_identity_providers_groups_a_home_without_a_member_is_kept(tmp_path: Path, engine):
    # who gets in through idp_group is in no list here: alice may well be one of them
    model = sandbox().model_copy(
        update={"groups": [sandbox().groups[0].model_copy(update={"idp_group": "g"})]}
    )
    assert offboarding.left_homes(model, Layout(tmp_path)) == []
    assert offboarding.left_homes(sandbox(), Layout(tmp_path)) == ["alice"]


def test_a_member_whose_name_docker_escapes_keeps_their_home(tmp_path: Path, engine):
    # DockerSpawner names k.devries's volume sandbox-demo-home-k-2edevries
    engine["volumes"].append("sandbox-demo-home-k-2edevries")
    engine["volumes"].append("sandbox-demo-home-made-by-hand")  # no escaped name: left alone
    layout = Layout(tmp_path)
    member = Sandbox.model_validate(
        {"name": "demo", "groups": [{"name": "g", "members": ["bob", "k.devries"]}]}
    )
    assert offboarding.left_homes(member, layout) == ["alice"]
    assert offboarding.left_homes(sandbox(), layout) == ["alice", "k.devries"]
    actions = offboarding.offboard(sandbox("destroy"), ["k.devries"], "img", layout, "gone")
    assert [a.done.volume for a in actions] == ["sandbox-demo-home-k-2edevries"]
    assert names.docker_escaped("a-b_c") == "a-2db-5fc"
    assert names.docker_unescaped("a-2db-5fc") == "a-b_c"


def test_a_gone_groups_team_folder_waits_out_the_grace_period_like_a_home(tmp_path, engine):
    layout = Layout(tmp_path)
    engine["teams"]["wonen"] = "sandbox-demo-shared-wonen"  # a group no longer configured
    assert offboarding.after_up(sandbox(), [], "img", layout, date(2026, 3, 1)) == []
    pending = offboarding.read_pending(layout, "demo")
    # belastingen is still there: its folder stays; alice's home (in no group) waits too
    assert pending == {"alice": "2026-03-01", "shared/wonen": "2026-03-01"}
    actions = offboarding.after_up(sandbox(), [], "img", layout, date(2026, 3, 31))
    assert [(a.user, a.label, a.done.what) for a in actions] == [
        ("alice", "home of alice", "archived"),
        ("shared/wonen", "team folder of wonen", "archived"),
    ]
    assert ("archive", "sandbox-demo-shared-wonen", "img") in [d[:3] for d in engine["done"]]
    assert engine["done"][-1][3].startswith("shared-wonen-")


def test_a_group_that_opts_out_gives_up_its_team_folder(tmp_path, engine):
    opted_out = Sandbox.model_validate(
        {
            "name": "demo",
            "groups": [
                {"name": "belastingen", "members": ["alice", "bob"], "shared_folder": False}
            ],
        }
    )
    offboarding.after_up(opted_out, [], "img", Layout(tmp_path), date(2026, 3, 1))
    assert offboarding.read_pending(Layout(tmp_path), "demo") == {
        "shared/belastingen": "2026-03-01"
    }
    # at down --purge every home and team folder goes at once
    subjects = offboarding.subject_volumes("demo", [])
    actions = offboarding.offboard(opted_out, subjects, "img", Layout(tmp_path), "down --purge")
    assert [a.user for a in actions] == ["alice", "bob", "shared/belastingen"]
