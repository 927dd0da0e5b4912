"""The commands are thin (docs/architecture.md): sandbox/cli/ parses options,
calls the library's public functions and shows what they return. It never
reaches storage, Docker, Ansible or another process itself, and never a
private name of the library."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CLI = Path(__file__).resolve().parents[2] / "sandbox" / "cli"
# what only the library touches: the database, engines, processes and the network
FORBIDDEN = (
    "sqlalchemy",
    "sqlite3",
    "psycopg",
    "alembic",
    "docker",
    "ansible_runner",
    "subprocess",
    "socket",
    "urllib",
    "http",
    "jupyterhub",
    "sandbox.registry.tables",
    "sandbox.registry.migrations",
)


def imported(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every import, relative ones made absolute (sandbox.cli.X)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(["sandbox", "cli"][: 3 - node.level] + ([base] if base else []))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def private_uses(tree: ast.AST) -> list[tuple[int, str]]:
    """Private names taken from another module: imported, or read as an attribute."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("_")]
        elif isinstance(node, ast.Attribute):
            name = node.attr
            if name.startswith("_") and not name.startswith("__"):
                found.append((node.lineno, name))
    return found


@pytest.mark.parametrize("path", sorted(CLI.glob("*.py")), ids=lambda p: p.name)
def test_commands_reach_the_library_only_through_its_public_functions(path: Path):
    tree = ast.parse(path.read_text())
    reaching = [
        f"{path.name}:{line}: {module}"
        for line, module in imported(tree)
        if any(module == f or module.startswith(f + ".") for f in FORBIDDEN)
    ]
    assert not reaching, "the CLI reaches past the library:\n" + "\n".join(reaching)
    private = [f"{path.name}:{line}: {name}" for line, name in private_uses(tree)]
    assert not private, "the CLI uses private names:\n" + "\n".join(private)


def test_the_check_finds_what_it_forbids():
    tree = ast.parse(
        "from ..registry.tables import events\n"
        "import subprocess\n"
        "from ..registry import store\n"
        "store._write(1)\n"
    )
    modules = [m for _, m in imported(tree)]
    assert "sandbox.registry.tables.events" in modules and "subprocess" in modules
    assert "sandbox.registry.store" in modules
    assert private_uses(tree) == [(4, "_write")]
