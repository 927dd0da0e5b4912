"""Real Chromium driven by Playwright: the browser every e2e test shares
(Debian's chromium; Playwright cannot download browsers here)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest

from sandbox.host.names import LABEL_SANDBOX
from tests.conftest import require_chromium

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.call_failed = report.failed
    return report


@pytest.fixture
def browser(request):
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield chromium
        if getattr(request.node, "call_failed", False):
            show_open_pages(chromium, request.node.name)
            show_server_logs()
        chromium.close()


def show_open_pages(chromium, test: str) -> None:
    """A failed browser test says where each of its open pages was and what
    it showed (a screenshot beside), so a failure in CI can be read from its log."""
    for n, page in enumerate(p for c in chromium.contexts for p in c.pages):
        shot = Path(tempfile.gettempdir()) / f"failed-{test}-{n}.png"
        try:
            page.screenshot(path=str(shot), full_page=True, timeout=10_000)
            text = page.inner_text("body", timeout=10_000)
        except Exception as exc:  # the page may be gone or hung: say so and go on
            text = f"(could not read the page: {exc})"
        print(f"\n--- open page {n}: {page.url} (screenshot {shot})\n{text[:3000]}")


def show_server_logs(lines: int = 120) -> None:
    """The end of each running server's log (its kernels' errors are there)."""
    found = subprocess.run(
        ["docker", "ps", "--filter", f"label={LABEL_SANDBOX}", "--format", "{{.Names}}"],
        capture_output=True,
        text=True,
    )
    for name in found.stdout.split():
        log = subprocess.run(
            ["docker", "logs", "--tail", str(lines), name], capture_output=True, text=True
        )
        print(f"\n--- the end of {name}'s log\n{log.stdout}{log.stderr}")
