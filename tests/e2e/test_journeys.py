"""The users' journeys in a real Chromium against the sandbox `sandbox up`
provisioned. Screenshots land in SANDBOX_SCREENSHOT_DIR (`make screenshots`
writes them into docs/)."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from tests.conftest import Deployment
from tests.e2e.browsing import SCREENSHOTS, log_in, open_page
from tests.hubclient import HubUser

pytestmark = pytest.mark.browser

TITLE = "WOZ-waarde per bouwjaar (journey)"

NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": [
                "import pandas as pd\n",
                "woz = pd.read_csv('/data/woz-2024/woz-2024.csv')\n",
                "print('rows', len(woz), 'median', int(woz.woz_waarde.median()))",
            ],
        },
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": [
                "from sandbox_client import registry\n",
                f"exp = registry.register(title={TITLE!r}, purpose='policy-research')\n",
                "print('registered', exp.id)",
            ],
        },
    ],
    "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}


def test_it_sees_name_tier_and_expiry_on_the_login_page(deployment: Deployment, browser):
    page = open_page(browser)
    page.goto(f"{deployment.url}/hub/login")
    banner = page.locator("#sandbox-banner")
    shown = {
        "name": banner.get_attribute("data-sandbox"),
        "tier": int(banner.get_attribute("data-tier") or -1),
        "expires": banner.get_attribute("data-expires"),
    }
    text = banner.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "login.png"))
    (status,) = json.loads(deployment.sandbox("status", "--json").stdout)["sandboxes"]
    assert shown == {"name": status["name"], "tier": status["tier"], "expires": status["expires"]}
    assert status["name"] in text and status["expires"] in text
    assert "tier 2: no internet, data stays here" in text
    assert page.locator("h1").inner_text() == "Sign in"
    assert page.locator("#sandbox-link-catalog").count() == 0  # links only once logged in
    page.close()


def wait_for_a_connected_kernel(page, server: str, xsrf: str, timeout: float = 120) -> None:
    """Until the server has an idle kernel that a page is connected to."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kernels = page.request.get(f"{server}/api/kernels", headers={"X-XSRFToken": xsrf})
        # jupyter_server answers 500 while a kernel it lists is still starting
        # (its last_activity not set yet): ask again
        if kernels.ok and any(
            k["connections"] and k["execution_state"] == "idle" for k in kernels.json()
        ):
            return
        time.sleep(0.25)
    raise AssertionError(f"no kernel connected within {timeout:.0f} s: {kernels.text()}")


def test_analyst_reads_the_card_runs_pandas_and_registers(deployment: Deployment, browser):
    page = open_page(browser)
    log_in(page, deployment, "alice")
    page.wait_for_url("**/user/alice/lab**")
    page.wait_for_selector(".jp-DirListing-content")

    # the data folder holds her datasets and nothing else
    page.goto(f"{deployment.url}/user/alice/lab/tree/data")
    page.wait_for_selector(".jp-DirListing-itemText >> text=woz-2024")
    names = page.locator(".jp-DirListing-itemText").all_inner_texts()
    assert {"woz-2024", "cbs-wijken-2024"} <= set(names)
    assert "meldingen-openbare-ruimte-2024" not in names

    # the data card beside the data
    page.goto(f"{deployment.url}/user/alice/lab/tree/data/woz-2024/DATACARD.md")
    editor = page.locator(".jp-FileEditor .cm-content").first
    editor.wait_for()
    page.wait_for_function(
        "() => document.querySelector('.jp-FileEditor .cm-content')?.innerText.includes('Legal')"
    )
    card = editor.inner_text()
    assert "woz-2024" in card
    page.screenshot(path=str(SCREENSHOTS / "analyst-datacard.png"))

    # a notebook that reads the granted dataset with pandas and registers an experiment
    xsrf = next(c["value"] for c in page.context.cookies() if c["name"] == "_xsrf")
    put = page.request.put(
        f"{deployment.url}/user/alice/api/contents/journey.ipynb",
        data=json.dumps({"type": "notebook", "format": "json", "content": NOTEBOOK}),
        headers={"X-XSRFToken": xsrf, "Content-Type": "application/json"},
    )
    assert put.ok, put.text()
    page.goto(f"{deployment.url}/user/alice/lab/tree/journey.ipynb")
    page.wait_for_selector(".jp-Notebook .jp-Cell")
    # the notebook shows "Idle" before its kernel is there; cells run before
    # the page is connected to the kernel are not run at all
    wait_for_a_connected_kernel(page, f"{deployment.url}/user/alice", xsrf)
    # run each cell as a person does (Shift+Enter runs it and moves on)
    page.click(".jp-Notebook .jp-Cell >> nth=0")
    page.keyboard.press("Shift+Enter")
    page.keyboard.press("Shift+Enter")
    output = page.locator(".jp-OutputArea-output", has_text="registered")
    output.wait_for()
    outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
    assert any(line.startswith("rows ") for line in outputs), outputs
    experiment_id = output.inner_text().split()[-1]
    page.screenshot(path=str(SCREENSHOTS / "analyst-notebook.png"))
    assert page.locator("text=Jupyter news").count() == 0  # nothing calls out (overrides.json)

    # ... and sees it on the registry page, with the dataset versions of this server
    page.goto(f"{deployment.url}/services/registry/")
    row = page.locator("#experiments tr", has_text=experiment_id)
    row.wait_for()
    assert TITLE in row.inner_text() and "belastingen" in row.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "analyst-registry.png"))
    shown = json.loads(deployment.sandbox("experiments", "show", experiment_id, "--json").stdout)
    assert set(shown["datasets"]) == {"woz-2024", "cbs-wijken-2024"}

    # a terminal works too: its websocket goes through the proxy to her socket
    page.goto(f"{deployment.url}/user/alice/lab")
    page.wait_for_selector(".jp-DirListing-content")
    page.locator(".lm-MenuBar-itemLabel", has_text="File").first.click()
    page.locator(".lm-Menu-itemLabel:text-is('New')").first.hover()
    page.locator(".lm-Menu-itemLabel:text-is('Terminal')").first.click()
    terminal = page.locator(".jp-Terminal")
    terminal.wait_for()
    terminal.click()
    page.keyboard.type("echo terminal-$((6*7)) > ~/terminal-proof.txt\n")
    proof = ["docker", "exec", f"sandbox-{deployment.name}-alice", "cat", "terminal-proof.txt"]
    for _ in range(100):
        done = subprocess.run(proof, capture_output=True, text=True)
        if done.returncode == 0 and done.stdout.strip():
            break
        page.wait_for_timeout(200)
    assert done.stdout.strip() == "terminal-42"
    page.close()


def test_steward_sees_cards_and_the_access_log(deployment: Deployment, browser):
    # alice's server start is what writes the grants the steward reviews
    alice = HubUser(deployment.url, "alice", deployment.password("alice"))
    alice.spawn(timeout=180)
    page = open_page(browser, height=1100)
    log_in(page, deployment, "erin", "/services/registry/catalog")
    page.wait_for_url("**/services/registry/catalog**")
    cards = page.locator("#catalog tr").all_inner_texts()
    for dataset in ("cbs-wijken-2024", "meldingen-openbare-ruimte-2024", "woz-2024"):
        assert any(dataset in row for row in cards), dataset
    grants = page.locator("#access-log tr[data-user='alice'][data-dataset='woz-2024']")
    assert grants.count() >= 1
    assert grants.first.get_attribute("data-decision") == "granted"
    logged = json.loads(deployment.sandbox("datasets", "access-log", "--json").stdout)
    assert any(e["user"] == "alice" and e["dataset"] == "woz-2024" for e in logged)
    page.screenshot(path=str(SCREENSHOTS / "steward-catalog.png"), full_page=True)
    page.close()


def test_the_analyst_does_not_see_the_access_log(deployment: Deployment, browser):
    page = open_page(browser)
    log_in(page, deployment, "bob", "/services/registry/catalog")
    page.wait_for_url("**/services/registry/catalog**")
    assert page.locator("#catalog tr").count() >= 4
    assert page.locator("#access-log").count() == 0
    page.close()
