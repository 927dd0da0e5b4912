"""`down --purge` removes the staged copies no other sandbox uses, and
nothing another sandbox still mounts."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sandbox.host.layout import Layout
from sandbox.host.staging import remove
from sandbox.provisioning.purge import unshared_copies


def applied(layout: Layout, sandbox: str, datasets: dict[str, str]) -> None:
    path = layout.applied(sandbox)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"sandbox": sandbox, "datasets": datasets}))


def test_only_copies_no_other_sandbox_uses_are_purged(tmp_path: Path):
    layout = Layout(tmp_path)
    woz1, woz2 = layout.dataset_version_dir("woz", "1-a"), layout.dataset_version_dir("woz", "2-b")
    cbs = layout.dataset_version_dir("cbs", "1-c")
    mel = layout.dataset_version_dir("mel", "1-d")
    applied(layout, "demo", {"woz": "1-a", "cbs": "1-c"})  # the last up staged woz 1
    applied(layout, "other", {"cbs": "1-c"})  # provisioned here, not in the config
    copies = unshared_copies(
        layout,
        purged={"demo": [woz2, cbs]},  # the config now grants woz 2
        kept={"third": [mel]},
    )
    assert copies == {"demo": sorted([woz1, woz2])}


def test_a_copy_no_sandbox_uses_any_more_goes_with_the_purge(tmp_path: Path):
    layout = Layout(tmp_path)
    lost, kept = layout.dataset_version_dir("woz", "1-a"), layout.dataset_version_dir("cbs", "1-c")
    for copy in (lost, kept):
        copy.mkdir(parents=True)
    applied(layout, "other", {"cbs": "1-c"})
    assert unshared_copies(layout, purged={"demo": []}, kept={}) == {"demo": [lost]}


def test_two_sandboxes_purged_together_take_their_shared_copy_once(tmp_path: Path):
    layout = Layout(tmp_path)
    cbs = layout.dataset_version_dir("cbs", "1-c")
    copies = unshared_copies(layout, purged={"a": [cbs], "b": [cbs]}, kept={})
    assert copies == {"a": [cbs], "b": []}


def test_remove_takes_read_only_copies_and_an_emptied_dataset_folder(tmp_path: Path):
    layout = Layout(tmp_path)
    old, new = layout.dataset_version_dir("woz", "1-a"), layout.dataset_version_dir("woz", "2-b")
    for copy in (old, new):
        (copy / "data").mkdir(parents=True)
        (copy / "data" / "rows.csv").write_text("a\n")
        os.chmod(copy / "data" / "rows.csv", 0o444)
        os.chmod(copy / "data", 0o555)
        os.chmod(copy, 0o555)
    assert remove([old]) == [old]
    assert not old.exists() and new.is_dir()
    assert remove([old, new]) == [new]
    assert not (layout.datasets_dir() / "woz").exists()
