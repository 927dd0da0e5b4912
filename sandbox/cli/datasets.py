"""``sandbox datasets``: the curated dataset catalog and who was given what."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import InvalidInput, SandboxError
from .common import Options, console, emit_json, pass_options, write_output
from .provisioning import inventory_option

if TYPE_CHECKING:
    from ..governance.integrity import CatalogVerification, FileProblem


@click.group()
def datasets():
    """The curated dataset catalog."""


@datasets.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_options
def datasets_list(opts: Options, as_json: bool):
    """List data cards with tier, owner and classification."""
    from ..config.loader import load_config
    from ..governance.policy import dataset_tier
    from ..reporting.tables import Grid, show

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
    columns = ("id", "title", "version", "tier", "owner", "access", "personal data")
    grid = Grid(columns, frozenset({"id", "version", "access", "personal data"}))
    for r in rows:
        grid.add_row(*r.values())
    show([grid], console())


@datasets.command("show")
@click.argument("dataset_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_options
def datasets_show(opts: Options, dataset_id: str, as_json: bool):
    """Show one data card with the quality of its data."""
    from ..config.loader import load_config
    from ..governance.policy import dataset_tier
    from ..provisioning.actions import dataset_quality

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


@datasets.command("hash")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def datasets_hash(files: tuple[Path, ...], as_json: bool):
    """The sha256 and size of each FILE, as a data card's files[].sha256 wants it."""
    from ..host.hashing import sha256_file

    for file in files:
        if not file.is_file():
            raise InvalidInput(f"{file}: file not found")
    found = [{"path": str(f), "sha256": sha256_file(f), "bytes": f.stat().st_size} for f in files]
    if as_json:
        emit_json(found)
        return
    for item in found:
        click.echo(f"{item['sha256']}  {item['bytes']:>12}  {item['path']}")


@datasets.command("add")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--id", "dataset_id", required=True, help="The dataset's id (like woz-2024).")
@pass_options
def datasets_add(opts: Options, files: tuple[Path, ...], dataset_id: str):
    """Copy FILES into datasets/ID/ and draft datasets/ID.yaml: sha256, size and
    a Table Schema measured (columns that look like personal data marked
    pii: true), every governance field a TODO that validate refuses until filled."""
    from ..config.loader import datasets_dir_of
    from ..governance.draft import add_dataset

    drafted = add_dataset(datasets_dir_of(opts.config), dataset_id, list(files))
    click.echo(f"copied {len(drafted.files)} file(s) to {drafted.data_dir}")
    for item in drafted.files:
        pii = _pii(item.table_schema)
        review = f"; review pii columns: {', '.join(pii)}" if pii else ""
        click.echo(f"  {item.path}: {item.size} bytes, sha256 {item.sha256[:12]}…{review}")
    click.echo(f"wrote {drafted.card}: fill in every TODO, then `sandbox validate`")


def _pii(table_schema: dict | None) -> list[str]:
    fields = (table_schema or {}).get("fields", [])
    return [str(f.get("name")) for f in fields if f.get("pii") is True]


@datasets.command("verify")
@click.argument("dataset_id", required=False)
@click.option("--full", is_flag=True, help="Re-read every file (ignore the checksum cache).")
@inventory_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_options
def datasets_verify(
    opts: Options, dataset_id: str | None, full: bool, inventory: Path | None, as_json: bool
):
    """Re-check every data card's source files (sha256, and the Table Schema
    where the card has one) and the staged copies on this machine (sha256);
    exit 1 naming every missing, changed or unreadable file.

    With -i, the staged copies are checked on every node of the inventory
    instead, each by the project's venv there (`sandbox up -i` makes it), and
    reported per node; a node that cannot be checked is a problem too."""
    from ..config.loader import load_config
    from ..governance.integrity import verify_catalog

    env = opts.env(inventory=inventory)
    loaded = load_config(opts.config, verify_checksums=False, require_files=False)
    result = verify_catalog(loaded, env.layout, dataset_id, full=full, staged_here=not inventory)
    if inventory is not None:
        from ..provisioning.actions import verify_nodes

        result.add_nodes(verify_nodes(loaded, env, dataset_id, full=full))
    problems = result.problems
    if as_json:
        report = {
            "datasets": [d.as_dict() for d in result.datasets],
            "ok": result.ok,
            "problems": [str(p) for p in problems] + result.node_errors,
            "warnings": [str(w) for w in result.warnings],
            "files_read": result.files_read,
            "schemas_checked": result.schemas_checked,
        }
        if result.nodes is not None:
            report["nodes"] = [n.as_dict() for n in result.nodes]
        emit_json(report)
    else:
        _show_verification(result)
    if not result.ok:
        said = []
        if problems:
            named = ", ".join(f"{p.location} ({_copy(p)}, {p.problem})" for p in problems)
            said.append(f"{len(problems)} bad file(s): {named}")
        if result.node_errors:
            errors = result.node_errors
            said.append(f"{len(errors)} node(s) not checked: {', '.join(errors)}")
        raise SandboxError("; ".join(said))


def _copy(problem: FileProblem) -> str:
    return f"{problem.copy} on {problem.node}" if problem.node else problem.copy


def _show_verification(result: CatalogVerification) -> None:
    from ..governance.integrity import tally
    from ..reporting.tables import Grid, show

    nodes = result.nodes is not None
    staged_column = "staged copies (per node)" if nodes else "staged copy"
    grid = Grid(
        ("dataset", "version", "source files", "schema", staged_column),
        frozenset({"dataset", "version"}),
    )
    for check in result.datasets:
        states = check.file_states()
        schema = tally([s["schema"] for s in states if s["schema"] != "none"]) or "none"
        if nodes:
            staged = _per_node(check.node_states())
        else:
            staged = tally([s["staged"] for s in states]) if check.staged else "not staged"
        if check.strict and check.schema_failures:
            schema += " (quality: strict)"
        grid.add_row(
            check.dataset, check.version, tally([s["source"] for s in states]), schema, staged
        )
    grids = [grid]
    if nodes:
        per_node = Grid(("node", "staged copies", "checked by"), frozenset({"node"}))
        for node in result.nodes or []:
            report = node.report
            by = f"data-sandbox {report.version} ({report.python})" if report else ""
            per_node.add_row(node.node, node.summary(), by)
        grids.append(per_node)
    show(grids, console())
    for problem in result.problems:
        click.echo(problem, err=True)
    for error in result.node_errors:
        click.echo(f"node {error}", err=True)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if not nodes and any(not check.staged for check in result.datasets):
        click.echo("not staged: no copy on this machine (`sandbox up` stages what is granted)")
    where = f" on {len(result.nodes or [])} node(s)" if nodes else ""
    click.echo(
        f"verify: {len(result.problems) + len(result.node_errors)} problem(s){where},"
        f" {len(result.warnings)} warning(s); {result.files_read} file(s) read,"
        f" {result.schemas_checked} checked against their schema, the rest unchanged since"
        " last check"
    )


def _per_node(states: dict[str, str]) -> str:
    """``ok on 2 nodes``, or each node's state: ``a: ok; b: 1 tampered``."""
    if not states:
        return "no node answered"
    values = set(states.values())
    if len(values) == 1:
        return f"{values.pop()} on {len(states)} node(s)"
    return "; ".join(f"{node}: {state}" for node, state in states.items())


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
    from ..config.loader import load_config
    from ..governance.dcat import catalog_jsonld

    document = catalog_jsonld(load_config(opts.config, verify_checksums=False))
    write_output(json.dumps(document, indent=2, ensure_ascii=False) + "\n", output)


@datasets.command("access-log")
@click.option("--sandbox", help="Only this sandbox.")
@click.option("--user", help="Only this user.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--format",
    "shape",
    type=click.Choice(["table", "logboek"]),
    default="table",
    show_default=True,
    help="logboek: one JSON line per decision in the Logboek Dataverwerkingen's shape.",
)
@pass_options
def datasets_access_log(
    opts: Options, sandbox: str | None, user: str | None, as_json: bool, shape: str
):
    """Every grant (and refusal) of a dataset to a person at server start."""
    from ..provisioning.actions import access_entries
    from ..reporting.tables import Grid, show

    entries = access_entries(opts.env(), sandbox, user)
    if shape == "logboek":
        import json

        from ..registry.logboek import record

        for entry in entries:
            click.echo(json.dumps(record(entry), sort_keys=True))
        return
    rows = [e.as_dict() for e in entries]
    if as_json:
        emit_json(rows)
        return
    columns = ("at", "user", "sandbox", "dataset", "version", "decision", "purpose", "trace")
    grid = Grid(columns, frozenset({"at", "user", "sandbox", "dataset", "version", "trace"}))
    for r in rows:
        grid.add_row(
            r["at"][:19],
            r["user"],
            r["sandbox"],
            r["dataset"],
            r["version"],
            r["decision"] + (f": {r['reason']}" if r["reason"] else ""),
            r["purpose"],
            r["trace_id"][:8],
        )
    show([grid], console())


@datasets.command("retention")
@click.option(
    "--apply", "apply_", is_flag=True, help="Destroy (or mark for transfer) what is past."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_options
def datasets_retention(opts: Options, apply_: bool, as_json: bool):
    """Staged versions past their card's retention period (from the card's
    issued date, else from staging), and files in team folders past the
    shortest destroy period of their group's datasets (from their last
    change). With --apply: destroy those whose action is destroy, mark for
    transfer the others; each recorded in the audit log."""
    from ..config.loader import load_config
    from ..provisioning.retention import apply_retention, past_retention
    from ..provisioning.team_retention import apply_team_retention, team_files_past
    from .common import current_actor

    env = opts.env()
    loaded = load_config(opts.config, verify_checksums=False)
    today = env.today()
    if apply_:
        done = apply_retention(loaded, env, today, current_actor())
        rows = [{**v.as_dict(), "done": what} for v, what in done]
        rows += apply_team_retention(loaded, env, today, current_actor())
    else:
        rows = [v.as_dict() for v in past_retention(loaded, env, today)]
        rows += [t.as_dict(today) for t in team_files_past(loaded, env, today)]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo(f"nothing is past its retention period on {today.isoformat()}")
    for row in rows:
        what = row.get("done") or f"{row['action']} (with --apply)"
        if row["kind"] == "team-folder":
            click.echo(
                f"{row['sandbox']} {row['folder']}: {len(row['files'])} file(s) older than "
                f"{row['period']} ({row['from']}): {what}"
            )
            continue
        used = f"; used by {', '.join(row['used_by'])}" if row["used_by"] else ""
        click.echo(
            f"{row['dataset']} {row['version']}: {row['period']} from {row['from']} "
            f"ended {row['until']}: {what}{used}"
        )


@datasets.command("prune")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_options
def datasets_prune(opts: Options, dry_run: bool, as_json: bool):
    """Remove staged versions no sandbox uses (none provisioned here, none
    configured); each removal recorded in the audit log."""
    from ..config.loader import load_config
    from ..provisioning.retention import prune, unused_versions
    from .common import current_actor

    env = opts.env()
    loaded = load_config(opts.config, verify_checksums=False)
    found = unused_versions(loaded, env) if dry_run else prune(loaded, env, current_actor())
    rows = [v.as_dict() for v in found]
    if as_json:
        emit_json(rows)
        return
    verb = "would remove" if dry_run else "removed"
    for row in rows:
        click.echo(f"{verb} {row['dataset']} {row['version']} ({row['path']})")
    if not rows:
        click.echo("no staged version is unused")


COMMANDS = (datasets,)
