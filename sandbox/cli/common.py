"""What every command module of the ``sandbox`` CLI shares: the options object,
the error handling of the root group, and output helpers.

Only click is imported here: ``sandbox --help`` must stay fast, so everything
heavier is imported inside the function that needs it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ..errors import SandboxError


class CommandError(click.ClickException):
    """A ``SandboxError`` shown as one message, with its exit code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


class SandboxGroup(click.Group):
    """The root group: the one place where domain errors become ``CommandError``."""

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
        from ..provisioning.context import Environment

        return Environment.from_env(state_dir=self.state_dir, registry=self.registry, **overrides)


pass_options = click.make_pass_decorator(Options)


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


def open_registry(opts: Options):
    """The experiment registry's database engine."""
    from ..registry.db import open_registry_url

    return open_registry_url(opts.env().registry_url)


def current_actor() -> str:
    """Who is acting, for the audit log and the registry's events."""
    import getpass

    return os.environ.get("SANDBOX_ACTOR") or getpass.getuser()
