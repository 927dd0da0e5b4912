"""The ``sandbox`` command: parse options, call the library, render results.

The root group ``cli`` and ``main`` live here; the commands live in one module
per noun (``provisioning``, ``datasets``, ``experiments``, ``reports``,
``maintenance``) and are added to ``cli`` below. What they share is in
``common``. Domain errors become a clean message and exit code in one place
(``SandboxGroup.invoke``); ``--debug`` shows the traceback instead.

Command modules import only click at the top, so ``sandbox --help`` stays fast.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from . import datasets, diagnostics, experiments, maintenance, outputs, provisioning, reports
from .common import Options, SandboxGroup

__all__ = ["cli", "main"]


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
    help="Where provisioned state lives [default: ./.state when it holds sandboxes "
    "(make demo's), else ~/.local/state/data-sandbox].",
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
    """Provision governed JupyterHub data sandboxes from YAML.

    The options above may also follow the command (`sandbox status -c x.yaml`)."""
    given = ctx.get_parameter_source("config") is not click.core.ParameterSource.DEFAULT
    ctx.obj = Options(config, state_dir, registry, debug, config_given=given)


for _module in (provisioning, datasets, experiments, outputs, reports, maintenance, diagnostics):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main() -> None:
    # state, databases, secrets and reports this CLI writes are private
    os.umask(0o077)
    cli(prog_name="sandbox")
