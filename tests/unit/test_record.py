"""The experiment record is stated once (sandbox.registry.lifecycle.Experiment):
the table, the import line, the service's schema and the CLI agree with it."""

from __future__ import annotations

from dataclasses import fields

from sandbox.cli.experiments import experiments_amend, experiments_register
from sandbox.registry.coverage import SEQ
from sandbox.registry.importer import AmendmentLine, ExperimentLine
from sandbox.registry.lifecycle import (
    CLI,
    IMPORT,
    SERVICE,
    Experiment,
    amendable_fields,
    experiment_fields,
)
from sandbox.registry.service import openapi
from sandbox.registry.tables import experiments


def names(given_by: str | None = None) -> set[str]:
    return {item.name for item, _ in experiment_fields(given_by)}


def test_every_field_is_a_column_and_every_column_a_field():
    columns = {column.name for column in experiments.columns} - {SEQ}  # the chain's binding
    assert columns == {f.name for f in fields(Experiment)}


def test_each_channel_takes_exactly_the_fields_it_gives():
    assert set(ExperimentLine.__annotations__) == names(IMPORT) | {"type"}
    schemas = openapi.document("/")["components"]["schemas"]
    assert set(schemas["NewExperiment"]["properties"]) == names(SERVICE)
    assert set(schemas["Experiment"]["properties"]) == names() | {"state", "events"}
    options = {p.name for p in experiments_register.params} - {"as_json", "force"}
    assert options == names(CLI)


def test_an_amendment_may_change_what_describes_the_experiment_and_nothing_else():
    described = names(CLI) - {"id"}
    assert set(amendable_fields(CLI)) == set(amendable_fields(IMPORT)) == described
    assert set(amendable_fields(SERVICE)) == described & names(SERVICE)
    assert "sandbox" not in amendable_fields(SERVICE)  # the service's is the caller's
    options = {p.name for p in experiments_amend.params}
    assert options - {"experiment_id", "reason", "force", "as_json"} == described
    assert set(AmendmentLine.__annotations__["fields"].__annotations__) == described
    amendment = openapi.document("/")["components"]["schemas"]["NewAmendment"]
    assert set(amendment["properties"]["fields"]["properties"]) == set(amendable_fields(SERVICE))


def test_fields_without_a_default_are_required_in_an_import_line():
    required = {"type", "id", "title", "team", "sandbox", "owner", "purpose", "registered_at"}
    assert ExperimentLine.__required_keys__ == required


def test_every_field_says_what_it_is():
    assert all(spec.help for _, spec in experiment_fields())
