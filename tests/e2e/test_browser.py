"""Real Chromium driven by Playwright: the browser every e2e test shares.
The journeys themselves are in test_journeys.py and test_manager.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import Deployment, require_chromium

pytestmark = pytest.mark.browser

# `make screenshots` sets this to docs/
SCREENSHOTS = Path(os.environ.get("SANDBOX_SCREENSHOT_DIR", "/tmp"))

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


def open_page(browser, width: int = 1280, height: int = 900, timeout: int = 120_000):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(timeout)
    return page


def log_in(page, deployment: Deployment, user: str, next_url: str = "") -> None:
    suffix = f"?next={next_url}" if next_url else ""
    page.goto(f"{deployment.url}/hub/login{suffix}")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", deployment.secret("user_password"))
    page.click("#login_submit")
