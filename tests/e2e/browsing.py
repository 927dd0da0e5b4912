"""What the journeys do in a page: open one, log in; where screenshots go."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import Deployment

# `make screenshots` sets this to docs/
SCREENSHOTS = Path(os.environ.get("SANDBOX_SCREENSHOT_DIR", "/tmp"))


def open_page(browser, width: int = 1280, height: int = 900, timeout: int = 120_000):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(timeout)
    return page


def log_in(page, deployment: Deployment, user: str, next_url: str = "") -> None:
    suffix = f"?next={next_url}" if next_url else ""
    page.goto(f"{deployment.url}/hub/login{suffix}")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", deployment.password(user))
    page.click("#login_submit")
