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
    """Registry, hub databases, secrets, team folders and config in one 0600 archive."""
    from ..provisioning.backup import create

    env = opts.env()
    manifest = create(env.layout, env.registry_url, opts.config.parent, output)
    teams = [f"{s}/{g}" for s, groups in manifest.get("team_folders", {}).items() for g in groups]
    click.echo(
        f"backup: {output} (registry: {manifest['registry']}, "
        f"sandboxes: {', '.join(manifest['sandboxes']) or 'none'}, "
        f"team folders: {', '.join(teams) or 'none'})"
    )


@click.command()
@click.argument("archive", type=click.Path(path_type=Path, dir_okay=False))
@pass_options
def restore(opts: Options, archive: Path):
    """Restore a backup into an empty state directory (config under restored-config/)."""
    from ..provisioning.backup import restore as run_restore

    env = opts.env()
    manifest = run_restore(archive, env.layout, env.registry_url)
    for sandbox, groups in manifest.get("team_folders_kept", {}).items():
        for group in groups:
            click.echo(f"team folder {sandbox}/{group}: its volume exists here; left as it is")
    click.echo(
        f"restored {archive} into {env.layout.root} "
        f"(sandboxes: {', '.join(manifest['sandboxes']) or 'none'}); "
        "run `sandbox audit verify`, then `sandbox up`"
    )


@click.group()
def audit():
    """The hash-chained audit log."""


@audit.command("verify")
@click.option(
    "--witness",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Heads witnessed earlier (JSON Lines) [default: <state>/audit/heads.jsonl].",
)
@pass_options
def audit_verify(opts: Options, witness: Path | None):
    """Recompute the chain and every row of the record it covers, and find the
    witnessed heads in it; exit 1 naming the first problem."""
    from ..provisioning.actions import verify_audit

    check, used = verify_audit(opts.env(), witness)
    if not check.ok:
        others = f" (and {check.problems - 1} more)" if check.problems > 1 else ""
        raise SandboxError(f"audit chain broken at entry {check.first_bad}: {check.reason}{others}")
    witnessed = f"; {check.witnessed} witnessed head(s) in it ({used})" if used else ""
    click.echo(
        f"audit: {check.entries} entries, chain intact, {check.rows} rows as recorded{witnessed}"
    )


@audit.command("head")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_options
def audit_head(opts: Options, as_json: bool):
    """The newest entry of the chain: what a witness keeps."""
    from ..provisioning.actions import audit_head as head_of

    head = head_of(opts.env())
    if as_json:
        emit_json(head.as_dict() if head else None)
    elif head is None:
        click.echo("audit: the chain is empty")
    else:
        click.echo(f"seq {head.seq}  hash {head.hash}  at {head.at}")


@audit.command("list")
@click.option("--kind", help="Only entries of this kind (provision, grant, transition, ...).")
@pass_options
def audit_list(opts: Options, kind: str | None):
    """The audit entries as JSON."""
    from ..registry import audit as audit_log

    emit_json(audit_log.entries(open_registry(opts), kind))


COMMANDS = (backup, restore, audit)
