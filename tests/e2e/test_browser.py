"""Browser smoke test: log in, JupyterLab loads, the data folder shows the
user's datasets and nothing else. Real Chromium driven by Playwright."""

from __future__ import annotations

import pytest

from tests.conftest import Deployment, require_chromium

pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser():
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def test_analyst_logs_in_and_sees_her_datasets(deployment: Deployment, browser, tmp_path):
    page = browser.new_page()
    page.set_default_timeout(120_000)
    page.goto(f"{deployment.url}/hub/login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", deployment.secret("user_password"))
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url("**/user/alice/lab**")
    page.wait_for_selector(".jp-DirListing-content")
    page.goto(f"{deployment.url}/user/alice/lab/tree/data")
    page.wait_for_selector(
        ".jp-DirListing-item[title*='woz-2024'], .jp-DirListing-itemText >> text=woz-2024"
    )
    names = page.locator(".jp-DirListing-itemText").all_inner_texts()
    page.screenshot(path=str(tmp_path / "lab.png"))
    assert "woz-2024" in names
    assert "cbs-wijken-2024" in names
    assert "meldingen-openbare-ruimte-2024" not in names
    page.close()
