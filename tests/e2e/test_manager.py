"""The manager's view in Chromium: the dashboard's figures equal
`sandbox report --format json`; analysts get 403; the HTML report file renders
its charts with no network at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Deployment
from tests.database.test_report_registry import generate
from tests.e2e.browsing import SCREENSHOTS, log_in, open_page

pytestmark = pytest.mark.browser


def flatten(data: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


@pytest.fixture(scope="module")
def seeded(deployment: Deployment, tmp_path_factory) -> Deployment:
    experiments, transitions = generate(120, seed=11)
    for record in experiments:
        record["sandbox"] = deployment.name
    data = tmp_path_factory.mktemp("seed") / "seed.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in experiments + transitions) + "\n")
    # generated history names teams this deployment does not have
    deployment.sandbox("experiments", "import", "--force", str(data))
    return deployment


def login(browser, deployment: Deployment, user: str):
    page = open_page(browser, height=1000, timeout=60_000)
    log_in(page, deployment, user)
    page.wait_for_load_state()
    return page


def test_dashboard_shows_the_report_figures(seeded: Deployment, browser):
    page = login(browser, seeded, "carol")
    page.goto(f"{seeded.url}/services/registry/dashboard")
    page.wait_for_selector("[data-metric='overall.registered']")
    shown = {
        element.get_attribute("data-metric"): element.get_attribute("data-value")
        for element in page.locator("[data-metric]").all()
    }
    report = json.loads(seeded.sandbox("report", "--format", "json").stdout)
    expected = flatten({k: report[k] for k in ("overall", "by_team", "by_sandbox", "funnel")})
    for metric, value in expected.items():
        assert metric in shown, metric
        assert json.loads(shown[metric]) == value, metric
    assert page.locator("svg").count() >= 4
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)
    page.goto(f"{seeded.url}/services/registry/dashboard?team=belastingen")
    page.wait_for_selector("[data-metric='overall.registered']")
    team = json.loads(
        page.locator("[data-metric='overall.registered']").get_attribute("data-value")
    )
    assert team == report["by_team"]["belastingen"]["registered"]
    page.close()


def test_analysts_get_403_on_the_dashboard(seeded: Deployment, browser):
    page = login(browser, seeded, "alice")
    answer = page.goto(f"{seeded.url}/services/registry/dashboard")
    assert answer is not None and answer.status == 403
    page.close()


def test_html_report_renders_offline(seeded: Deployment, browser, tmp_path: Path):
    out = tmp_path / "report.html"
    seeded.sandbox("report", "--format", "html", "-o", str(out))
    context = browser.new_context(offline=True)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(out.as_uri())
    charts = page.locator("svg")
    assert charts.count() == 4
    for index in range(4):
        box = charts.nth(index).bounding_box()
        assert box and box["width"] > 100 and box["height"] > 50
    assert [u for u in requests if not u.startswith("file://")] == []
    context.close()
