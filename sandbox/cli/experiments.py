"""``sandbox experiments``: the experiment registry and its lifecycle."""

from __future__ import annotations

from pathlib import Path

import click

from .common import Options, console, current_actor, emit_json, open_registry, pass_options


@click.group()
def experiments():
    """The experiment registry: register, move through the lifecycle, import."""


FORCE_HELP = (
    "Record sandbox, team, purpose and dataset names the configuration does not "
    "know (history from elsewhere)."
)


def known_names(opts: Options, force: bool):
    """What the configuration (-c, or the default when it is there) defines,
    to check names against; None with --force or without a configuration."""
    if force or not (opts.config_given or opts.config.is_file()):
        return None
    from dataclasses import replace

    from ..config.loader import load_config
    from ..registry.known_names import KnownNames

    loaded = load_config(opts.config, verify_checksums=False, require_files=False)
    hint = f"(names from {opts.config}; --force records them anyway, for history from elsewhere)"
    return replace(KnownNames.of_config(loaded), hint=hint)


# Filled in when not given: the next EXP-NNNN, and you.
REGISTER_DEFAULTS = {
    "id": "Identifier [default: next EXP-NNNN].",
    "owner": "Who answers for it [default: you].",
}


def record_options(command):
    """One option per experiment field the CLI gives (lifecycle.Experiment)."""
    from ..registry.lifecycle import CLI, experiment_fields, field_types

    types = field_types()
    for item, spec in reversed(experiment_fields(CLI)):
        flag = "--" + item.name.replace("_", "-")
        help_text = REGISTER_DEFAULTS.get(item.name, spec.help[:1].upper() + spec.help[1:] + ".")
        kind = types[item.name]
        if kind is bool:
            option = click.option(
                f"{flag}/--no-{flag[2:]}", item.name, default=False, help=help_text
            )
        elif kind == tuple[str, ...]:
            # repeatable: --dataset A --dataset B
            help_text = help_text.removesuffix(".") + " (repeatable)."
            option = click.option(flag.removesuffix("s"), item.name, multiple=True, help=help_text)
        else:
            required = spec.required and item.name not in REGISTER_DEFAULTS
            option = click.option(
                flag,
                item.name,
                required=required,
                default=None if required or spec.choices else "",
                type=click.Choice(spec.choices) if spec.choices else None,
                help=help_text,
            )
        command = option(command)
    return command


def amend_options(command):
    """One option per field an amendment may change (lifecycle.amendable_fields);
    a field whose option is not given keeps its value."""
    from ..registry.lifecycle import CLI, amendable_fields, experiment_fields, field_types

    types = field_types()
    specs = {item.name: spec for item, spec in experiment_fields(CLI)}
    for name in reversed(amendable_fields(CLI)):
        flag = "--" + name.replace("_", "-")
        help_text = "New value: " + specs[name].help + "."
        kind = types[name]
        if kind is bool:
            option = click.option(f"{flag}/--no-{flag[2:]}", name, default=None, help=help_text)
        elif kind == tuple[str, ...]:
            help_text = help_text.removesuffix(".") + " (repeatable; replaces the list)."
            option = click.option(flag.removesuffix("s"), name, multiple=True, help=help_text)
        else:
            option = click.option(flag, name, default=None, help=help_text)
        command = option(command)
    return command


@experiments.command("register")
@record_options
@click.option("--force", is_flag=True, help=FORCE_HELP)
@click.option("--json", "as_json", is_flag=True)
@pass_options
def experiments_register(opts: Options, force: bool, as_json: bool, **values):
    """Register an experiment (state: proposed). Its sandbox, team (a group of
    that sandbox), purpose and datasets must be in the configuration."""
    from datetime import UTC, datetime

    from ..registry import store
    from ..registry.lifecycle import CLI, new_experiment

    actor = current_actor()
    values = {name: "" if value is None else value for name, value in values.items()}
    values["owner"] = values["owner"] or actor
    record = new_experiment(values, CLI, registered_at=datetime.now(UTC), registered_by=actor)
    known = known_names(opts, force)
    if known is not None:
        known.check(record)
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
    from ..registry import store
    from ..reporting.tables import Grid, show

    views = store.listing(open_registry(opts), sandbox_name, team, state)
    if as_json:
        emit_json([v.as_dict() for v in views])
        return
    columns = ("id", "title", "team", "sandbox", "owner", "state", "registered")
    grid = Grid(columns, frozenset({"id", "team", "sandbox", "owner", "state", "registered"}))
    for v in views:
        e = v.experiment
        grid.add_row(
            e.id, e.title, e.team, e.sandbox, e.owner, v.state, e.registered_at.date().isoformat()
        )
    show([grid], console())


@experiments.command("show")
@click.argument("experiment_id")
@click.option("--json", "as_json", is_flag=True)
@pass_options
def experiments_show(opts: Options, experiment_id: str, as_json: bool):
    """One experiment with its full event log."""
    from ..registry import outputs, store

    engine = open_registry(opts)
    data = store.get(engine, experiment_id).as_dict()
    data["outputs"] = outputs.of_experiment(engine, experiment_id)
    if as_json:
        emit_json(data)
        return
    import yaml

    click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip())


@experiments.command("transition")
@click.argument("experiment_id")
@click.option("--to", "to_state", required=True, help="The next lifecycle state.")
@click.option("--reason", default="", help="Why; required for approved, stopped and in_production.")
@pass_options
def experiments_transition(opts: Options, experiment_id: str, to_state: str, reason: str):
    """Move an experiment to its next lifecycle state (an append-only event)."""
    from ..registry import store

    event = store.transition(open_registry(opts), experiment_id, to_state, current_actor(), reason)
    click.echo(f"{experiment_id}: {event.from_state} -> {event.to_state}")


@experiments.command("amend")
@click.argument("experiment_id")
@amend_options
@click.option("--reason", default="", help="Why it is amended.")
@click.option("--force", is_flag=True, help=FORCE_HELP)
@click.option("--json", "as_json", is_flag=True)
@pass_options
def experiments_amend(
    opts: Options, experiment_id: str, reason: str, force: bool, as_json: bool, **values
):
    """Give some of an experiment's fields new values: an append-only
    amendment event (who, when, each field's old and new value). The record
    as registered stays; every read shows the latest values, `show` every
    amendment."""
    from ..registry import store

    given = {name: value for name, value in values.items() if value not in (None, ())}
    known = known_names(opts, force)
    engine = open_registry(opts)
    event = store.amend_experiment(
        engine,
        experiment_id,
        given,
        current_actor(),
        reason,
        allowed=None if known is None else known.check,
    )
    if as_json:
        emit_json(store.get(engine, experiment_id).as_dict())
        return
    changed = ", ".join(event.changes or {})
    click.echo(f"{experiment_id}: amended {changed} (event {event.seq})")


@experiments.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--force", is_flag=True, help=FORCE_HELP)
@pass_options
def experiments_import(opts: Options, file: Path, force: bool):
    """Bulk import JSON Lines (docs/registry.md, Import format): experiment, transition
    and amendment lines; all or nothing. The audit chain's head is witnessed
    afterwards (<state>/audit/heads.jsonl)."""
    from ..registry.importer import import_file

    result = import_file(file, open_registry(opts), known_names(opts, force))
    opts.env().witness_head("import")
    amended = f", {result.amendments} amendment(s)" if result.amendments else ""
    click.echo(
        f"imported {result.experiments} experiment(s) and {result.events} transition(s)" + amended
    )


COMMANDS = (experiments,)
