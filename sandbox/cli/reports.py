"""Reports and exports of the registry: ``sandbox report`` and ``sandbox export``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..texts import LANGUAGES
from .common import Options, console, current_actor, open_registry, pass_options, write_output


@click.command()
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
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True)
@pass_options
def report(opts: Options, fmt: str, since, until, output: Path | None, lang: str):
    """Which experiments reach production: conversion, funnel, lead time."""
    from ..reporting.formats import manager_report

    text = manager_report(
        opts.env().registry_url,
        fmt,
        since.date() if since else None,
        until.date() if until else None,
        lang,
    )
    if fmt == "table":
        from ..reporting.tables import render, show

        if output is None:
            show(text, console())
        else:
            output.write_text("\n".join(render(grid, 120) for grid in text), encoding="utf-8")
        return
    write_output(text, output)


@click.group("export")
def export_group():
    """Publish registry contents in external standards."""


@export_group.command("algoritmeregister")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="File.")
@click.option("--provider", help="Who built the algorithm [default: the organisation].")
@pass_options
def export_algoritmeregister(opts: Options, output: Path | None, provider: str | None):
    """Experiments in production or retired, in the Algoritmeregister standard 1.0.

    Needs organisation.contact_email. What a record lacks for publication, and every
    default the export chose (publication_category), is listed per experiment on stderr."""
    from ..config.loader import load_config
    from ..registry import store
    from ..reporting.algoritmeregister import export

    views = store.listing(open_registry(opts))
    result = export(views, load_config(opts.config, verify_checksums=False), provider)
    text = json.dumps(result.records, indent=2, ensure_ascii=False) + "\n"
    write_output(text, output, f"{len(result.records)} record(s)")
    from ..provisioning.actions import record_export

    record_export(
        opts.env(),
        current_actor(),
        "algoritmeregister",
        {"records": [r["source_id"] for r in result.records], "file": str(output or "stdout")},
    )
    for experiment_id, notes in result.notes.items():
        for note in notes:
            click.echo(f"{experiment_id}: note: {note}", err=True)
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

    from ..provisioning.actions import z2jh_values

    document = z2jh_values(opts.config, opts.env(), sandbox_name)
    text = "# " + document.pop("_note") + "\n" + yaml.safe_dump(document, sort_keys=False)
    write_output(text, output)


COMMANDS = (report, export_group)
