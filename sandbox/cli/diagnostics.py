"""``sandbox doctor``, ``sandbox logs`` and ``sandbox config show``: what an
IT person asks first when something does not work."""

from __future__ import annotations

import time

import click

from .common import Options, emit_json, pass_options


@click.command()
@click.option("--json", "as_json", is_flag=True)
@pass_options
def doctor(opts: Options, as_json: bool):
    """Check this machine: Docker, the proxy, disk space, the clock, the
    config, its hubs' ports and authenticator packages. Exit 1 on a failure."""
    from ..config.loader import load_config
    from ..errors import InvalidInput
    from ..provisioning import doctor as checks

    loaded, problem = None, ""
    try:
        loaded = load_config(opts.config)
    except InvalidInput as exc:
        problem = str(exc).splitlines()[0]
    results = checks.diagnose(opts.env(), loaded, problem)
    failed = [c for c in results if c.status == checks.FAIL]
    if as_json:
        emit_json({"ok": not failed, "checks": [c.as_dict() for c in results]})
    else:
        for check in results:
            click.echo(f"{check.status:<4}  {check.name:<16}  {check.detail}")
    if failed:
        raise click.exceptions.Exit(1)


@click.command()
@click.argument("sandbox_name", metavar="SANDBOX")
@click.option("-n", "--lines", default=100, show_default=True, help="How many of the last lines.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines (Ctrl-C stops).")
@click.option("--json", "as_json", is_flag=True)
@pass_options
def logs(opts: Options, sandbox_name: str, lines: int, follow: bool, as_json: bool):
    """The hub's log of SANDBOX (hub, proxy and its services)."""
    from ..errors import InvalidInput

    path = opts.env().layout.logfile(sandbox_name)
    if not path.is_file():
        raise InvalidInput(f"no log for sandbox {sandbox_name} in this state directory ({path})")
    with path.open(encoding="utf-8", errors="replace") as handle:
        tail = handle.readlines()[-lines:] if lines > 0 else []
        if as_json:
            emit_json(
                {"sandbox": sandbox_name, "log": str(path), "lines": [t.rstrip("\n") for t in tail]}
            )
            return
        click.echo("".join(tail), nl=False)
        while follow:
            line = handle.readline()
            if line:
                click.echo(line, nl=False)
            else:
                time.sleep(0.5)


@click.group("config")
def config_group():
    """The configuration as the CLI reads it."""


@config_group.command("show")
@click.argument("sandbox_name", metavar="[SANDBOX]", required=False)
@click.option("--json", "as_json", is_flag=True)
@pass_options
def config_show(opts: Options, sandbox_name: str | None, as_json: bool):
    """The effective configuration: every key with its default filled in (one
    sandbox, or all); secrets are never in it, only where their files are."""
    from ..config.loader import load_config
    from ..errors import InvalidInput

    loaded = load_config(opts.config)
    data = loaded.config.model_dump(mode="json")
    if sandbox_name:
        found = [s for s in data["sandboxes"] if s["name"] == sandbox_name]
        if not found:
            known = ", ".join(s["name"] for s in data["sandboxes"])
            raise InvalidInput(f"no sandbox {sandbox_name!r} in {opts.config} (there are: {known})")
        data = found[0]
    if as_json:
        emit_json(data)
        return
    import yaml

    click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip())


COMMANDS = (doctor, logs, config_group)
