"""Commands for a sandbox's config and its life on this machine:
init, validate, schema, plan, up, down, status, credentials."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InvalidInput, SandboxError
from .common import (
    Options,
    console,
    current_actor,
    emit_json,
    pass_options,
    problems_as_json,
)

STATUS_STYLE = {"changed": "yellow", "failed": "red", "unreachable": "red", "skipped": "dim"}


@click.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
def init(directory: Path):
    """Scaffold DIRECTORY/sandbox.yaml and DIRECTORY/datasets/ with a working example
    (its hub on the first free port from 8000)."""
    from ..config.scaffold import scaffold
    from ..provisioning.ports import free_port

    written = scaffold(directory, port=free_port())
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"next: sandbox -c {directory / 'sandbox.yaml'} validate")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_options
def validate(opts: Options, as_json: bool):
    """Load and validate the config, data cards, files and governance policy."""
    from ..governance.dcat import donl_problems
    from ..governance.policy import dataset_tier
    from ..provisioning.actions import validate as run_validate
    from ..provisioning.ports import port_problem

    with problems_as_json(as_json):
        checked = run_validate(opts.config)
    loaded = checked.loaded
    publication = donl_problems(loaded)  # warnings: the catalog export still runs
    # warnings here, refused by plan and up: another program holds a hub's port
    layout = opts.env().layout
    ports = [busy for s in loaded.config.sandboxes if (busy := port_problem(s, layout))]
    if as_json:
        emit_json(
            {
                "valid": True,
                "sandboxes": [s.name for s in loaded.config.sandboxes],
                "datasets": {i: dataset_tier(c.card) for i, c in loaded.cards.items()},
                "warnings": [str(w) for w in checked.warnings],
                "dcat_ap_donl": [str(p) for p in publication],
                "ports": ports,
            }
        )
        return
    for warning in checked.warnings:
        click.echo(f"warning: {warning}", err=True)
    for problem in publication:
        click.echo(f"warning: DCAT-AP-DONL: {problem}", err=True)
    for busy in ports:
        click.echo(f"warning: {busy}", err=True)
    click.echo(
        f"{opts.config}: valid ({len(loaded.config.sandboxes)} sandbox(es), "
        f"{len(loaded.cards)} dataset(s))"
    )


@click.command()
@click.option(
    "--kind",
    type=click.Choice(["config", "datacard"]),
    default="config",
    show_default=True,
    help="sandbox.yaml or a data card.",
)
def schema(kind: str):
    """Print the JSON Schema of sandbox.yaml or of a data card (for editors), each
    key with its description."""
    from ..config.reference import described_schema

    document = described_schema("config" if kind == "config" else "datacard")
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    emit_json(document)


@click.command()
@click.argument("sandbox", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_options
def plan(opts: Options, sandbox: str | None, as_json: bool):
    """Show what `up` would change. Changes nothing."""
    from ..provisioning.actions import make_plan

    with problems_as_json(as_json):
        plans = make_plan(opts.config, opts.env(), sandbox)
    if as_json:
        emit_json({"sandboxes": [p.as_dict() for p in plans]})
        return
    out = console()
    for item in plans:
        out.print(
            f"[bold]{item.sandbox.name}[/] ({item.desired['url']}, tier {item.desired['tier']})"
        )
        for warning in item.warnings:
            out.print(f"  [yellow]warning:[/] {warning}")
        if not item.changes:
            out.print("  no changes")
        for change in item.changes:
            out.print(f"  {_change_line(change)}")


def _change_line(change) -> str:
    if change.action == "revoke":
        return f"- revoke {change.name}: {change.detail}"
    sign = {"create": "+", "remove": "-", "change": "~", "start": ">"}[change.action]
    detail = f"  ({change.detail})" if change.detail else ""
    return f"{sign} {change.action} {change.kind} {change.name}{detail}"


def _progress(out):
    def show(event):
        style = STATUS_STYLE.get(event.status, "green")
        line = f"  [{style}]{event.status:>9}[/] {event.task}"
        if event.message:
            line += f": {event.message}"
        out.print(line)

    return show


inventory_option = click.option(
    "-i",
    "--inventory",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Ansible inventory [default: localhost].",
)


@click.command()
@click.argument("sandbox", required=False)
@inventory_option
@click.option(
    "--ca-bundle",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="SANDBOX_CA_BUNDLE",
    help="CA bundle for image builds behind TLS-inspecting proxies.",
)
@click.option("-q", "--quiet", is_flag=True, help="Only print the summary.")
@click.option(
    "--full",
    is_flag=True,
    help="Run every provisioning step even when this machine is already as planned.",
)
@pass_options
def up(
    opts: Options,
    sandbox: str | None,
    inventory: Path | None,
    ca_bundle: Path | None,
    quiet: bool,
    full: bool,
):
    """Provision or update sandboxes (idempotent).

    When the plan has no changes and quick checks find this machine as planned
    (hub answering, hub.json, secrets, staged datasets, image, network), the
    playbook is skipped; `--full` runs it anyway. With -i it always runs."""
    from ..provisioning.actions import up as run_up

    out = console()
    env = opts.env(inventory=inventory, ca_bundle=ca_bundle)
    progress = None if quiet else _progress(out)
    result = run_up(opts.config, env, sandbox, progress, actor=current_actor(), full=full)
    for item in result.plans:
        for warning in item.warnings:
            out.print(f"[yellow]warning:[/] {warning}")
        out.print(f"[bold]{item.sandbox.name}[/]: {item.desired['url']}")
    for done in result.revoked:
        what = done.revocation.describe().rsplit(" (", 1)[0]
        stopped = f"server stopped in {done.seconds:.1f} s" if done.server_stopped else "no server"
        out.print(f"revoked {done.revocation.user}: {what} ({stopped}; in the access log)")
    _print_homes(out, result.homes)
    if result.changed:
        out.print(f"up: {result.run.changed} change(s) applied")
    else:
        out.print("up: no changes (everything was already in place)")


def _print_homes(out, homes) -> None:
    for home in homes:
        if home.done.what == "failed":
            out.print(
                f"[yellow]warning:[/] {home.label} kept: {home.done.error} "
                f"({home.reason}; in the audit log)"
            )
            continue
        kept = f" to {home.done.archive}" if home.done.archive else ""
        out.print(f"{home.label} {home.done.what}{kept} (sha256 {home.done.sha256}; {home.reason})")


@click.command()
@click.argument("sandbox", required=False)
@click.option("--purge", is_flag=True, help="Also remove user home volumes (asks first).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation with --purge.")
@inventory_option
@pass_options
def down(opts: Options, sandbox: str | None, purge: bool, yes: bool, inventory: Path | None):
    """Stop sandboxes and their user servers."""
    from ..provisioning.actions import down as run_down

    if purge and not yes:
        click.confirm(
            f"Remove the home volumes of {sandbox or 'every sandbox'}? Users' files are lost",
            abort=True,
        )
    out = console()
    env = opts.env(inventory=inventory)
    homes = run_down(opts.config, env, sandbox, purge, _progress(out), actor=current_actor())
    _print_homes(out, homes)
    out.print("down: stopped" + (" and purged" if purge else ""))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_options
def status(opts: Options, as_json: bool):
    """Per sandbox: URL, hub health, running servers, datasets, expiry.

    Without a config file, what the state directory holds (as the last `up`
    recorded it)."""
    from ..provisioning.actions import status as run_status
    from ..provisioning.status import state_status
    from ..reporting.tables import Grid, show

    env = opts.env()
    from_state = not opts.config.is_file()
    items = state_status(env.layout) if from_state else run_status(opts.config, env)
    if from_state and not items:
        raise InvalidInput(
            f"{opts.config}: file not found, and the state directory {env.layout.root} "
            "holds no sandbox; give the config with -c, or the state with --state-dir"
        )
    if from_state:
        click.echo(
            f"no config at {opts.config}: showing what {env.layout.root} holds "
            "(give -c for the configured view)",
            err=True,
        )
    if as_json:
        emit_json({"sandboxes": [s.as_dict() for s in items], "state_dir": str(env.layout.root)})
        return
    keys = frozenset({"sandbox", "url", "hub", "expires"})
    grid = Grid(("sandbox", "url", "hub", "tier", "servers", "datasets", "expires"), keys)
    for s in items:
        health = (
            f"up ({s.hub_version})" if s.hub_version else ("down" if not s.hub_running else "error")
        )
        grid.add_row(
            s.name,
            s.url,
            health,
            s.tier,
            ", ".join(s.servers),
            ", ".join(s.datasets),
            f"{s.expires} (expired)" if s.expired else s.expires,
        )
    show([grid], console())
    for s in items:
        for p in s.partners:
            until = f" until {p['valid_until']}" if p["valid_until"] else ""
            state = "" if p["admitted"] else " [no longer admitted]"
            click.echo(
                f"{s.name}: partner {p['member']} ({p['organisation']}, group {p['group']}, "
                f"agreement {p['reference'] or 'none'}{until}){state}"
            )
        for node in s.nodes:
            staged = "datasets staged" if node["datasets_staged"] else "no datasets staged"
            click.echo(
                f"{s.name}: node {node['hostname']} {node['state']}, {node['availability']}, "
                f"{node['role']}, {staged}"
            )
        for user, where in sorted(s.placement.items()):
            click.echo(f"{s.name}: server of {user} runs on {where}")
        if s.error:
            click.echo(f"{s.name}: {s.error}", err=True)


@click.command()
@click.argument("sandbox")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_options
def credentials(opts: Options, sandbox: str, as_json: bool):
    """Print the logins of a shared-password or per-user-password SANDBOX
    (reveals its passwords: hand each person their own)."""
    from dataclasses import asdict

    from ..provisioning.actions import credentials as read_credentials

    creds = read_credentials(opts.config, opts.env(), sandbox)
    if not creds.provisioned:
        raise SandboxError(f"sandbox {sandbox} is not provisioned here (no secrets found)")
    if as_json:
        emit_json(asdict(creds))
        return
    if creds.passwords:
        click.echo(f"URL:      {creds.url}")
        width = max(len(user) for user in creds.passwords)
        for user, password in creds.passwords.items():
            role = " (admin)" if user in creds.admins else ""
            shown = password or "(none yet: run `sandbox up`)"
            click.echo(f"{user.ljust(width)}  {shown}{role}")
        return
    click.echo(f"URL:            {creds.url}")
    click.echo(f"users:          {', '.join(creds.users)}")
    click.echo(f"user password:  {creds.user_password}")
    click.echo(f"admins:         {', '.join(creds.admins) or '-'}")
    click.echo(f"admin password: {creds.admin_password}")


COMMANDS = (init, validate, schema, plan, up, down, status, credentials)
