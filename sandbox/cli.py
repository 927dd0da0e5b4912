"""The ``sandbox`` command: parse options, call the library, render results.

Domain errors become a clean message and exit code in one place
(``SandboxGroup.invoke``); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from .errors import InvalidInput, SandboxError

STATUS_STYLE = {"changed": "yellow", "failed": "red", "unreachable": "red", "skipped": "dim"}


class CommandError(click.ClickException):
    """A ``SandboxError`` shown as one message, with its exit code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


class SandboxGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SandboxError as exc:
            if ctx.obj is not None and getattr(ctx.obj, "debug", False):
                raise
            raise CommandError(str(exc), exc.exit_code) from None


@dataclass
class Options:
    config: Path
    state_dir: Path | None
    registry: str | None
    debug: bool

    def env(self, **overrides: Any):
        from .environment import Environment

        return Environment.from_env(state_dir=self.state_dir, registry=self.registry, **overrides)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def write_output(text: str, output: Path | None, what: str = "") -> None:
    """Text to a file (saying so on stderr) or to stdout."""
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {what + ' to ' if what else ''}{output}", err=True)
    else:
        click.echo(text, nl=False)


def console():
    from rich.console import Console

    return Console(highlight=False)


@click.group(cls=SandboxGroup)
@click.option(
    "-c",
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="SANDBOX_CONFIG",
    default="config/sandbox.yaml",
    show_default=True,
    help="The sandbox.yaml to use.",
)
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="SANDBOX_STATE_DIR",
    help="Where provisioned state lives [default: ~/.local/state/data-sandbox].",
)
@click.option(
    "--registry",
    envvar="SANDBOX_REGISTRY_URL",
    help="Experiment registry database URL [default: SQLite file in the state dir].",
)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(package_name="data-sandbox")
@click.pass_context
def cli(
    ctx: click.Context, config: Path, state_dir: Path | None, registry: str | None, debug: bool
):
    """Provision governed JupyterHub data sandboxes from YAML."""
    ctx.obj = Options(config, state_dir, registry, debug)


pass_options = click.make_pass_decorator(Options)


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
def init(directory: Path):
    """Scaffold DIRECTORY/sandbox.yaml and DIRECTORY/datasets/ with a working example."""
    from .scaffold import scaffold

    written = scaffold(directory)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"next: sandbox -c {directory / 'sandbox.yaml'} validate")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_options
def validate(opts: Options, as_json: bool):
    """Load and validate the config, data cards, files and governance policy."""
    from .operations import validate as run_validate
    from .policy import dataset_tier

    checked = run_validate(opts.config)
    loaded = checked.loaded
    if as_json:
        emit_json(
            {
                "valid": True,
                "sandboxes": [s.name for s in loaded.config.sandboxes],
                "datasets": {i: dataset_tier(c.card) for i, c in loaded.cards.items()},
                "warnings": [str(w) for w in checked.warnings],
            }
        )
        return
    for warning in checked.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(
        f"{opts.config}: valid ({len(loaded.config.sandboxes)} sandbox(es), "
        f"{len(loaded.cards)} dataset(s))"
    )


@cli.command()
@click.argument("sandbox", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_options
def plan(opts: Options, sandbox: str | None, as_json: bool):
    """Show what `up` would change. Changes nothing."""
    from .operations import make_plan

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
            sign = {"create": "+", "remove": "-", "change": "~", "start": ">"}[change.action]
            detail = f"  ({change.detail})" if change.detail else ""
            out.print(f"  {sign} {change.action} {change.kind} {change.name}{detail}")


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


@cli.command()
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
    from .operations import up as run_up

    out = console()
    env = opts.env(inventory=inventory, ca_bundle=ca_bundle)
    progress = None if quiet else _progress(out)
    result = run_up(opts.config, env, sandbox, progress, actor=_actor(), full=full)
    for item in result.plans:
        for warning in item.warnings:
            out.print(f"[yellow]warning:[/] {warning}")
        out.print(f"[bold]{item.sandbox.name}[/]: {item.desired['url']}")
    if result.changed:
        out.print(f"up: {result.run.changed} change(s) applied")
    else:
        out.print("up: no changes (everything was already in place)")


@cli.command()
@click.argument("sandbox", required=False)
@click.option("--purge", is_flag=True, help="Also remove user home volumes (asks first).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation with --purge.")
@inventory_option
@pass_options
def down(opts: Options, sandbox: str | None, purge: bool, yes: bool, inventory: Path | None):
    """Stop sandboxes and their user servers."""
    from .operations import down as run_down

    if purge and not yes:
        click.confirm(
            f"Remove the home volumes of {sandbox or 'every sandbox'}? Users' files are lost",
            abort=True,
        )
    out = console()
    env = opts.env(inventory=inventory)
    run_down(opts.config, env, sandbox, purge, _progress(out), actor=_actor())
    out.print("down: stopped" + (" and purged" if purge else ""))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_options
def status(opts: Options, as_json: bool):
    """Per sandbox: URL, hub health, running servers, datasets, expiry."""
    from rich.table import Table

    from .operations import status as run_status

    items = run_status(opts.config, opts.env())
    if as_json:
        emit_json({"sandboxes": [s.as_dict() for s in items]})
        return
    table = Table("sandbox", "url", "hub", "tier", "servers", "datasets", "expires")
    for s in items:
        health = (
            f"up ({s.hub_version})" if s.hub_version else ("down" if not s.hub_running else "error")
        )
        table.add_row(
            s.name,
            s.url,
            health,
            "-" if s.tier is None else str(s.tier),
            ", ".join(s.servers) or "-",
            ", ".join(s.datasets) or "-",
            s.expires or "-",
        )
    console().print(table)
    for s in items:
        if s.error:
            click.echo(f"{s.name}: {s.error}", err=True)


@cli.command()
@click.argument("sandbox")
@pass_options
def credentials(opts: Options, sandbox: str):
    """Print the logins of a shared-password SANDBOX (reveals its passwords)."""
    from .operations import credentials as read_credentials

    creds = read_credentials(opts.config, opts.env(), sandbox)
    if creds.user_password is None:
        raise SandboxError(f"sandbox {sandbox} is not provisioned here (no secrets found)")
    click.echo(f"URL:            {creds.url}")
    click.echo(f"users:          {', '.join(creds.users)}")
    click.echo(f"user password:  {creds.user_password}")
    click.echo(f"admins:         {', '.join(creds.admins) or '-'}")
    click.echo(f"admin password: {creds.admin_password}")


@cli.group()
def datasets():
    """The curated dataset catalog."""


@datasets.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_options
def datasets_list(opts: Options, as_json: bool):
    """List data cards with tier, owner and classification."""
    from rich.table import Table

    from .config import load_config
    from .policy import dataset_tier

    loaded = load_config(opts.config, verify_checksums=False)
    rows = [
        {
            "id": c.card.id,
            "title": c.card.title,
            "version": c.card.version,
            "tier": dataset_tier(c.card),
            "owner": c.card.owner,
            "access_rights": c.card.access_rights,
            "personal_data": c.card.personal_data.kind,
        }
        for c in loaded.cards.values()
    ]
    if as_json:
        emit_json(rows)
        return
    table = Table("id", "title", "version", "tier", "owner", "access", "personal data")
    for r in rows:
        table.add_row(*(str(v) for v in r.values()))
    console().print(table)


@datasets.command("show")
@click.argument("dataset_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_options
def datasets_show(opts: Options, dataset_id: str, as_json: bool):
    """Show one data card with the quality of its data."""
    from .config import load_config
    from .operations import dataset_quality
    from .policy import dataset_tier

    loaded = load_config(opts.config, verify_checksums=False)
    if dataset_id not in loaded.cards:
        raise InvalidInput(f"unknown dataset {dataset_id!r} (known: {', '.join(loaded.cards)})")
    card = loaded.cards[dataset_id].card
    data = {"tier": dataset_tier(card), **card.model_dump(mode="json", by_alias=True)}
    data["quality"] = dataset_quality(loaded, dataset_id, opts.env())
    if as_json:
        emit_json(data)
        return
    import yaml

    click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip())


@datasets.command("verify")
@click.argument("dataset_id", required=False)
@click.option("--full", is_flag=True, help="Re-read every file (ignore the checksum cache).")
@pass_options
def datasets_verify(opts: Options, dataset_id: str | None, full: bool):
    """Re-check the sha256 of staged dataset copies; exit 1 naming every bad file."""
    from .operations import verify_datasets

    checks, hashed = verify_datasets(opts.config, opts.env(), dataset_id, full)
    bad = 0
    for check in checks:
        if not check.staged:
            click.echo(f"{check.dataset} {check.version}: not staged here (run `sandbox up`)")
            continue
        for problem in check.problems:
            click.echo(problem, err=True)
        bad += len(check.problems)
        if not check.problems:
            click.echo(f"{check.dataset} {check.version}: ok")
    click.echo(
        f"verify: {bad} problem(s); {hashed} file(s) read, the rest unchanged since last check"
    )
    if bad:
        raise SandboxError(f"{bad} staged file(s) missing or tampered")


@datasets.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["dcat-ap-donl"]),
    default="dcat-ap-donl",
    show_default=True,
    help="Catalog metadata standard.",
)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="File.")
@pass_options
def datasets_export(opts: Options, fmt: str, output: Path | None):
    """Export the catalog as JSON-LD (DCAT-AP-DONL, data.overheid.nl-style)."""
    from .config import load_config
    from .dcat import catalog_jsonld

    document = catalog_jsonld(load_config(opts.config, verify_checksums=False))
    write_output(json.dumps(document, indent=2, ensure_ascii=False) + "\n", output)


@datasets.command("access-log")
@click.option("--sandbox", help="Only this sandbox.")
@click.option("--user", help="Only this user.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_options
def datasets_access_log(opts: Options, sandbox: str | None, user: str | None, as_json: bool):
    """Every grant (and refusal) of a dataset to a person at server start."""
    from rich.table import Table

    from .operations import access_entries

    rows = [e.as_dict() for e in access_entries(opts.env(), sandbox, user)]
    if as_json:
        emit_json(rows)
        return
    table = Table("at", "user", "sandbox", "dataset", "version", "decision", "purpose", "trace")
    for r in rows:
        table.add_row(
            r["at"][:19],
            r["user"],
            r["sandbox"],
            r["dataset"],
            r["version"],
            r["decision"] + (f": {r['reason']}" if r["reason"] else ""),
            r["purpose"],
            r["trace_id"][:8],
        )
    console().print(table)


@cli.group()
def experiments():
    """The experiment registry: register, move through the lifecycle, import."""


def _registry(opts: Options):
    from .registry.db import open_registry_url

    return open_registry_url(opts.env().registry_url)


def _actor() -> str:
    import getpass

    return os.environ.get("SANDBOX_ACTOR") or getpass.getuser()


@experiments.command("register")
@click.option("--id", "experiment_id", default="", help="Identifier [default: next EXP-NNNN].")
@click.option("--title", required=True)
@click.option("--team", required=True)
@click.option("--sandbox", "sandbox_name", required=True)
@click.option("--owner", default=None, help="[default: you]")
@click.option("--purpose", required=True)
@click.option("--dataset", "datasets", multiple=True, help="A dataset used (repeatable).")
@click.option("--personal-data/--no-personal-data", default=False)
@click.option("--description", default="")
@click.option("--human-intervention", default="")
@click.option("--risks", default="")
@click.option("--proportionality", default="")
@click.option("--dpia-reference", default="")
@click.option("--json", "as_json", is_flag=True)
@pass_options
def experiments_register(
    opts: Options, experiment_id: str, owner: str | None, as_json: bool, **fields
):
    """Register an experiment (state: proposed)."""
    from datetime import UTC, datetime

    from .experiments import Experiment
    from .registry import store

    actor = _actor()
    record = Experiment(
        id=experiment_id,
        title=fields["title"],
        team=fields["team"],
        sandbox=fields["sandbox_name"],
        owner=owner or actor,
        purpose=fields["purpose"],
        registered_at=datetime.now(UTC),
        registered_by=actor,
        datasets=tuple(fields["datasets"]),
        personal_data=fields["personal_data"],
        description=fields["description"],
        human_intervention=fields["human_intervention"],
        risks=fields["risks"],
        proportionality=fields["proportionality"],
        dpia_reference=fields["dpia_reference"],
    )
    engine = _registry(opts)
    stored = store.register(engine, record)
    if as_json:
        emit_json(store.get(engine, stored.id).as_dict())
    else:
        click.echo(f"registered {stored.id} (proposed)")


@experiments.command("list")
@click.option("--sandbox", "sandbox_name")
@click.option("--team")
@click.option("--state")
@click.option("--json", "as_json", is_flag=True)
@pass_options
def experiments_list(opts: Options, sandbox_name, team, state, as_json: bool):
    """List experiments with their current state."""
    from rich.table import Table

    from .registry import store

    views = store.listing(_registry(opts), sandbox_name, team, state)
    if as_json:
        emit_json([v.as_dict() for v in views])
        return
    table = Table("id", "title", "team", "sandbox", "owner", "state", "registered")
    for v in views:
        e = v.experiment
        table.add_row(
            e.id, e.title, e.team, e.sandbox, e.owner, v.state, e.registered_at.date().isoformat()
        )
    console().print(table)


@experiments.command("show")
@click.argument("experiment_id")
@click.option("--json", "as_json", is_flag=True)
@pass_options
def experiments_show(opts: Options, experiment_id: str, as_json: bool):
    """One experiment with its full event log."""
    from .registry import store

    data = store.get(_registry(opts), experiment_id).as_dict()
    if as_json:
        emit_json(data)
        return
    import yaml

    click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip())


@experiments.command("transition")
@click.argument("experiment_id")
@click.option("--to", "to_state", required=True, help="The next lifecycle state.")
@click.option("--reason", default="")
@pass_options
def experiments_transition(opts: Options, experiment_id: str, to_state: str, reason: str):
    """Move an experiment to its next lifecycle state (an append-only event)."""
    from .registry import store

    event = store.transition(_registry(opts), experiment_id, to_state, _actor(), reason)
    click.echo(f"{experiment_id}: {event.from_state} -> {event.to_state}")


@experiments.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@pass_options
def experiments_import(opts: Options, file: Path):
    """Bulk import JSON Lines (PRODUCT.md section 6); all or nothing."""
    from .importer import import_file

    result = import_file(file, _registry(opts))
    click.echo(f"imported {result.experiments} experiment(s) and {result.events} transition(s)")


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "html"]),
    default="table",
    show_default=True,
)
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Registered on or after (UTC).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Registered before (UTC).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="File.")
@click.option("--lang", type=click.Choice(["en", "nl"]), default="en", show_default=True)
@pass_options
def report(opts: Options, fmt: str, since, until, output: Path | None, lang: str):
    """Which experiments reach production: conversion, funnel, lead time."""
    from .report_formats import manager_report

    text = manager_report(
        opts.env().registry_url,
        fmt,
        since.date() if since else None,
        until.date() if until else None,
        lang,
    )
    if fmt == "table" and output is None:
        out = console()
        for table in text:
            out.print(table)
        return
    if fmt == "table":
        from rich.console import Console

        with output.open("w", encoding="utf-8") as handle:  # type: ignore[union-attr]
            for table in text:
                Console(file=handle, width=120).print(table)
        return
    write_output(text, output)


@cli.group("export")
def export_group():
    """Publish registry contents in external standards."""


@export_group.command("algoritmeregister")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="File.")
@click.option("--provider", help="Who built the algorithm [default: the organisation].")
@pass_options
def export_algoritmeregister(opts: Options, output: Path | None, provider: str | None):
    """Experiments in production or retired, in the Algoritmeregister standard 1.0.0.

    What a record lacks for publication is listed per experiment on stderr."""
    from .algoritmeregister import export
    from .config import load_config
    from .registry import store

    views = store.listing(_registry(opts))
    result = export(views, load_config(opts.config, verify_checksums=False), provider)
    text = json.dumps(result.records, indent=2, ensure_ascii=False) + "\n"
    write_output(text, output, f"{len(result.records)} record(s)")
    from .operations import record_export

    record_export(
        opts.env(),
        _actor(),
        "algoritmeregister",
        {"records": [r["source_id"] for r in result.records], "file": str(output or "stdout")},
    )
    for experiment_id, problems in result.problems.items():
        for problem in problems:
            click.echo(f"{experiment_id}: {problem}", err=True)


@export_group.command("z2jh")
@click.argument("sandbox_name")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="File.")
@pass_options
def export_z2jh(opts: Options, sandbox_name: str, output: Path | None):
    """Helm values for Zero to JupyterHub (Kubernetes) from one sandbox."""
    import yaml

    from .operations import z2jh_values

    document = z2jh_values(opts.config, opts.env(), sandbox_name)
    text = "# " + document.pop("_note") + "\n" + yaml.safe_dump(document, sort_keys=False)
    write_output(text, output)


@cli.command()
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True)
@pass_options
def backup(opts: Options, output: Path):
    """Registry, hub databases, secrets and config in one 0600 archive."""
    from .backup import create

    env = opts.env()
    manifest = create(env.layout, env.registry_url, opts.config.parent, output)
    click.echo(
        f"backup: {output} (registry: {manifest['registry']}, "
        f"sandboxes: {', '.join(manifest['sandboxes']) or 'none'})"
    )


@cli.command()
@click.argument("archive", type=click.Path(path_type=Path, dir_okay=False))
@pass_options
def restore(opts: Options, archive: Path):
    """Restore a backup into an empty state directory (config under restored-config/)."""
    from .backup import restore as run_restore

    env = opts.env()
    manifest = run_restore(archive, env.layout, env.registry_url)
    click.echo(
        f"restored {archive} into {env.layout.root} "
        f"(sandboxes: {', '.join(manifest['sandboxes']) or 'none'}); "
        "run `sandbox audit verify`, then `sandbox up`"
    )


@cli.command()
@click.option(
    "--kind",
    type=click.Choice(["config", "datacard"]),
    default="config",
    show_default=True,
    help="sandbox.yaml or a data card.",
)
def schema(kind: str):
    """Print the JSON Schema of sandbox.yaml or of a data card (for editors)."""
    from .model import DataCard, SandboxConfig

    model = SandboxConfig if kind == "config" else DataCard
    document = model.model_json_schema(by_alias=True)
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    emit_json(document)


@cli.group()
def audit():
    """The hash-chained audit log."""


@audit.command("verify")
@pass_options
def audit_verify(opts: Options):
    """Recompute the chain; exit 1 naming the first bad entry."""
    from .operations import verify_audit

    check = verify_audit(opts.env())
    if not check.ok:
        raise SandboxError(f"audit chain broken at entry {check.first_bad}: {check.reason}")
    click.echo(f"audit: {check.entries} entries, chain intact")


@audit.command("list")
@click.option("--kind", help="Only entries of this kind (provision, grant, transition, ...).")
@pass_options
def audit_list(opts: Options, kind: str | None):
    """The audit entries as JSON."""
    from . import audit as audit_log
    from .registry.db import open_registry_url

    emit_json(audit_log.entries(open_registry_url(opts.env().registry_url), kind))


def main() -> None:
    cli(prog_name="sandbox")


if __name__ == "__main__":
    main()
