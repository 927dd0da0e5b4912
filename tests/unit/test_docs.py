"""The docs that are generated from the code are current, and every command
has help text and an entry in docs/cli.md."""

from __future__ import annotations

from pathlib import Path

from sandbox.devtools.docgen import cli_reference, commands, config_reference

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_generated_docs_are_current():
    hint = "run `python -m sandbox.devtools.docgen docs`"
    assert (DOCS / "cli.md").read_text() == cli_reference(), hint
    assert (DOCS / "configuration.md").read_text() == config_reference(), hint


def test_every_command_has_help_and_a_docs_entry():
    text = (DOCS / "cli.md").read_text()
    listed = commands()
    assert len(listed) >= 25
    for path, command in listed:
        assert (command.help or "").strip(), f"{path} has no help text"
        assert f"## `{path}`" in text, f"{path} is missing from docs/cli.md"


def test_every_picture_the_docs_show_exists():
    import re

    for page in DOCS.glob("*.md"):
        for picture in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page.read_text()):
            assert (DOCS / picture).is_file(), f"{page.name} shows {picture}: `make screenshots`"


def test_readme_and_docs_stand_on_their_own():
    """No pointer at a file outside the repository (a user's clone has none)."""
    pages = [DOCS.parent / "README.md", *sorted(DOCS.glob("*.md"))]
    found = [
        f"{page.name}:{n}: {line.strip()}"
        for page in pages
        for n, line in enumerate(page.read_text().splitlines(), 1)
        if "PRODUCT.md" in line or "../shared" in line or "](../" in line
    ]
    assert not found, "\n".join(found)
