"""Error messages of the config loader: every problem as ``file:line: key: message``."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from sandbox.config.loader import load_config
from sandbox.config.yamlsource import YamlDocument, format_loc, load_yaml
from sandbox.errors import ConfigError, Problem

CONTENT = b"id,value\n1,42\n"
SHA = hashlib.sha256(CONTENT).hexdigest()

SANDBOX_YAML = """\
# test organisation
organisation:
  name: Gemeente Test
  kind: government
sandboxes:
  - name: lab
    max_tier: 1
    expires: 2027-12-31
    network: {egress: false}
    groups:
      - name: team
        members: [alice]
        grants:
          - dataset: open-data
            purpose: research
datasets: datasets/
"""

CARD_YAML = f"""\
id: open-data
title: Open data
description: Synthetic test data.
version: "1.0"
owner: Afdeling Test
steward: steward@example.org
contact_point: data@example.org
license: CC-BY-4.0
access_rights: publiek
classification:
  rubricering: ongerubriceerd
  biv: {{beschikbaarheid: laag, integriteit: midden, vertrouwelijkheid: laag}}
personal_data:
  kind: none
purposes: [research]
retention: {{period: P5Y, action: destroy, basis: "Selectielijst 1.1"}}
files:
  - path: data.csv
    sha256: {SHA}
"""


def write(
    tmp_path: Path,
    sandbox_yaml: str = SANDBOX_YAML,
    card_yaml: str = CARD_YAML,
    files: dict[str, bytes] | None = None,
) -> Path:
    """config/sandbox.yaml, config/datasets/open-data.yaml and its files; returns sandbox.yaml."""
    config = tmp_path / "config"
    data_dir = config / "datasets" / "open-data"
    data_dir.mkdir(parents=True)
    (config / "sandbox.yaml").write_text(sandbox_yaml)
    (config / "datasets" / "open-data.yaml").write_text(card_yaml)
    for name, content in (files if files is not None else {"data.csv": CONTENT}).items():
        (data_dir / name).write_bytes(content)
    return config / "sandbox.yaml"


def card_file(config: Path) -> Path:
    return config.parent / "datasets" / "open-data.yaml"


def line_of(text: str, needle: str) -> int:
    hits = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(hits) == 1, f"{needle!r} occurs {len(hits)} times"
    return hits[0]


def problems_of(config: Path) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert caught.value.exit_code == 2
    assert caught.value.problems, "ConfigError without problems"
    return caught.value.problems


def only(problems: list[Problem], key: str) -> Problem:
    matching = [p for p in problems if p.key == key]
    assert len(matching) == 1, f"expected one problem for {key!r}, got {problems}"
    return matching[0]


def same_file(problem: Problem, path: Path) -> bool:
    return Path(problem.file).resolve() == path.resolve()


# ------------------------------------------------------------------------------ happy paths


def test_minimal_config_loads(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path))
    assert [s.name for s in loaded.config.sandboxes] == ["lab"]
    assert list(loaded.cards) == ["open-data"]


def test_demo_config_loads_without_problems(demo_copy: Path) -> None:
    loaded = load_config(demo_copy)
    assert set(loaded.cards) == {"woz-2024", "cbs-wijken-2024", "meldingen-openbare-ruimte-2024"}
    assert loaded.config.sandbox("demo").max_tier == 2


# ----------------------------------------------------------------------------- sandbox.yaml


def test_unknown_top_level_key(tmp_path: Path) -> None:
    text = SANDBOX_YAML.replace("datasets: datasets/\n", "datasets: datasets/\ncolour: blue\n")
    config = write(tmp_path, text)
    [problem] = problems_of(config)
    known = "unknown key (known here: organisation, sandboxes, datasets)"
    assert problem == Problem(str(config), line_of(text, "colour:"), "colour", known)


def test_unknown_nested_key(tmp_path: Path) -> None:
    text = SANDBOX_YAML.replace("    max_tier: 1\n", "    max_tierr: 1\n")
    config = write(tmp_path, text)
    [problem] = problems_of(config)
    assert problem.key == "sandboxes[0].max_tierr"
    assert problem.message == "unknown key; did you mean `max_tier`?"
    assert problem.line == line_of(text, "max_tierr:") == 7
    assert same_file(problem, config)


def test_unknown_key_deep_in_a_group(tmp_path: Path) -> None:
    text = SANDBOX_YAML.replace("        members: [alice]\n", "        membres: [alice]\n")
    config = write(tmp_path, text)
    problem = only(problems_of(config), "sandboxes[0].groups[0].membres")
    expected = (line_of(text, "membres:"), "unknown key; did you mean `members`?")
    assert (problem.line, problem.message) == expected


def test_str_is_file_line_key_message(tmp_path: Path) -> None:
    text = SANDBOX_YAML.replace("    max_tier: 1\n", "    max_tierr: 1\n")
    config = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert str(caught.value) == (
        f"{config}:7: sandboxes[0].max_tierr: unknown key; did you mean `max_tier`?"
    )


@pytest.mark.parametrize(
    ("old", "new", "key", "message"),
    [
        ("max_tier: 1", "max_tier: [1]", "sandboxes[0].max_tier", "valid integer"),
        ("max_tier: 1", "max_tier: 9", "sandboxes[0].max_tier", "less than or equal to 3"),
        ("egress: false", "egress: maybe", "sandboxes[0].network.egress", "valid boolean"),
        ("expires: 2027-12-31", "expires: soon", "sandboxes[0].expires", "use YYYY-MM-DD"),
        ("members: [alice]", "members: alice", "sandboxes[0].groups[0].members", "valid list"),
        ("kind: government", "kind: company", "organisation.kind", "'government' or 'other'"),
    ],
    ids=["int", "int-range", "bool", "date", "list", "literal"],
)
def test_wrong_type(tmp_path: Path, old: str, new: str, key: str, message: str) -> None:
    text = SANDBOX_YAML.replace(old, new)
    config = write(tmp_path, text)
    problem = only(problems_of(config), key)
    assert message in problem.message
    assert problem.line == line_of(text, new)
    assert same_file(problem, config)


def test_missing_required_key_points_at_its_parent(tmp_path: Path) -> None:
    text = SANDBOX_YAML.replace("  kind: government\n", "")
    config = write(tmp_path, text)
    [problem] = problems_of(config)
    assert problem.key == "organisation.kind"
    assert problem.message == "required key is missing"
    assert problem.line == line_of(text, "organisation:")


def test_missing_top_level_section(tmp_path: Path) -> None:
    text = SANDBOX_YAML.split("sandboxes:")[0] + "datasets: datasets/\n"
    config = write(tmp_path, text)
    problem = only(problems_of(config), "sandboxes")
    assert problem.message == "required key is missing"


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    text = SANDBOX_YAML.replace("  kind: government\n", "  kind: government\n    extra: 1\n")
    config = write(tmp_path, text)
    [problem] = problems_of(config)
    assert same_file(problem, config)
    assert problem.line == line_of(text, "extra: 1")
    assert problem.message.startswith("YAML syntax error: ")


def test_yaml_syntax_error_in_a_data_card(tmp_path: Path) -> None:
    text = CARD_YAML.replace("purposes: [research]", "purposes: [research")
    config = write(tmp_path, card_yaml=text)
    problems = problems_of(config)
    syntax = [p for p in problems if p.message.startswith("YAML syntax error")]
    assert len(syntax) == 1 and same_file(syntax[0], card_file(config))
    assert syntax[0].line is not None
    # the broken card's problem is told once: its grant is not "unknown" as well
    assert len(problems) == 1


def test_several_errors_reported_at_once(tmp_path: Path) -> None:
    text = (
        SANDBOX_YAML.replace("max_tier: 1", "max_tierr: 1")
        .replace("egress: false", "egress: maybe")
        .replace("  kind: government\n", "")
    )
    card = CARD_YAML.replace("access_rights: publiek", "access_rights: open")
    config = write(tmp_path, text, card, files={})
    problems = problems_of(config)
    assert {p.key for p in problems if same_file(p, config)} == {
        "organisation.kind",
        "sandboxes[0].max_tierr",
        "sandboxes[0].network.egress",
    }
    card_keys = {p.key for p in problems if same_file(p, card_file(config))}
    assert card_keys == {"access_rights"}
    rendered = str(ConfigError(problems))
    assert len(rendered.splitlines()) == len(problems) == 4


def test_grant_naming_unknown_dataset(tmp_path: Path) -> None:
    text = SANDBOX_YAML.replace("dataset: open-data", "dataset: closed-data")
    config = write(tmp_path, text)
    [problem] = problems_of(config)
    assert same_file(problem, config)
    assert problem.key == "sandboxes[0].groups[0].grants[0].dataset"
    assert problem.line == line_of(text, "dataset: closed-data")
    assert problem.message == "unknown dataset 'closed-data' (known: open-data)"


def test_missing_datasets_folder(tmp_path: Path) -> None:
    text = SANDBOX_YAML.replace("datasets: datasets/", "datasets: elsewhere/")
    config = write(tmp_path, text)
    problems = problems_of(config)
    folder = only(problems, "datasets")
    assert folder.message == "folder not found"
    assert Path(folder.file).resolve() == (config.parent / "elsewhere").resolve()


# ------------------------------------------------------------------------------- data cards


def test_card_id_must_match_file_name(tmp_path: Path) -> None:
    text = CARD_YAML.replace("id: open-data", "id: other-data")
    config = write(tmp_path, card_yaml=text)
    problem = only(problems_of(config), "id")
    assert same_file(problem, card_file(config))
    assert (problem.line, problem.message) == (1, "must match the file name 'open-data'")


def test_card_unknown_key_and_bad_period(tmp_path: Path) -> None:
    text = CARD_YAML.replace("title: Open data\n", "title: Open data\ntitel: Open\n").replace(
        "period: P5Y", "period: 5 years"
    )
    config = write(tmp_path, card_yaml=text)
    problems = problems_of(config)
    unknown = only(problems, "titel")
    expected = ("unknown key; did you mean `title`?", line_of(text, "titel:"))
    assert (unknown.message, unknown.line) == expected
    period = only(problems, "retention.period")
    assert "ISO-8601 period" in period.message
    assert period.line == line_of(text, "retention:")
    assert same_file(unknown, card_file(config)) and same_file(period, card_file(config))


def test_special_personal_data_needs_categories(tmp_path: Path) -> None:
    text = CARD_YAML.replace(
        "  kind: none\n", "  kind: special\n  identifiability: pseudonymised\n"
    )
    config = write(tmp_path, card_yaml=text)
    problem = only(problems_of(config), "personal_data")
    assert problem.message == "special data needs special_categories"
    assert problem.line == line_of(text, "personal_data:")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/etc/hosts", "must be relative to datasets/<id>/"),
        ("../open-data.yaml", "must not contain '..'"),
        ("sub/../data.csv", "must not contain '..'"),
        ("missing.csv", "file not found: "),
    ],
    ids=["absolute", "dotdot", "dotdot-inside", "missing"],
)
def test_unsafe_or_missing_file_path(tmp_path: Path, path: str, message: str) -> None:
    text = CARD_YAML.replace("path: data.csv", f"path: {path}")
    config = write(tmp_path, card_yaml=text)
    [problem] = problems_of(config)
    assert same_file(problem, card_file(config))
    assert problem.key == "files[0].path"
    assert problem.line == line_of(text, f"path: {path}")
    assert problem.message.startswith(message)


def test_symlink_resolving_outside_the_dataset_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_bytes(CONTENT)
    text = CARD_YAML.replace("path: data.csv", "path: link.csv")
    config = write(tmp_path, card_yaml=text)
    os.symlink(outside, config.parent / "datasets" / "open-data" / "link.csv")
    [problem] = problems_of(config)
    assert same_file(problem, card_file(config))
    assert problem.key == "files[0].path"
    assert problem.line == line_of(text, "path: link.csv")
    assert "resolves outside" in problem.message


def test_symlink_inside_the_dataset_folder_is_allowed(tmp_path: Path) -> None:
    text = CARD_YAML.replace("path: data.csv", "path: link.csv")
    config = write(tmp_path, card_yaml=text)
    os.symlink("data.csv", config.parent / "datasets" / "open-data" / "link.csv")
    assert "open-data" in load_config(config).cards


def test_checksum_mismatch(tmp_path: Path) -> None:
    wrong = "a" * 64
    text = CARD_YAML.replace(SHA, wrong)
    config = write(tmp_path, card_yaml=text)
    [problem] = problems_of(config)
    assert same_file(problem, card_file(config))
    assert problem.key == "files[0].sha256"
    assert problem.line == line_of(text, f"sha256: {wrong}")
    assert problem.message == f"checksum mismatch for data.csv: file has {SHA}"


def test_checksum_mismatch_ignored_when_not_verifying(tmp_path: Path) -> None:
    config = write(tmp_path, card_yaml=CARD_YAML.replace(SHA, "a" * 64))
    assert "open-data" in load_config(config, verify_checksums=False).cards


def test_malformed_checksum(tmp_path: Path) -> None:
    text = CARD_YAML.replace(SHA, "not-a-hash")
    config = write(tmp_path, card_yaml=text)
    problem = only(problems_of(config), "files[0].sha256")
    assert problem.line == line_of(text, "sha256: not-a-hash")
    assert "pattern" in problem.message


# ------------------------------------------------------------------------------- yamlsource

SMALL = """\
a: 1
b:
  c: [x, y]
  d:
    - e: 2
      f: 3
    - g
"""


@pytest.mark.parametrize(
    ("loc", "text"),
    [
        ((), ""),
        (("a",), "a"),
        (("b", "c", 1), "b.c[1]"),
        (("sandboxes", 0, "groups", 1, "name"), "sandboxes[0].groups[1].name"),
        ((0, "x"), "[0].x"),
    ],
)
def test_format_loc(loc: tuple[str | int, ...], text: str) -> None:
    assert format_loc(loc) == text


@pytest.fixture
def small(tmp_path: Path) -> YamlDocument:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    return load_yaml(path)


@pytest.mark.parametrize(
    ("loc", "line"),
    [
        ((), 1),
        (("a",), 1),
        (("b",), 2),
        (("b", "c"), 3),
        (("b", "c", 1), 3),
        (("b", "d"), 4),
        (("b", "d", 0), 5),
        (("b", "d", 0, "f"), 6),
        (("b", "d", 1), 7),
        # unknown tails fall back to the deepest known prefix
        (("b", "d", 0, "missing"), 5),
        (("b", "nope", 3), 2),
        (("zzz",), 1),
    ],
)
def test_line_of(small: YamlDocument, loc: tuple[str | int, ...], line: int) -> None:
    assert small.line_of(loc) == line


def test_yaml_document_problem(small: YamlDocument) -> None:
    problem = small.problem(("b", "d", 0, "f"), "bad value")
    assert problem == Problem(str(small.path), 6, "b.d[0].f", "bad value")
    assert str(problem).endswith("small.yaml:6: b.d[0].f: bad value")
    assert small.data == {"a": 1, "b": {"c": ["x", "y"], "d": [{"e": 2, "f": 3}, "g"]}}


def test_load_yaml_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_yaml(tmp_path / "nope.yaml")
    [problem] = caught.value.problems
    assert (problem.line, problem.message) == (None, "file not found")


# --------------------------------------------------------------- the fix said in words


@pytest.mark.parametrize(
    ("old", "new", "key", "message"),
    [
        (
            "expires: 2027-12-31",
            "expires: 2027-02-30",
            "sandboxes[0].expires",
            "2027-02-30 is not a date: February 2027 has 28 days; use YYYY-MM-DD",
        ),
        (
            "expires: 2027-12-31",
            "expires: 2024-13-45",
            "sandboxes[0].expires",
            "2024-13-45 is not a date: there is no month 13; use YYYY-MM-DD",
        ),
        (
            "expires: 2027-12-31",
            "expires: 30-06-2027",
            "sandboxes[0].expires",
            "use YYYY-MM-DD: write 30-06-2027 as 2027-06-30",
        ),
        (
            "expires: 2027-12-31",
            "expires: 2027-12-31 10:00:00",
            "sandboxes[0].expires",
            "2027-12-31 10:00:00 is a date and a time; give only the date as YYYY-MM-DD",
        ),
    ],
    ids=["february-30", "month-13", "day-first", "date-and-time"],
)
def test_dates_say_what_is_wrong(tmp_path: Path, old: str, new: str, key: str, message: str):
    text = SANDBOX_YAML.replace(old, new)
    config = write(tmp_path, text)
    [problem] = problems_of(config)
    assert (problem.key, problem.message, problem.line) == (key, message, line_of(text, new))


def test_an_impossible_date_in_a_data_card(tmp_path: Path) -> None:
    text = CARD_YAML.replace(
        "files:", "agreement: {reference: X-1, valid_until: 2027-06-31}\nfiles:"
    )
    config = write(tmp_path, card_yaml=text)
    [problem] = problems_of(config)
    assert same_file(problem, card_file(config))
    assert problem.key == "agreement.valid_until"
    assert problem.message == "2027-06-31 is not a date: June 2027 has 30 days; use YYYY-MM-DD"


def test_a_key_given_twice(tmp_path: Path) -> None:
    text = SANDBOX_YAML.replace("    max_tier: 1\n", "    max_tier: 1\n    max_tier: 0\n")
    config = write(tmp_path, text)
    [problem] = problems_of(config)
    assert problem.key == "sandboxes[0].max_tier"
    assert problem.line == line_of(text, "max_tier: 0")
    assert problem.message.startswith(
        f"duplicate key (also on line {line_of(text, 'max_tier: 1')})"
    )


def test_a_key_given_twice_in_a_data_card(tmp_path: Path) -> None:
    config = write(tmp_path, card_yaml=CARD_YAML + "license: MIT\n")
    [problem] = problems_of(config)
    assert same_file(problem, card_file(config)) and problem.key == "license"
    assert problem.message.startswith("duplicate key")


def test_a_checksum_yaml_reads_as_a_number(tmp_path: Path) -> None:
    zeros = "0" * 64
    text = CARD_YAML.replace(SHA, zeros)
    config = write(tmp_path, card_yaml=text)
    [problem] = problems_of(config)
    assert problem.key == "files[0].sha256" and problem.line == line_of(text, zeros)
    assert problem.message == (
        "expected text, but YAML reads 000000…0000 as the number 0; quote the checksum"
    )


def test_a_version_yaml_reads_as_a_number(tmp_path: Path) -> None:
    config = write(tmp_path, card_yaml=CARD_YAML.replace('version: "1.0"', "version: 1.0"))
    [problem] = problems_of(config)
    assert problem.key == "version"
    assert problem.message == 'expected text, but YAML reads 1.0 as the number 1.0; quote it: "1.0"'


@pytest.mark.parametrize(
    ("old", "new", "key", "hint"),
    [
        (
            "    max_tier: 1\n",
            "    max_tier: 1\n      spawner: docker\n",
            "spawner",
            "indented deeper",
        ),
        ("    max_tier: 1\n", "    max_tier: 1\n\tspawner: docker\n", "spawner", "never tabs"),
        ("members: [alice]", "members: [alice", "members", "is not closed"),
        (
            "  kind: government\n",
            "  kind: government\n kind: other\n",
            "kind",
            "indented differently",
        ),
    ],
    ids=["too-deep", "tab", "unclosed-list", "too-shallow"],
)
def test_yaml_syntax_errors_say_what_to_do(tmp_path: Path, old: str, new: str, key: str, hint: str):
    text = SANDBOX_YAML.replace(old, new)
    config = write(tmp_path, text)
    [problem] = problems_of(config)
    assert problem.key == key and problem.message.startswith("YAML syntax error: ")
    assert hint in problem.message
    assert problem.line == line_of(text, new.strip().splitlines()[-1].strip())


def test_a_card_that_fails_validation_is_not_also_an_unknown_dataset(tmp_path: Path) -> None:
    config = write(tmp_path, card_yaml=CARD_YAML.replace("access_rights: publiek", "access: x"))
    problems = problems_of(config)
    assert all(same_file(p, card_file(config)) for p in problems), problems
    assert not [p for p in problems if "unknown dataset" in p.message]
