"""The output airlock behind the real hub, with alice's real container:
she requests from inside it (the module and the `sandbox-output` command),
the checks flag a small cell and pass its suppressed version, two stewards
release a safe table, and what she downloads is exactly what she asked for;
a tampered airlock copy is refused at release."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess

import pytest
import requests

from tests.conftest import Deployment
from tests.hubclient import HubUser

pytestmark = pytest.mark.docker

SCOPE = "access:services!service=registry"
UNSAFE = "wijk,klasse,aantal\\nA,<1945,12\\nA,>1945,3\\nB,<1945,40\\n"
SAFE = "wijk,klasse,aantal\\nA,<1945,12\\nA,>1945,15\\nB,<1945,40\\n"
SUPPRESSED = "wijk,klasse,aantal\\nA,<1945,12\\nA,>1945,\\nB,<1945,40\\n"  # UNSAFE, 3 blanked


def login(deployment: Deployment, name: str) -> HubUser:
    user = HubUser(deployment.url, name, deployment.password(name))
    assert user.login_status == 302, name
    return user


def token(user: HubUser) -> dict[str, str]:
    answer = user.api("POST", f"/users/{user.name}/tokens", json={"scopes": [SCOPE]})
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"token {answer.json()['token']}"}


def in_alices_server(deployment: Deployment, script: str) -> subprocess.CompletedProcess[str]:
    container = f"sandbox-{deployment.name}-alice"
    return subprocess.run(
        ["docker", "exec", container, "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
    )


def request_from_the_notebook(
    deployment: Deployment, name: str, content: str, command: str = "sandbox-output"
) -> str:
    """Write ``~/results/<name>`` and request it with ``command`` from inside
    that folder (the path is relative to it, as in a notebook there)."""
    written = in_alices_server(
        deployment,
        f"mkdir -p ~/results && printf '{content}' > ~/results/{name} && cd ~/results && "
        f"{command} request {name} --why 'table 3 of the report'",
    )
    assert written.returncode == 0, written.stderr
    match = re.match(r"(OUT-\d+): requested \((\w+) by the automatic checks\)", written.stdout)
    assert match, written.stdout
    return f"{match[1]} {match[2]}"


def review(request_id: str, steward: dict[str, str], api: str, **body: str) -> requests.Response:
    return requests.post(
        f"{api}/outputs/{request_id}/reviews",
        headers=steward,
        json={"decision": "approve", **body},
        timeout=30,
    )


@pytest.fixture(scope="module")
def alice(deployment: Deployment):
    user = login(deployment, "alice")
    user.spawn()
    yield user
    user.stop()


def test_the_airlock_from_request_to_download(deployment: Deployment, alice: HubUser):
    api = f"{deployment.url}/services/registry/api"
    pages = f"{deployment.url}/services/registry"

    module = "python -m sandbox_client.outputs"
    flagged, status = request_from_the_notebook(deployment, "crosstab.csv", UNSAFE, module).split()
    assert status == "fail"
    steward = login(deployment, "erin")
    erin = token(steward)
    detail = requests.get(f"{api}/outputs/{flagged}", headers=erin, timeout=30).json()
    assert detail["path"] == "results/crosstab.csv"  # read from the folder it was asked in
    [finding] = detail["checks"]["files"][0]["findings"]
    assert (finding["check"], finding["cells"]) == ("threshold", [["A", ">1945", "aantal"]])

    # the same crosstab with its cell of 3 suppressed passes, with a note for the reviewer
    blanked, status = request_from_the_notebook(deployment, "suppressed.csv", SUPPRESSED).split()
    assert status == "pass"
    detail = requests.get(f"{api}/outputs/{blanked}", headers=erin, timeout=30).json()
    [note] = detail["checks"]["files"][0]["findings"]
    assert (note["check"], note["status"]) == ("suppressed", "pass")
    assert note["cells"] == [["A", ">1945", "aantal"]]

    safe, status = request_from_the_notebook(deployment, "safe.csv", SAFE).split()
    assert status == "pass"
    requested = requests.get(f"{api}/outputs/{safe}", headers=erin, timeout=30).json()
    # changed in the home after the request: changes nothing in what is reviewed
    in_alices_server(deployment, "echo 'changed' > ~/results/safe.csv")

    bob = login(deployment, "bob")
    assert requests.get(f"{api}/outputs/{safe}", headers=token(bob), timeout=30).status_code == 403
    assert bob.session.get(f"{pages}/outputs/{safe}/files/safe.csv", timeout=30).status_code == 403

    # erin approves on the review page, as a browser would (form with its xsrf token)
    page = steward.session.get(f"{pages}/outputs/{safe}", timeout=30)
    assert page.status_code == 200 and "id='review'" in page.text
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text)[1]
    approved = steward.session.post(
        f"{pages}/outputs/{safe}",
        data={"_xsrf": xsrf, "decision": "approve", "reason": "counts of 10 and more"},
        timeout=30,
    )
    assert approved.status_code == 200, approved.text
    one = requests.get(f"{api}/outputs/{safe}", headers=erin, timeout=30).json()
    assert (one["state"], one["approvals"]) == ("checked", 1)  # tier 2: one is not enough
    again = review(safe, erin, api)
    assert again.status_code == 409 and "second steward" in again.json()["error"]

    frank = token(login(deployment, "frank"))
    released = review(safe, frank, api)
    assert released.json()["state"] == "released", released.text

    download = alice.session.get(f"{pages}/outputs/{safe}/files/safe.csv", timeout=30)
    assert download.status_code == 200
    digest = hashlib.sha256(download.content).hexdigest()
    assert digest == requested["files"][0]["sha256"]
    assert download.content == SAFE.replace("\\n", "\n").encode()
    kinds = [
        e["kind"]
        for e in requests.get(f"{api}/outputs/{safe}", headers=erin, timeout=30).json()["events"]
    ]
    assert kinds == ["approve", "approve", "release", "download"]
    verified = deployment.sandbox("audit", "verify")
    assert "chain intact" in verified.stdout


def test_the_notebooks_suppressed_table_passes(deployment: Deployment, alice: HubUser):
    """outputs.table(suppress=True) in alice's container: the cells under the
    threshold are blank, and the airlock passes the table with its evidence."""
    script = (
        "import pandas as pd; from sandbox_client import outputs; "
        "rows = [('A', 'old')] * 12 + [('A', 'new')] * 3 + [('B', 'old')] * 40; "
        "frame = pd.DataFrame(rows, columns=['wijk', 'klasse']); "
        "outputs.table(frame, 'wijk', 'klasse', path='made.csv', suppress=True); "
        "answer = outputs.request('made.csv', 'table 4 of the report'); "
        "print(answer['id'], answer['checks']['status'])"
    )
    made = in_alices_server(
        deployment, f'mkdir -p ~/results && cd ~/results && python -c "{script}"'
    )
    assert made.returncode == 0, made.stderr
    request_id, status = made.stdout.split()
    assert status == "pass"
    erin = token(login(deployment, "erin"))
    detail = requests.get(
        f"{deployment.url}/services/registry/api/outputs/{request_id}", headers=erin, timeout=30
    ).json()
    table, evidence = detail["checks"]["files"]
    assert (table["path"], evidence["path"]) == ("made.csv", "made.csv.sdc.json")
    [note] = table["findings"]
    assert note["check"] == "suppressed"
    assert sorted(note["cells"]) == [["A", "new"], ["B", "new"]]


def test_a_tampered_airlock_copy_is_refused_at_release(deployment: Deployment, alice: HubUser):
    api = f"{deployment.url}/services/registry/api"
    rid, status = request_from_the_notebook(deployment, "tampered.csv", SAFE).split()
    assert status == "pass"
    erin, frank = token(login(deployment, "erin")), token(login(deployment, "frank"))
    assert review(rid, erin, api, reason="counts of 10 and more").json()["state"] == "checked"
    # between the two approvals, someone with the host's rights changes the copy
    copy = deployment.state / "sandboxes" / deployment.name / "airlock" / rid / "tampered.csv"
    copy.chmod(0o600)
    copy.write_text("wijk,klasse,aantal\nA,<1945,1\n")
    answer = review(rid, frank, api, reason="counts of 10 and more")
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "refused"
    [refusal] = [e for e in answer.json()["events"] if e["kind"] == "refuse"]
    assert "sha256 differs" in refusal["reason"]
    outbox = deployment.state / "sandboxes" / deployment.name / "outbox" / rid
    assert not outbox.exists()
    download = alice.session.get(
        f"{deployment.url}/services/registry/outputs/{rid}/files/tampered.csv", timeout=30
    )
    assert download.status_code == 404
    listed = deployment.sandbox("outputs", "list", "--state", "refused", "--json")
    assert [r["id"] for r in json.loads(listed.stdout)] == [rid]
    assert "chain intact" in deployment.sandbox("audit", "verify").stdout


def test_analysts_cannot_review_and_stewards_cannot_request(deployment: Deployment):
    erin = token(login(deployment, "erin"))
    api = f"{deployment.url}/services/registry/api"
    asked = requests.post(
        f"{api}/outputs", headers=erin, json={"path": "x.csv", "justification": "x"}, timeout=30
    )
    assert asked.status_code == 403
    listed = requests.get(f"{api}/outputs", headers=token(login(deployment, "dave")), timeout=30)
    assert listed.status_code == 200 and listed.json() == []  # alice's are not dave's


def test_the_other_doors_stay_shut_at_tier_2(deployment: Deployment, alice: HubUser):
    in_alices_server(deployment, "mkdir -p ~/results && echo 'a,b' > ~/results/raw.csv")
    server = f"{deployment.url}/user/alice"
    for route in (
        "files/results/raw.csv",
        "nbconvert/html/results/raw.csv",
        "view/results/raw.csv",
    ):
        answer = alice.session.get(f"{server}/{route}", timeout=30)
        assert answer.status_code == 403, route
        assert "airlock" in answer.text, route
    lab = alice.session.get(f"{server}/lab", timeout=30)
    assert lab.status_code == 200
    config = re.search(
        r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', lab.text, re.S
    )
    disabled = json.loads(config[1])["disabledExtensions"]
    assert "@jupyterlab/docmanager-extension:download" in disabled
    assert "@jupyterlab/filebrowser-extension:download" in disabled
    # what JupyterLab needs to open a file in its editor still works
    assert alice.session.get(f"{server}/api/contents/results/raw.csv", timeout=30).ok
