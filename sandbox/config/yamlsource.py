"""Load YAML while remembering the line of every key and list item.

Validation errors then point at ``file:line`` even though pydantic only
knows the path of keys (``sandboxes[0].groups[1].name``). Problems YAML itself
hides are found here too: a key given twice (YAML keeps the last one
silently) and a date that does not exist (PyYAML raises ``ValueError``; here it
stays text, so the model can say what is wrong with it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError, Problem

Loc = tuple[str | int, ...]

_KEY_ON_LINE = re.compile(r"^\s*(?:-\s+)?([A-Za-z_][\w.-]*)\s*:")
# PyYAML's words for a syntax error, and what to do about it
_SYNTAX_HINTS = (
    (
        "mapping values are not allowed",
        "this line is indented deeper than the key above it (align it with the keys "
        "beside it), or a value contains ': ' (put it in quotes)",
    ),
    ("could not find expected ':'", "a line lacks its ':' or is indented differently"),
    ("expected <block end>", "this line is indented differently from the keys beside it"),
    ("did not find expected key", "this line is indented differently from the keys beside it"),
    ("did not find expected '-'", "this list item is indented differently from the ones above"),
    ("found character '\\t'", "YAML is indented with spaces, never tabs"),
    ("expected ',' or ']'", "the [ list ] opened here is not closed, or an item needs quotes"),
    ("expected ',' or '}'", "the { mapping } opened here is not closed, or a value needs quotes"),
    ("found unexpected end of stream", "a quote opened here is not closed"),
)
_OPENED_EARLIER = ("expected ',' or", "found unexpected end of stream")


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a date which does not exist stays text."""


class _FastLoader(getattr(yaml, "CSafeLoader", _Loader)):  # type: ignore[misc]
    """The same on libyaml (a tenth of the time) where PyYAML has it. Only for
    documents it reads without error: its error messages differ from PyYAML's,
    which ours add their hints to, so a document with an error is read again
    by ``_Loader``."""


def _timestamp_or_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)
_FastLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


@dataclass
class YamlDocument:
    path: Path
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    # the source text of unquoted scalars: "000…0" where YAML read the number 0
    plain: dict[Loc, str] = field(default_factory=dict)
    duplicates: list[Problem] = field(default_factory=list)

    def line_of(self, loc: Loc) -> int | None:
        """Line of the deepest known prefix of ``loc`` (1-based)."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return None

    def problem(self, loc: Loc, message: str, display: str | None = None) -> Problem:
        return Problem(str(self.path), self.line_of(loc), display or format_loc(loc), message)


def format_loc(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def load_yaml(path: Path, display_path: str | None = None) -> YamlDocument:
    shown = display_path or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(shown, None, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(shown, None, "", f"cannot read: {exc}")]) from None
    try:
        try:
            node, data = _compose_and_construct(text, _FastLoader)
        except Exception:  # read again for PyYAML's own error (and our hint to it)
            node, data = _compose_and_construct(text, _Loader)
    except yaml.MarkedYAMLError as exc:
        raise ConfigError([syntax_problem(shown, text, exc)]) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        message = f"character {exc.character!r} cannot appear in YAML: remove it"
        raise ConfigError([Problem(shown, line, "", message)]) from None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        message = "YAML error: " + " ".join(str(exc).split())
        raise ConfigError([Problem(shown, None, "", message)]) from None
    doc = YamlDocument(Path(shown), data)
    if node is not None:
        _index(node, (), doc)
    return doc


def _compose_and_construct(text: str, kind: type) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (for line numbers) and its data, parsed once."""
    loader = kind(text)
    try:
        node = loader.get_single_node()
        return node, None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()


def syntax_problem(shown: str, text: str, exc: yaml.MarkedYAMLError) -> Problem:
    """``file:line: key: YAML syntax error: <PyYAML's words>; <what to do>``."""
    reason = exc.problem or str(exc)
    hint = next((h for words, h in _SYNTAX_HINTS if words in reason), "")
    opened_earlier = any(words in reason for words in _OPENED_EARLIER)
    mark = (exc.context_mark if opened_earlier else None) or exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    lines = text.splitlines()
    key = ""
    if line is not None and line <= len(lines):
        found = _KEY_ON_LINE.match(lines[line - 1])
        key = found.group(1) if found else ""
    message = f"YAML syntax error: {reason}" + (f"; {hint}" if hint else "")
    return Problem(shown, line, key, message)


def _index(node: yaml.Node, loc: Loc, doc: YamlDocument) -> None:
    doc.lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            line = key_node.start_mark.line + 1
            if key in seen and key != "<<":
                doc.duplicates.append(
                    Problem(
                        str(doc.path),
                        line,
                        format_loc((*loc, key)),
                        f"duplicate key (also on line {seen[key]}); YAML would silently keep "
                        "only the last one: remove one of them",
                    )
                )
            seen.setdefault(key, line)
            doc.lines[(*loc, key)] = line
            _index(value_node, (*loc, key), doc)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            doc.lines[(*loc, index)] = item.start_mark.line + 1
            _index(item, (*loc, index), doc)
    elif isinstance(node, yaml.ScalarNode) and not node.style:  # plain: None, or "" (libyaml)
        doc.plain[loc] = node.value
