"""Keeping a sandbox machine's state safe: ``sandbox backup``, ``restore`` and ``audit``."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import SandboxError
from .common import Options, emit_json, open_registry, pass_options


@click.command()
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True)
@pass_options
def backup(opts: Options, output: Path):
    """Registry, hub databases, secrets and config in one 0600 archive."""
    from ..provisioning.backup import create

    env = opts.env()
    manifest = create(env.layout, env.registry_url, opts.config.parent, output)
    click.echo(
        f"backup: {output} (registry: {manifest['registry']}, "
        f"sandboxes: {', '.join(manifest['sandboxes']) or 'none'})"
    )


@click.command()
@click.argument("archive", type=click.Path(path_type=Path, dir_okay=False))
@pass_options
def restore(opts: Options, archive: Path):
    """Restore a backup into an empty state directory (config under restored-config/)."""
    from ..provisioning.backup import restore as run_restore

    env = opts.env()
    manifest = run_restore(archive, env.layout, env.registry_url)
    click.echo(
        f"restored {archive} into {env.layout.root} "
        f"(sandboxes: {', '.join(manifest['sandboxes']) or 'none'}); "
        "run `sandbox audit verify`, then `sandbox up`"
    )


@click.group()
def audit():
    """The hash-chained audit log."""


@audit.command("verify")
@pass_options
def audit_verify(opts: Options):
    """Recompute the chain; exit 1 naming the first bad entry."""
    from ..provisioning.actions import verify_audit

    check = verify_audit(opts.env())
    if not check.ok:
        raise SandboxError(f"audit chain broken at entry {check.first_bad}: {check.reason}")
    click.echo(f"audit: {check.entries} entries, chain intact")


@audit.command("list")
@click.option("--kind", help="Only entries of this kind (provision, grant, transition, ...).")
@pass_options
def audit_list(opts: Options, kind: str | None):
    """The audit entries as JSON."""
    from ..registry import audit as audit_log

    emit_json(audit_log.entries(open_registry(opts), kind))


COMMANDS = (backup, restore, audit)
