"""One exception tree for the whole library.

The CLI turns every ``SandboxError`` into a message on stderr and its
``exit_code``; nothing below the CLI prints or exits.
"""

from __future__ import annotations

from dataclasses import dataclass


class SandboxError(Exception):
    """Base of every error this package raises on purpose."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as we can."""

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class InvalidInput(SandboxError):
    """Bad config, bad file, bad arguments, or refused by policy (exit code 2)."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem(file="", line=None, key="", message=problems)]
        self.problems = problems
        super().__init__("\n".join(_render(p) for p in problems))


def _render(problem: Problem) -> str:
    return str(problem) if problem.file else problem.message


class ConfigError(InvalidInput):
    """The YAML configuration or a data card is invalid."""


class PolicyViolation(InvalidInput):
    """The configuration breaks a governance rule."""


class ProvisionError(SandboxError):
    """An Ansible step failed while provisioning."""

    def __init__(self, message: str, task: str | None = None, host: str | None = None):
        self.task = task
        self.host = host
        super().__init__(message)


class EngineUnavailable(SandboxError):
    """A component the sandbox needs (Docker, Node, ...) is missing here."""
