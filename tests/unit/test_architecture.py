"""The layout keeps its promises: no import cycles between the package's
modules, host helpers that import the standard library only, and
docs/architecture.md naming packages that exist."""

from __future__ import annotations

import ast
import functools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
PACKAGE = PROJECT / "sandbox"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, modules: set[str]) -> set[str]:
    """The package's modules that PATH imports anywhere (also inside functions)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


@functools.cache
def graph() -> dict[str, set[str]]:
    files = sorted(PACKAGE.rglob("*.py"))
    files = [f for f in files if "migrations" not in f.parts]
    modules = {module_name(f) for f in files}
    return {module_name(f): imports(f, modules) for f in files}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in edges.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def without_packages(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """A package's __init__ re-exporting its modules is not a cycle."""
    return {
        node: {o for o in others if not node.startswith(o + ".") and not o.startswith(node + ".")}
        for node, others in edges.items()
    }


def test_no_import_cycles():
    assert cycles(without_packages(graph())) == []


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


HEAVY = ("pydantic", "sqlalchemy", "click", "jupyterhub", "docker", "yaml", "requests")


HOST_MODULES = sorted(
    module_name(f) for f in (PACKAGE / "host").glob("*.py") if f.stem != "__init__"
)


# Each host module is imported in a child forked from one bare interpreter: the
# same fresh sys.modules as `python -c "import MODULE"`, without one interpreter
# start per module.
FORK_EACH_IMPORT = """
import json, os, sys
found = {}
for module in sys.argv[1:]:
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read)
        try:
            __import__(module)
            heavy = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)
            answer = {"heavy": ",".join(heavy)}
        except BaseException as exc:
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        os.write(write, json.dumps(answer).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        found[module] = json.loads(pipe.read() or '{"error": "the child said nothing"}')
    os.waitpid(child, 0)
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def host_imports() -> dict[str, dict[str, str]]:
    """What importing each host module alone loads: {module: {"heavy": "a,b"}}."""
    code = f"HEAVY = {HEAVY!r}\n{FORK_EACH_IMPORT}"
    done = subprocess.run(
        [sys.executable, "-c", code, *HOST_MODULES],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        check=True,
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize("module", HOST_MODULES)
def test_host_helpers_import_the_standard_library_only(
    module: str, host_imports: dict[str, dict[str, str]]
):
    """What Ansible runs on a target host must start fast and need no venv."""
    assert "error" not in host_imports[module], host_imports[module]
    assert host_imports[module]["heavy"] == ""
    # and within the package, host/ imports only host/ and the exception tree
    for other in graph()[module]:
        assert other.startswith("sandbox.host") or other == "sandbox.errors", other


def test_architecture_doc_names_only_what_exists():
    text = (PROJECT / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"`(sandbox(?:/[a-z_.]+)+/?)`", text))
    assert named, "docs/architecture.md names no packages"
    for path in named:
        assert (PROJECT / path.rstrip("/")).exists(), path
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    for package in packages:
        assert f"sandbox/{package}/" in text, f"docs/architecture.md does not describe {package}"


def test_the_model_offers_the_languages_the_texts_have():
    from typing import get_args

    from sandbox.config.model import Language
    from sandbox.texts import LANGUAGES

    assert get_args(Language) == LANGUAGES
