"""What `down --purge` removes besides containers, volumes and sockets.

A staged dataset version is shared: every sandbox granted the same version
mounts the same read-only copy. Purging a sandbox removes the copies it used
(its plan's, and those its last `up` recorded) that no other sandbox uses:
another sandbox provisioned here (its ``applied.json``) or configured and
not purged in the same `down`; and the copies no sandbox uses any more (a
version a sandbox stopped using when it lost a grant), with the card files
generated to stage them. The sandbox's folder in the state directory goes
too: the hub's database, its secrets, hub.json, logs, notices.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..config.loader import LoadedConfig
from ..governance.catalog import staged_datasets
from ..host.layout import Layout
from .context import Context
from .plan import SandboxPlan, read_applied


def _applied_copies(layout: Layout, sandbox: str) -> set[Path]:
    applied = read_applied(layout.applied(sandbox))
    datasets: Mapping[str, str] = applied.get("datasets", {}) if applied else {}
    return {layout.dataset_version_dir(i, key) for i, key in datasets.items()}


def provisioned(layout: Layout) -> list[str]:
    """Every sandbox an `up` recorded in this state directory."""
    if not layout.sandboxes_dir().is_dir():
        return []
    return sorted(
        f.name for f in layout.sandboxes_dir().iterdir() if layout.applied(f.name).is_file()
    )


def unshared_copies(
    layout: Layout,
    purged: Mapping[str, Iterable[Path]],
    kept: Mapping[str, Iterable[Path]],
) -> dict[str, list[Path]]:
    """sandbox -> the staged copies to remove with it.

    ``purged``: each sandbox being purged, with its plan's staged copies;
    ``kept``: the configured sandboxes that stay, with theirs."""
    in_use: set[Path] = set()
    for copies in kept.values():
        in_use |= set(copies)
    for name in provisioned(layout):
        if name not in purged:
            in_use |= _applied_copies(layout, name)
    result: dict[str, list[Path]] = {}
    claimed: set[Path] = set()
    for name, copies in purged.items():
        mine = (set(copies) | _applied_copies(layout, name)) - in_use - claimed
        claimed |= mine
        result[name] = sorted(mine)
    # a version a sandbox stopped using (a grant it lost) is used by none:
    # it goes with the first purged sandbox
    unused = set(staged_copies(layout)) - in_use - claimed
    if purged and unused:
        first = next(iter(purged))
        result[first] = sorted(set(result[first]) | unused)
    return result


def _kept(layout: Layout, removed: list[Path]) -> list[Path]:
    return [p for p in staged_copies(layout) if p not in set(removed)]


def staged_copies(layout: Layout) -> list[Path]:
    """Every staged dataset version in this state directory."""
    if not layout.datasets_dir().is_dir():
        return []
    return sorted(v for d in layout.datasets_dir().iterdir() if d.is_dir() for v in d.iterdir())


def purge_plan(
    loaded: LoadedConfig, plans: list[SandboxPlan], env: Context, variables: dict[str, Any]
) -> dict[str, Any]:
    """Tell the playbook which staged copies to remove with each hub; return
    what is purged, for the audit entry of `down`."""
    purged = {p.sandbox.name for p in plans}
    copies = unshared_copies(
        env.layout,
        {p.sandbox.name: [s.path for s in p.staged.values()] for p in plans},
        {
            s.name: [d.path for d in staged_datasets(loaded, s, env.layout).values()]
            for s in loaded.config.sandboxes
            if s.name not in purged
        },
    )
    for hub in variables["sandbox_hubs"]:
        paths = copies[hub["name"]]
        # the card files generated for staging them, when no other copy of the dataset stays
        ids = {p.parent.name for p in paths} - {p.parent.name for p in _kept(env.layout, paths)}
        extras = [env.layout.upload_extras(i) for i in sorted(ids)]
        hub["purge_staged"] = [str(path) for path in [*paths, *extras]]
    return {
        name: {
            "staged_copies": [str(path) for path in paths],
            "state": str(env.layout.sandbox_dir(name)),
        }
        for name, paths in copies.items()
    }
