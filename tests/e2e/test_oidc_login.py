"""OIDC logins in a real Chromium, against the hub behind oidc-provider-mock
that tests/integration/test_identity.py uses too (tests/identity_hubs.py):
eva (tax-analysts at the provider) opens the hub, signs in at the
provider's page, her server starts and JupyterLab's file browser shows
exactly her group's datasets under data/; olaf (in no bound group) is refused
and no server starts for him."""

from __future__ import annotations

import re
import subprocess
import time

import pytest
import requests

from tests.conftest import Deployment
from tests.e2e.browsing import open_page
from tests.identity_hubs import TAX, hub_groups

pytestmark = pytest.mark.browser

LOGIN_BUTTON = "a[role=button]:has-text('Sign in with')"
SERVER_START = 240_000  # ms; the first start of a session may build the image's layers
SERVER_STOP = 60_000


def sign_in_at_the_provider(page, hub: Deployment, provider: str, user: str):
    """From the hub's front page through the provider's authorize form, as
    a person does it; returns once the browser is back at the hub."""
    page.goto(hub.url)
    page.click(LOGIN_BUTTON)
    page.wait_for_url(lambda url: url.startswith(f"{provider}/oauth2/authorize"))
    page.wait_for_selector("h1:text-is('Authorize Client')")
    assert "data-sandbox" in page.inner_text("body")  # our client id
    page.fill("input[name=sub]", user)
    page.click("button[type=submit]:text-is('Authorize')")
    page.wait_for_url(lambda url: url.startswith(hub.url))


def test_a_mapped_user_signs_in_and_sees_her_groups_datasets(
    oidc_hub: Deployment, provider: str, browser
):
    page = open_page(browser)
    try:
        sign_in_at_the_provider(page, oidc_hub, provider, "eva")
        # no options form: the hub starts her server and sends her on to JupyterLab
        page.wait_for_url("**/user/eva/lab**", timeout=SERVER_START)
        assert hub_groups(oidc_hub, "eva") == ["belastingen"]
        listing = page.locator(".jp-FileBrowser .jp-DirListing-content")
        item(listing, "data").dblclick()
        page.wait_for_url("**/user/eva/lab/tree/data")
        page.wait_for_selector(".jp-FileBrowser .jp-BreadCrumbs-item[data-path='data']")
        item(listing, "woz-2024").wait_for()
        names = set(listing.locator(".jp-DirListing-itemText").all_inner_texts())
        assert names == TAX  # not meldingen-openbare-ruimte-2024: leefomgeving's

        page.goto(f"{oidc_hub.url}/hub/home")
        page.click("#stop")
        page.wait_for_selector("#stop", state="hidden", timeout=SERVER_STOP)
    finally:
        page.close()
        stop_server(oidc_hub, "eva")  # when the test failed before the button
    assert not container_exists(oidc_hub, "eva")


def test_a_user_in_no_bound_group_is_refused_in_the_browser(
    oidc_hub: Deployment, provider: str, browser
):
    page = open_page(browser)
    try:
        sign_in_at_the_provider(page, oidc_hub, provider, "olaf")
        page.wait_for_selector("h1:has-text('403')")
        text = page.inner_text("body")
        assert "not currently authorized to use this hub" in text
        page.goto(f"{oidc_hub.url}/user/olaf/lab")
        page.wait_for_url(lambda url: "/hub/login" in url)  # no session: sign in first
    finally:
        page.close()
    assert hub_api(oidc_hub, "GET", "/users/olaf").status_code == 404
    assert not container_exists(oidc_hub, "olaf")


def item(listing, name: str):
    """The file browser's entry ``name`` (exactly) in ``listing``."""
    text = re.compile(f"^{re.escape(name)}$")
    return listing.locator(".jp-DirListing-item").filter(
        has=listing.page.locator(".jp-DirListing-itemText", has_text=text)
    )


def container_exists(hub: Deployment, user: str) -> bool:
    found = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"name=^sandbox-{hub.name}-{user}$"],
        capture_output=True,
        text=True,
        check=True,
    )
    return bool(found.stdout.strip())


def hub_api(hub: Deployment, method: str, path: str) -> requests.Response:
    token = hub.secret("cli_token")
    return requests.request(
        method, f"{hub.url}/hub/api{path}", headers={"Authorization": f"token {token}"}, timeout=30
    )


def stop_server(hub: Deployment, user: str) -> None:
    hub_api(hub, "DELETE", f"/users/{user}/server")
    deadline = time.monotonic() + SERVER_STOP / 1000
    while hub_api(hub, "GET", f"/users/{user}").json().get("servers"):
        assert time.monotonic() < deadline, f"the server of {user} did not stop"
        time.sleep(0.3)
