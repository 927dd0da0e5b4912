"""``sandbox outputs``: the output airlock, for stewards on the host."""

from __future__ import annotations

import json

import click

from .common import Options, current_actor, emit_json, open_registry, pass_options


@click.group()
def outputs():
    """The output airlock: requests, their checks, reviews and releases."""


def _airlock(opts: Options, sandbox: str):
    """The sandbox's airlock and roles as its last `up` wrote them."""
    from ..errors import InvalidInput
    from ..registry.outputs import Airlock

    path = opts.env().layout.hub_settings(sandbox)
    try:
        registry = json.loads(path.read_text(encoding="utf-8"))["registry"]
    except (OSError, ValueError, KeyError):
        raise InvalidInput(f"sandbox {sandbox} is not provisioned here ({path})") from None
    return Airlock.from_settings(registry["airlock"]), registry["roles"]


def _rows(views) -> list[tuple[str, ...]]:
    return [
        (
            v.request.id,
            v.request.sandbox,
            v.request.requester,
            v.state,
            f"{len(v.approvers)}/{v.approvals_needed}",
            v.request.checks.get("status", ""),
            v.request.path,
        )
        for v in views
    ]


def _aligned(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )


@outputs.command("list")
@click.option("--sandbox", "sandbox_name")
@click.option(
    "--state",
    help="Only requests in this state: requested, checked (waiting for reviews), approved,"
    " rejected, released or refused.",
)
@click.option("--json", "as_json", is_flag=True)
@pass_options
def outputs_list(opts: Options, sandbox_name: str | None, state: str | None, as_json: bool):
    """Output requests with their state, approvals and check result."""
    from ..registry import outputs as record

    views = record.listing(open_registry(opts), sandbox_name, state)
    if as_json:
        emit_json([v.as_dict() for v in views])
        return
    header = ("id", "sandbox", "requester", "state", "approvals", "checks", "path")
    click.echo(_aligned(header, _rows(views)))


@outputs.command("show")
@click.argument("request_id")
@click.option("--json", "as_json", is_flag=True)
@pass_options
def outputs_show(opts: Options, request_id: str, as_json: bool):
    """One request: its files, what the checks found, its reviews."""
    from ..registry import outputs as record

    data = record.get(open_registry(opts), request_id).as_dict()
    if as_json:
        emit_json(data)
        return
    import yaml

    click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip())


def _as_steward(opts: Options, request_id: str):
    """The registry, the request's airlock and SANDBOX_ACTOR, who must be a
    steward of the request's sandbox."""
    from ..errors import InvalidInput
    from ..registry import outputs as record

    engine = open_registry(opts)
    view = record.get(engine, request_id)
    lock, roles = _airlock(opts, view.request.sandbox)
    actor = current_actor()
    if "steward" not in roles.get(actor, []):
        raise InvalidInput(
            f"{actor} is not a steward of sandbox {view.request.sandbox} "
            "(set SANDBOX_ACTOR to the steward who reviews)"
        )
    return engine, lock, actor


def _review(opts: Options, request_id: str, decision: str, reason: str, override: bool) -> None:
    from ..registry import outputs as record

    engine, lock, actor = _as_steward(opts, request_id)
    view = record.review(engine, lock, request_id, actor, decision, reason, override)
    needed = view.approvals_needed
    click.echo(f"{request_id}: {view.state} ({len(view.approvers)}/{needed} approvals)")
    failure = record.release_failure(view)
    if failure is not None:
        raise record.ReleaseFailed(
            f"{request_id}: approved, but its release failed ({failure}); once the cause is"
            f" fixed, `sandbox outputs release {request_id}` releases it"
        )


@outputs.command("approve")
@click.argument("request_id")
@click.option(
    "--reason", required=True, help="Why it may leave; with --override, why despite the checks."
)
@click.option("--override", is_flag=True, help="Approve although the automatic checks failed.")
@pass_options
def outputs_approve(opts: Options, request_id: str, reason: str, override: bool):
    """Approve a request as the steward SANDBOX_ACTOR (or you); the last
    approval needed (two from tier 2) releases it to the outbox."""
    _review(opts, request_id, "approve", reason, override)


@outputs.command("reject")
@click.argument("request_id")
@click.option("--reason", required=True, help="Why; the requester sees it.")
@pass_options
def outputs_reject(opts: Options, request_id: str, reason: str):
    """Reject a request; one rejection ends it."""
    _review(opts, request_id, "reject", reason, False)


@outputs.command("release")
@click.argument("request_id")
@pass_options
def outputs_release(opts: Options, request_id: str):
    """Release again an approved request whose release failed (a full disk,
    a permission), as the steward SANDBOX_ACTOR (or you); the copy is checked
    against its sha256s first, as at every release."""
    from ..registry import outputs as record

    engine, lock, actor = _as_steward(opts, request_id)
    view = record.release(engine, lock, request_id, actor)
    click.echo(f"{request_id}: {view.state}")


@outputs.command("log")
@click.option("--json", "as_json", is_flag=True)
@pass_options
def outputs_log(opts: Options, as_json: bool):
    """Every request, review, release and download, oldest first."""
    from ..registry import outputs as record

    lines = record.log(open_registry(opts))
    if as_json:
        emit_json(lines)
        return
    header = ("at", "request", "actor", "kind", "detail")
    click.echo(_aligned(header, [tuple(str(line[k]) for k in header) for line in lines]))


COMMANDS = (outputs,)
