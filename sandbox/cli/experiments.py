"""``sandbox experiments``: the experiment registry and its lifecycle."""

from __future__ import annotations

from pathlib import Path

import click

from .common import Options, console, current_actor, emit_json, open_registry, pass_options


@click.group()
def experiments():
    """The experiment registry: register, move through the lifecycle, import."""


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

    from ..registry import store
    from ..registry.lifecycle import Experiment

    actor = current_actor()
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
    engine = open_registry(opts)
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

    from ..registry import store

    views = store.listing(open_registry(opts), sandbox_name, team, state)
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
    from ..registry import store

    data = store.get(open_registry(opts), experiment_id).as_dict()
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
    from ..registry import store

    event = store.transition(open_registry(opts), experiment_id, to_state, current_actor(), reason)
    click.echo(f"{experiment_id}: {event.from_state} -> {event.to_state}")


@experiments.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@pass_options
def experiments_import(opts: Options, file: Path):
    """Bulk import JSON Lines (PRODUCT.md section 6); all or nothing."""
    from ..registry.importer import import_file

    result = import_file(file, open_registry(opts))
    click.echo(f"imported {result.experiments} experiment(s) and {result.events} transition(s)")


COMMANDS = (experiments,)
