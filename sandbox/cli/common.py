"""What every command module of the ``sandbox`` CLI shares: the options object,
the error handling of the root group, and output helpers.

Only click is imported here: ``sandbox --help`` must stay fast, so everything
heavier is imported inside the function that needs it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click

from ..errors import InvalidInput, SandboxError


class CommandError(click.ClickException):
    """A ``SandboxError`` shown as one message, with its exit code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


class SandboxGroup(click.Group):
    """The root group: the one place where errors become ``CommandError``.

    A ``SandboxError`` says what is wrong in its own words; anything else is
    a bug or the machine (a disk, a permission) and is still one message,
    never a traceback, unless ``--debug`` asks for it."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_root_options(self, args))

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if ctx.obj is not None and getattr(ctx.obj, "debug", False):
                raise
            raise CommandError(*_message(exc)) from None


def hoist_root_options(group: click.Group, args: list[str]) -> list[str]:
    """``sandbox status -c x.yaml`` as ``sandbox -c x.yaml status``: the root's
    options (``-c``, ``--state-dir``, ``--registry``, ``--debug``) are also
    accepted after the command, wherever they stand before a ``--``."""
    takes_value: dict[str, bool] = {}
    for param in group.params:
        if isinstance(param, click.Option) and param.name not in ("help", "version"):
            for name in param.opts:
                takes_value[name] = not param.is_flag
    front: list[str] = []
    rest: list[str] = []
    index = 0
    command_seen = False
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest += args[index:]
            break
        name = arg.split("=", 1)[0] if arg.startswith("--") else arg
        if name in takes_value:
            has_inline = "=" in arg and arg.startswith("--")
            count = 2 if takes_value[name] and not has_inline else 1
            (front if command_seen else rest).extend(args[index : index + count])
            index += count
            continue
        if not arg.startswith("-"):
            command_seen = True
        rest.append(arg)
        index += 1
    return front + rest


def _message(exc: Exception) -> tuple[str, int]:
    if isinstance(exc, SandboxError):
        return str(exc), exc.exit_code
    if isinstance(exc, OSError):
        if exc.strerror and exc.filename:
            return f"{exc.strerror}: {exc.filename}", 1
        return str(exc) or type(exc).__name__, 1
    return (
        f"unexpected {type(exc).__name__}: {exc} "
        "(run again with --debug for the traceback, and please report it)",
        1,
    )


# `make demo` keeps its state here (the Makefile's SANDBOX_STATE_DIR): the
# CLI run by hand from the project folder finds the demo without being told.
PROJECT_STATE_DIR = Path(".state")


@dataclass
class Options:
    config: Path
    state_dir: Path | None
    registry: str | None
    debug: bool
    config_given: bool = False  # by -c or SANDBOX_CONFIG, not the default

    @property
    def effective_state_dir(self) -> Path | None:
        """--state-dir or SANDBOX_STATE_DIR; else ./.state when it holds
        sandboxes; else None (the default under ~/.local/state)."""
        if self.state_dir is None and (PROJECT_STATE_DIR / "sandboxes").is_dir():
            return PROJECT_STATE_DIR.resolve()
        return self.state_dir

    def env(self, **overrides: Any):
        from ..provisioning.context import Context

        return Context.from_env(
            state_dir=self.effective_state_dir, registry=self.registry, **overrides
        )


pass_options = click.make_pass_decorator(Options)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


@contextmanager
def problems_as_json(enabled: bool) -> Iterator[None]:
    """With ``--json``, refused input is also JSON on stdout (``valid: false``
    and each problem's file, line, key and message); the exit code stays 2."""
    try:
        yield
    except InvalidInput as exc:
        if enabled:
            emit_json({"valid": False, "problems": [asdict(p) for p in exc.problems]})
        raise


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
