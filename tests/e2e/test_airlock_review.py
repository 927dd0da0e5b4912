"""The output airlock in a real Chromium: alice runs a notebook (nbclient, in
her own server) that makes two tables from woz-2024 and requests them; the
check flags the one with a cell of 3; erin and frank approve the safe one on
the review page; alice downloads it from the service page."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Deployment
from tests.e2e.browsing import SCREENSHOTS, log_in, open_page
from tests.hubclient import HubUser

pytestmark = pytest.mark.browser

CELLS = [
    "import pandas as pd\n"
    "from sandbox_client import outputs\n"
    "woz = pd.read_csv('/data/woz-2024/woz-2024.csv')\n"
    "import os; os.makedirs('results', exist_ok=True)",
    # a cell of 3 rows: the threshold check flags it
    "noord, zuid = woz.iloc[:40].assign(buurt='Noord'), woz.iloc[40:43].assign(buurt='Zuid')\n"
    "small = pd.concat([noord, zuid])\n"
    "outputs.table(small, 'buurt', None, 'woz_waarde', 'sum', 'results/woz-small.csv')\n"
    "print(outputs.request('results/woz-small.csv', 'WOZ per buurt, first try')['id'])",
    # the same question, cells of 30 rows
    "safe = woz.iloc[:60].assign(buurt=['Noord', 'Zuid'] * 30)\n"
    "outputs.table(safe, 'buurt', None, None, 'count', 'results/woz-safe.csv')\n"
    "print(outputs.request('results/woz-safe.csv', 'counts per buurt for the council')['id'])",
]
NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": c}
        for c in CELLS
    ],
    "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}


def run_notebook(deployment: Deployment) -> list[str]:
    """Runs it in alice's server with nbclient; the request ids it printed."""
    container = f"sandbox-{deployment.name}-alice"
    notebook = json.dumps(NOTEBOOK).replace("'", "'\\''")
    script = (
        f"cd ~ && printf '%s' '{notebook}' > airlock.ipynb && "
        "jupyter nbconvert --to notebook --execute --inplace airlock.ipynb >/dev/null 2>&1 && "
        "python -c \"import json; nb = json.load(open('airlock.ipynb')); "
        "print(' '.join(''.join(o['text']).strip() for c in nb['cells'] for o in c['outputs'] "
        "if o.get('name') == 'stdout'))\""
    )
    ran = subprocess.run(
        ["docker", "exec", container, "sh", "-c", script], capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
    return ran.stdout.split()


def approve(browser, deployment: Deployment, steward: str, request_id: str, screenshot: str = ""):
    page = open_page(browser, height=1000)
    log_in(page, deployment, steward, "/services/registry/outputs")
    page.wait_for_url("**/services/registry/outputs**")
    page.click(f"#outputs tr[data-request='{request_id}'] a")
    page.wait_for_selector("#review")
    page.fill("#reason", f"{steward}: counts of 30, no small cells")
    if screenshot:
        page.screenshot(path=str(SCREENSHOTS / screenshot), full_page=True)
    page.click("#approve")
    page.wait_for_selector("#request")
    state = page.locator("#request").get_attribute("data-state")
    page.close()
    return state


def test_two_stewards_release_a_notebook_table_in_the_browser(deployment: Deployment, browser):
    alice = HubUser(deployment.url, "alice", deployment.password("alice"))
    alice.spawn(timeout=180)
    flagged, safe = run_notebook(deployment)

    page = open_page(browser, height=1000)
    log_in(page, deployment, "erin", f"/services/registry/outputs/{flagged}")
    page.wait_for_selector("#files")
    row = page.locator("#files tr[data-file='woz-small.csv']")
    assert row.get_attribute("data-status") == "fail"
    assert "threshold" in row.inner_text() and "Zuid" in row.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "steward-airlock-flagged.png"), full_page=True)
    page.close()

    assert approve(browser, deployment, "erin", safe, "steward-airlock.png") == "checked"
    assert approve(browser, deployment, "frank", safe) == "released"

    page = open_page(browser)
    log_in(page, deployment, "alice", f"/services/registry/outputs/{safe}")
    page.wait_for_selector("#files a.download")
    with page.expect_download() as download:
        page.click("#files a.download >> text=woz-safe.csv")
    content = Path(download.value.path()).read_bytes()
    page.close()
    shown = json.loads(deployment.sandbox("outputs", "show", safe, "--json").stdout)
    sha = next(f["sha256"] for f in shown["files"] if f["path"] == "woz-safe.csv")
    assert hashlib.sha256(content).hexdigest() == sha
    assert content.decode().splitlines()[1:] == ["Noord,30", "Zuid,30"]
