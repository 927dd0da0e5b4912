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
    """Log in and wait until the browser has left the login page.

    Twice in about 40 runs of the airlock journey the proxy answered a login
    POST with its 503 page ("Your server appears to be down": it could not
    reach the hub's socket for that one request), which 1,000 scripted logins
    against a running hub never reproduced. A person would submit again; so
    does this, once, saying so, and fails if the second try fails too."""
    suffix = f"?next={next_url}" if next_url else ""
    for attempt in (1, 2):
        page.goto(f"{deployment.url}/hub/login{suffix}")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", deployment.password(user))
        with page.expect_navigation():
            page.click("#login_submit")
        if "/hub/login" not in page.url or not page.locator("text=503 : Service").count():
            return
        print(f"log_in: the proxy answered {user}'s login with 503 (try {attempt})")
    raise AssertionError(f"the proxy answered {user}'s login with 503 twice")
