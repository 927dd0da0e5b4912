"""End to end: a notebook in alice's container registers an experiment through
the preinstalled client and moves it to exploring; the CLI sees it all."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import Deployment
from tests.hubclient import HubUser

pytestmark = pytest.mark.docker

CELLS = [
    "from sandbox_client import registry, RegistryError",
    "exp = registry.register(title='WOZ-model from a notebook', purpose='policy-research')\n"
    "exp.transition('approved', reason='team lead agreed')\n"
    "exp.transition('exploring', reason='first look at the data')\n"
    "exp.amend(risks='bias in old valuations', reason='first look')\n"
    "assert registry.get(exp.id).data['risks'] == 'bias in old valuations'",
    "try:\n"
    "    exp.transition('in_production')\n"
    "    refused = None\n"
    "except RegistryError as error:\n"
    "    refused = error\n"
    "assert refused is not None and refused.status == 409, refused",
]


def notebook() -> str:
    cells = [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": c}
        for c in CELLS
    ]
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
            "cells": cells,
        }
    )


def test_notebook_registers_and_moves_an_experiment(deployment: Deployment):
    user = HubUser(deployment.url, "alice", deployment.password("alice"))
    user.spawn()
    container = f"sandbox-{deployment.name}-alice"
    try:
        subprocess.run(
            ["docker", "exec", "-i", container, "sh", "-c", "cat > ~/register.ipynb"],
            input=notebook(),
            text=True,
            check=True,
        )
        run = subprocess.run(
            ["docker", "exec", container, "jupyter", "execute", "/home/jovyan/register.ipynb"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stdout + run.stderr
    finally:
        user.stop()
    listed = json.loads(deployment.sandbox("experiments", "list", "--json").stdout)
    [mine] = [e for e in listed if e["title"] == "WOZ-model from a notebook"]
    shown = json.loads(deployment.sandbox("experiments", "show", mine["id"], "--json").stdout)
    assert [e["to_state"] for e in shown["events"]] == [
        "proposed",
        "approved",
        "exploring",
        "exploring",  # the amendment
    ]
    assert shown["events"][-1]["changes"] == {"risks": {"from": "", "to": "bias in old valuations"}}
    assert shown["risks"] == "bias in old valuations"
    assert {e["actor"] for e in shown["events"]} == {"alice"}
    assert shown["owner"] == "alice" and shown["team"] == "belastingen"
    assert shown["sandbox"] == deployment.name
    assert shown["datasets"] == ["cbs-wijken-2024", "woz-2024"]
    versions = shown["dataset_versions"]
    assert versions["woz-2024"]["version"] == "2024.1"
    assert versions["woz-2024"]["files"]["woz-2024.csv"].startswith("sha256:8c53c5d0")
