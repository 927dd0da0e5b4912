"""Property-based fuzzing: the config loader and the import parser turn any
input into a result or a clean InvalidInput, never another exception."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.config.loader import load_config
from sandbox.errors import InvalidInput
from sandbox.registry.db import open_registry_url
from sandbox.registry.importer import parse, plan_import

PROJECT = Path(__file__).resolve().parents[2]
# examples per test: the profile's (150, or 20 for `make test-fast`; tests/conftest.py)
SETTINGS = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.dates().map(str),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
KEYS = [
    "organisation",
    "sandboxes",
    "datasets",
    "name",
    "kind",
    "groups",
    "grants",
    "hub",
    "port",
    "max_tier",
    "spawner",
    "network",
    "egress",
    "members",
    "dataset",
    "purpose",
]


def mutate(data, draw_value, path_keys):
    """Replace or add one value somewhere in a real config."""
    if isinstance(data, dict) and data:
        key = path_keys.pop(0) if path_keys else None
        if key in data and path_keys:
            data[key] = mutate(data[key], draw_value, path_keys)
        else:
            data[key if key is not None else next(iter(data))] = draw_value
    elif isinstance(data, list) and data:
        data[0] = mutate(data[0], draw_value, path_keys)
    return data


@SETTINGS
@given(value=values, keys=st.lists(st.sampled_from(KEYS), max_size=4))
def test_config_loader_gives_clean_errors(tmp_path_factory, value, keys):
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(PROJECT / "config", root / "config")
    path = root / "config" / "sandbox.yaml"
    data = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump(mutate(data, value, list(keys)), allow_unicode=True))
    try:
        load_config(path, verify_checksums=False)
    except InvalidInput as error:
        assert error.exit_code == 2 and str(error)


@SETTINGS
@given(text=st.text(max_size=300))
def test_config_loader_survives_any_text(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "sandbox.yaml"
    path.write_text(text)
    try:
        load_config(path)
    except InvalidInput as error:
        assert str(error)


record = st.fixed_dictionaries(
    {"type": st.sampled_from(["experiment", "transition", "other"])},
    optional={
        "id": st.text(max_size=8),
        "experiment": st.text(max_size=8),
        "to": st.text(max_size=12),
        "at": st.one_of(st.datetimes().map(lambda d: d.isoformat()), st.text(max_size=10)),
        "registered_at": st.datetimes().map(lambda d: d.isoformat() + "Z"),
        "title": scalars,
        "team": scalars,
        "sandbox": scalars,
        "owner": scalars,
        "purpose": scalars,
        "actor": scalars,
        "personal_data": scalars,
        "extra": scalars,
    },
)


@SETTINGS
@given(lines=st.lists(st.one_of(record.map(json.dumps), st.text(max_size=40)), max_size=8))
def test_import_parser_gives_clean_errors(tmp_path_factory, lines):
    root = tmp_path_factory.mktemp("fuzz")
    path = root / "in.jsonl"
    path.write_text("\n".join(lines))
    engine = open_registry_url(f"sqlite:///{root / 'r.sqlite'}")
    try:
        plan_import(path, parse(path), engine)
    except InvalidInput as error:
        assert str(error).startswith(str(path))
