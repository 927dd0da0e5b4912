"""`make bench`: every figure beside its floor, measured in the same run.

Writes bench/results.json and prints a table. Targets (issue 7) are checked
here and reported, never asserted in tests. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from tests import unixhttp  # noqa: E402
from tests.database.test_report_registry import generate  # noqa: E402
from tests.hubclient import HubUser, login_password  # noqa: E402
from tests.kernelclient import KernelSession, outputs  # noqa: E402
from tests.swarmlab import SwarmLab, SwarmLabError  # noqa: E402

BIN = Path(sys.executable).parent
SANDBOX = str(BIN / "sandbox")
PORT = 18500
NAME = "bench"
SWARM_PORT = 18510
SWARM_NAME = "bench-swarm"
USERS = [f"user{i:02d}" for i in range(20)]
SPAWN_FIGURE = "20 users spawning at once: p95"
SWARM_FIGURE = "20 concurrent spawns across 2 nodes: p95"


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def run(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=env, capture_output=True, text=True, check=check)


def result(name, value, floor, unit, target, ok, note=""):
    ratio = value / floor if floor else None
    return {
        "name": name,
        "value": round(value, 4),
        "floor": round(floor, 4) if floor else None,
        "ratio": round(ratio, 3) if ratio else None,
        "unit": unit,
        "target": target,
        "met": ok,
        "note": note,
    }


def bench_help() -> dict:
    python = statistics.median(timed(lambda: run(sys.executable, "-c", "pass")) for _ in range(7))
    helped = statistics.median(timed(lambda: run(SANDBOX, "--help")) for _ in range(7))
    return result(
        "sandbox --help", helped, python, "s", "<= 0.3 s", helped <= 0.3, "floor: python -c pass"
    )


def deploy(root: Path, users: int) -> dict:
    shutil.copytree(PROJECT / "config", root / "config")
    config = root / "config" / "sandbox.yaml"
    members = ", ".join(f"user{i:02d}" for i in range(users))
    text = config.read_text().replace("- name: demo", f"- name: {NAME}")
    text = text.replace("port: 8000", f"port: {PORT}")
    text = text.replace("members: [dave]", f"members: [dave, {members}]")
    text = text.replace("resources: {memory: 2G, cpus: 1.0}", "resources: {memory: 1G, cpus: 1.0}")
    config.write_text(text)
    env = {
        **os.environ,
        "SANDBOX_CONFIG": str(config),
        "SANDBOX_STATE_DIR": str(root / "state"),
    }
    run(SANDBOX, "up", "-q", env=env)
    return env


def password(env: dict, user: str, name: str = NAME) -> str:
    secrets = Path(env["SANDBOX_STATE_DIR"]) / "sandboxes" / name / "hub" / "secrets"
    return login_password(secrets, user)


def docker_floor(image: str, state: Path, server: str = "image") -> float:
    """`docker run` of the same image, hardened as the spawner does it (no
    network, read-only root, the socket folders mounted), until its server
    answers on its socket.

    server "image": the image's own command (jupyterhub-singleuser, which
    refuses to listen until it has reached a hub: it is pointed at the bench
    hub's API socket, unauthenticated version check only). server "lab": a
    plain `jupyter server` from the same image, for comparison."""
    from sandbox.host.layout import Layout
    from sandbox.hub.settings import CONTAINER_HUB_SOCKETS, CONTAINER_SERVER_SOCKETS, socket_url

    layout = Layout(state)
    folder = Path(tempfile.mkdtemp(prefix="floor-", dir=state))
    os.chown(folder, 1000, 1000)
    inside = CONTAINER_SERVER_SOCKETS / "jupyter.sock"
    prefix = "/user/floor/" if server == "image" else "/"
    if server == "image":
        settings = {
            "JUPYTERHUB_API_URL": socket_url(CONTAINER_HUB_SOCKETS / "hub.sock") + "/hub/api",
            "JUPYTERHUB_API_TOKEN": "floor-has-no-token",
            "JUPYTERHUB_USER": "floor",
            "JUPYTERHUB_CLIENT_ID": "jupyterhub-user-floor",
            "JUPYTERHUB_SERVICE_PREFIX": prefix,
            "JUPYTERHUB_SERVICE_URL": f"http://0.0.0.0:8888{prefix}",
            "JUPYTERHUB_BASE_URL": "/",
            "JUPYTERHUB_OAUTH_CALLBACK_URL": f"{prefix}oauth_callback",
        }
        command = [arg for key, value in settings.items() for arg in ("-e", f"{key}={value}")]
        command += [image, "sandbox-start", f"--ServerApp.sock={inside}"]
    else:
        command = [image, "jupyter", "server", f"--sock={inside}",
                   "--IdentityProvider.token=bench", "--no-browser"]  # fmt: skip
    hardening = [
        "--network", "none", "-u", "1000:1000", "--read-only", "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges",
        "--tmpfs", "/tmp", "--tmpfs", "/var/tmp", "--tmpfs", "/run",
        "-v", "sandbox-bench-floor-home:/home/jovyan",
        "-v", f"{folder}:{CONTAINER_SERVER_SOCKETS}",
        "-v", f"{layout.hub_sockets(NAME)}:{CONTAINER_HUB_SOCKETS}:ro",
    ]  # fmt: skip
    start = time.perf_counter()
    container = run("docker", "run", "-d", "--rm", *hardening, *command).stdout.strip()
    try:
        while time.perf_counter() - start < 120:
            try:
                if unixhttp.get(str(folder / "jupyter.sock"), f"{prefix}api", timeout=1) < 500:
                    return time.perf_counter() - start
            except OSError:
                pass
            time.sleep(0.05)
        logs = run("docker", "logs", container, check=False)
        raise RuntimeError(f"floor server never answered:\n{logs.stdout}{logs.stderr}"[-3000:])
    finally:
        run("docker", "rm", "-f", container, check=False)
        shutil.rmtree(folder, ignore_errors=True)


def spawn_all(clients: list[HubUser]) -> list[float | None]:
    """Every client starts its server at the same moment; seconds to ready
    each, None for a spawn that failed or was not ready in 240 s."""

    def spawn(client: HubUser) -> float | None:
        try:
            # like a browser's spawn page: one progress event stream per user
            return client.spawn(timeout=240)
        except AssertionError as failed:
            print(f"  {client.name}: {failed}", file=sys.stderr)
            return None

    with concurrent.futures.ThreadPoolExecutor(len(clients)) as pool:
        return list(pool.map(spawn, clients))


def stop_all(clients: list[HubUser]) -> None:
    with concurrent.futures.ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(lambda c: c.stop(timeout=120), clients))


def spread_of(times: list[float | None]) -> tuple[float, int, str]:
    """(p95, failures, a note with p50, max and failures) of spawn times."""
    done = sorted(t for t in times if t is not None)
    failures = len(times) - len(done)
    if not done:
        return float("nan"), failures, f"failures {failures}"
    p95 = done[max(0, round(0.95 * len(done)) - 1)]
    note = f"p50 {statistics.median(done):.2f} s, max {done[-1]:.2f} s, failures {failures}"
    return p95, failures, note


def bench_spawn(env: dict) -> list[dict]:
    url = f"http://127.0.0.1:{PORT}"
    image = json.loads(
        (Path(env["SANDBOX_STATE_DIR"]) / "sandboxes" / NAME / "applied.json").read_text()
    )["image"]
    state = Path(env["SANDBOX_STATE_DIR"])
    floors = [docker_floor(image, state) for _ in range(5)]
    lab = statistics.median(docker_floor(image, state, "lab") for _ in range(5))
    spawns = []
    for _ in range(5):
        user = HubUser(url, "alice", password(env, "alice"))
        spawns.append(user.spawn())
        user.stop()
    one = result(
        "spawn-to-ready, one user (median of 5)",
        statistics.median(spawns),
        statistics.median(floors),
        "s",
        "<= 1.3x floor",
        statistics.median(spawns) <= 1.3 * statistics.median(floors),
        "floor: docker run of the same image, hardened alike (its own command, "
        "jupyterhub-singleuser) until its server answers on its socket; a plain "
        f"`jupyter server` from it: {lab:.2f} s",
    )
    clients = [HubUser(url, u, password(env, u)) for u in USERS]
    times = spawn_all(clients)
    stop_all(clients)
    p95, failures, spread = spread_of(times)
    many = result(
        SPAWN_FIGURE,
        p95,
        None,
        "s",
        "p95 <= 25 s, 0 failures",
        failures == 0 and p95 <= 25,
        spread,
    )
    return [one, many]


def sandbox_cli(*args: str, env: dict) -> str:
    """`sandbox ARGS`; its stdout, or a RuntimeError with the end of its output."""
    done = run(SANDBOX, *args, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"sandbox {' '.join(args)} failed ({done.returncode}):\n"
            + (done.stdout + done.stderr)[-3000:]
        )
    return done.stdout


def swarm_config(root: Path) -> Path:
    """The scaffolded example as a swarm sandbox for the 20 bench users (one
    shared password), without egress, servers at 1G as in the single-node bench."""
    from sandbox.config.scaffold import scaffold

    scaffold(root / "swarm-config", port=SWARM_PORT)
    path = root / "swarm-config" / "sandbox.yaml"
    text = path.read_text()
    for old, new in {
        "spawner: docker": "spawner: swarm",
        "- name: first": f"- name: {SWARM_NAME}",
        "network: {egress: true}": "network: {egress: false}",
        "resources: {memory: 2G, cpus: 1.0}": "resources: {memory: 1G, cpus: 1.0}",
        "members: [analyst1]": f"members: [{', '.join(USERS)}]",
        "auth: {type: shared-password}": "auth: {type: shared-password}",  # one password for all
    }.items():
        if old not in text:
            raise RuntimeError(f"the scaffolded sandbox.yaml has no {old!r} any more")
        text = text.replace(old, new)
    path.write_text(text)
    return path


def notebook_image(config: Path, root: Path) -> str:
    """The image `up` would use, on the host engine (the lab copies it from there);
    built by a single-node `up` of the same config if it is not there yet."""
    env = {**os.environ, "SANDBOX_CONFIG": str(config)}
    env["SANDBOX_STATE_DIR"] = str(root / "swarm-plan-state")
    plan = json.loads(sandbox_cli("plan", "--json", env=env))
    (image,) = [c["name"] for c in plan["sandboxes"][0]["changes"] if c["kind"] == "image"]
    if run("docker", "image", "inspect", image, check=False).returncode:
        host_config = config.parent / "host.yaml"
        host_config.write_text(config.read_text().replace("spawner: swarm", "spawner: docker"))
        host = {**env, "SANDBOX_CONFIG": str(host_config)}
        try:
            sandbox_cli("up", "-q", env=host)
        finally:
            run(SANDBOX, "down", "--purge", "--yes", env=host, check=False)
    return image


def bench_swarm(root: Path) -> dict:
    """20 users spawning at once on a swarm sandbox whose hub runs on the
    manager of a 2-node lab (tests/swarmlab.py: one dockerd per network
    namespace on this machine), placed by swarm over both nodes."""
    config = swarm_config(root)
    image = notebook_image(config, root)
    lab = SwarmLab()
    try:
        began = time.perf_counter()
        lab.up(nodes=2, images=["sandbox-base:bookworm", image])
        waited = time.perf_counter() - began - lab.timings["up"]
        lab_up = f"lab up {lab.timings['up']:.0f} s" + (
            f" (after {waited:.0f} s waiting for another lab)" if waited >= 1 else ""
        )
        inventory = lab.inventory(root / "swarm-hosts.ini")
        env = {
            **os.environ,
            "SANDBOX_CONFIG": str(config),
            "SANDBOX_STATE_DIR": str(root / "swarm-state"),
            "DOCKER_HOST": lab.manager.host,
        }
        try:
            deployed = timed(lambda: sandbox_cli("up", "-q", "-i", str(inventory), env=env))
            return swarm_spawns(lab, env, f"{lab_up}, sandbox up -i {deployed:.0f} s")
        finally:
            keep_hub_log(env)
            swarm_down(env, inventory)
            keep_hub_log(env)  # if down left it, with the hub's shutdown
    finally:
        lab.down()


def swarm_down(env: dict, inventory: Path) -> None:
    """`sandbox down --purge`; once more if it failed, then the hub's supervisor
    stopped by hand: no hub may outlive the bench's temporary state folder."""
    from sandbox.host.layout import Layout

    for attempt in (1, 2):
        down = run(SANDBOX, "down", "--purge", "--yes", "-i", str(inventory), env=env, check=False)
        if down.returncode == 0:
            return
        failed = [line for line in down.stdout.splitlines() if "failed" in line.lower()]
        print(
            f"swarm bench: down failed (attempt {attempt}):\n"
            + "\n".join(failed + down.stderr.splitlines())[-3000:],
            file=sys.stderr,
        )
    pidfile = Layout(Path(env["SANDBOX_STATE_DIR"])).pidfile(SWARM_NAME)
    stop = [sys.executable, "-m", "sandbox.host.daemon", "stop", "--pidfile", str(pidfile)]
    stopped = run(*stop, check=False)
    print(f"swarm bench: hub supervisor: {stopped.stdout}{stopped.stderr}".strip(), file=sys.stderr)


def swarm_spawns(lab: SwarmLab, env: dict, setup: str) -> dict:
    from sandbox.host.names import container_name

    url = f"http://127.0.0.1:{SWARM_PORT}"
    clients = [HubUser(url, u, password(env, u, SWARM_NAME)) for u in USERS]
    times = spawn_all(clients)
    try:
        placed: dict[str, int] = {}
        for user in USERS:
            nodes = lab.docker_result(
                1, "service", "ps", container_name(SWARM_NAME, user),
                "--filter", "desired-state=running", "--format", "{{.Node}}",
            ).stdout.split()  # fmt: skip
            for node in nodes or ["none"]:
                placed[node] = placed.get(node, 0) + 1
    finally:
        stop_all(clients)
    p95, failures, spread = spread_of(times)
    per_node = ", ".join(f"{node} {count}" for node, count in sorted(placed.items()))
    return result(
        SWARM_FIGURE,
        p95,
        None,
        "s",
        "p95 <= 25 s, 0 failures",
        failures == 0 and p95 <= 25,
        f"{spread}; servers per node: {per_node}; both nodes share this machine's "
        f"{os.cpu_count()} CPUs; {setup}",
    )


def keep_hub_log(env: dict) -> None:
    """The hub's log outlives the bench's temporary folder (for failed spawns)."""
    from sandbox.host.layout import Layout

    log = Layout(Path(env["SANDBOX_STATE_DIR"])).logfile(SWARM_NAME)
    if log.exists():
        kept = Path(tempfile.gettempdir()) / "sandbox-bench-swarm-jupyterhub.log"
        shutil.copyfile(log, kept)
        print(f"swarm bench: the hub's log is kept at {kept}", file=sys.stderr)


def placed_beside(results: list[dict]) -> list[dict]:
    """The multi-node spawn figure right after the single-node one."""
    rest = [r for r in results if r["name"] != SWARM_FIGURE]
    names = [r["name"] for r in rest]
    at = names.index(SPAWN_FIGURE) + 1 if SPAWN_FIGURE in names else len(rest)
    return rest[:at] + [r for r in results if r["name"] == SWARM_FIGURE] + rest[at:]


def bench_kernel(env: dict, requests_per_round: int = 1000, rounds: int = 3) -> dict:
    """Execute requests of `1+1`, one after another, through the proxy (TCP on
    127.0.0.1, then the server's unix socket) beside the same kernel reached
    straight at the server's socket, in alternating rounds."""
    import asyncio

    from sandbox.host.layout import Layout

    user = HubUser(f"http://127.0.0.1:{PORT}", "alice", password(env, "alice"))
    user.spawn()
    try:
        token = user.api("POST", "/users/alice/tokens", json={}).json()["token"]
        socket = Layout(Path(env["SANDBOX_STATE_DIR"])).server_socket(NAME, "alice")
        proxied = KernelSession(f"http://127.0.0.1:{PORT}", "alice", token)
        direct = KernelSession("", "alice", token, socket=str(socket))

        async def rounds_of(session: KernelSession, kernel: str) -> float:
            async with session.client() as http:
                began = time.perf_counter()
                replies = await session.run(http, kernel, ["1+1"] * requests_per_round)
                took = time.perf_counter() - began
            assert outputs(replies[-1]) == "2"
            return took

        async def measure() -> tuple[list[float], list[float]]:
            async with proxied.client() as http:
                kernel = await proxied.start_kernel(http)
                await proxied.run(http, kernel, ["1+1"] * 20)  # warm up
            through, floor = [], []
            for _ in range(rounds):
                floor.append(await rounds_of(direct, kernel))
                through.append(await rounds_of(proxied, kernel))
            return through, floor

        through, floor = asyncio.run(measure())
    finally:
        user.stop()
    value, bottom = statistics.median(through), statistics.median(floor)
    return result(
        f"kernel round trips, {requests_per_round} execute_requests of 1+1",
        value,
        bottom,
        "s",
        "<= 1.5x floor",
        value <= 1.5 * bottom,
        "through the proxy and the server's socket; floor: the same kernel's websocket "
        f"straight at the server's socket ({1000 * value / requests_per_round:.2f} ms "
        f"vs {1000 * bottom / requests_per_round:.2f} ms each, median of {rounds} rounds)",
    )


def bench_up(env: dict, root: Path) -> dict:
    playbook = root / "empty.yml"
    playbook.write_text("- hosts: localhost\n  gather_facts: false\n  tasks: []\n")
    floor = statistics.median(
        timed(
            lambda: run(
                str(BIN / "ansible-playbook"),
                "-i",
                "localhost,",
                "-c",
                "local",
                "-e",
                f"ansible_python_interpreter={sys.executable}",
                str(playbook),
            )
        )
        for _ in range(3)
    )
    value = statistics.median(timed(lambda: run(SANDBOX, "up", "-q", env=env)) for _ in range(3))
    return result(
        "sandbox up, nothing to change",
        value,
        floor,
        "s",
        "<= 2x floor",
        value <= 2 * floor,
        "floor: an empty ansible-playbook run",
    )


def bench_verify(root: Path, size_mib: int) -> dict:
    from sandbox.config.loader import load_config
    from sandbox.config.scaffold import scaffold
    from sandbox.governance.catalog import staged_dataset
    from sandbox.host.hashing import sha256_file
    from sandbox.host.layout import Layout
    from sandbox.host.staging import stage

    config = root / "verify"
    scaffold(config)
    big = config / "datasets" / "example-public" / "big.bin"
    with big.open("wb") as handle:
        for _ in range(size_mib):
            handle.write(os.urandom(1024 * 1024))
    card = config / "datasets" / "example-public.yaml"
    card.write_text(
        card.read_text().replace(
            "files:\n", f"files:\n  - path: big.bin\n    sha256: {sha256_file(big)}\n"
        )
    )
    layout = Layout(root / "verify-state")
    loaded = load_config(config / "sandbox.yaml")
    staged = staged_dataset(loaded, "example-public", layout)
    stage(staged.source, staged.path, [{"path": p, "sha256": s} for p, s in staged.files])
    env = {
        **os.environ,
        "SANDBOX_CONFIG": str(config / "sandbox.yaml"),
        "SANDBOX_STATE_DIR": str(layout.root),
    }
    # verify reads both copies: the source files in the config folder and the staged copy
    files = [str(folder / p) for folder in (staged.source, staged.path) for p, _ in staged.files]
    floor = min(timed(lambda: run("sha256sum", *files)) for _ in range(3))
    value = min(
        timed(lambda: run(SANDBOX, "datasets", "verify", "--full", env=env)) for _ in range(3)
    )
    mib = size_mib
    return result(
        f"datasets verify --full, {mib} MiB (throughput)",
        mib / value,
        mib / floor,
        "MiB/s",
        ">= 0.8x sha256sum",
        (mib / value) >= 0.8 * (mib / floor),
        "floor: sha256sum of the same files (source and staged copy)",
    )


def many_events(experiments: int) -> tuple[list[dict], list[dict]]:
    """~10 events per experiment: approval, four exploring/validated rounds, an end."""
    records, _ = generate(experiments, seed=5)
    transitions = []
    for number, record in enumerate(records):
        steps = ["approved", "exploring"] + ["validated", "exploring"] * 3 + ["validated"]
        steps.append("in_production" if number % 3 else "stopped")
        base = record["registered_at"][:10]
        for index, state in enumerate(steps):
            day = f"{base}T{index:02d}:00:00+00:00"
            transitions.append(
                {
                    "type": "transition",
                    "experiment": record["id"],
                    "to": state,
                    "at": max(day, record["registered_at"]),
                    "actor": "carol",
                }
            )
    return records, transitions


def bench_registry(root: Path, experiments: int) -> list[dict]:
    records, transitions = many_events(experiments)
    data = root / "import.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in records + transitions) + "\n")
    database = root / "registry.sqlite"
    env = {
        **os.environ,
        "SANDBOX_REGISTRY_URL": f"sqlite:///{database}",
        "SANDBOX_STATE_DIR": str(root / "reg-state"),
    }
    events = len(records) + len(transitions)
    # generated history: names need not be in a configuration (--force)
    seconds = timed(lambda: run(SANDBOX, "experiments", "import", "--force", str(data), env=env))
    imported = result(
        f"import {events:,} records",
        events / seconds,
        None,
        "records/s",
        ">= 50,000 events/s",
        events / seconds >= 50_000,
        f"{len(records):,} experiments, {len(transitions):,} transitions",
    )
    value = min(
        timed(lambda: run(SANDBOX, "report", "--format", "json", env=env)) for _ in range(3)
    )
    floor = min(timed(lambda: sql_floor(database)) for _ in range(3))
    report = result(
        f"report --format json over {len(records):,} experiments",
        value,
        floor,
        "s",
        "<= 3x SQL floor and <= 2 s",
        value <= 3 * floor and value <= 2,
        "floor: the same aggregates by hand in SQL in sqlite3",
    )
    return [imported, report, bench_audit(env, database, len(records), len(transitions))]


def bench_audit(env: dict, database: Path, experiments: int, transitions: int) -> dict:
    """`audit verify` over the imported registry beside a floor: the same rows
    read with a plain SELECT and one sha256 over their text."""

    def floor() -> None:
        connection = sqlite3.connect(database)
        digest = hashlib.sha256()
        for table in ("experiments", "events", "access_log", "audit_log"):
            for row in connection.execute(f"SELECT * FROM {table}"):
                digest.update(str(row).encode())
        connection.close()

    value = min(timed(lambda: run(SANDBOX, "audit", "verify", env=env)) for _ in range(3))
    bottom = min(timed(floor) for _ in range(3))
    return result(
        f"audit verify over {experiments:,} experiments and {transitions:,} transitions",
        value,
        bottom,
        "s",
        "<= 2x floor",
        value <= 2 * bottom,
        "floor: the same rows by a plain SELECT and one sha256 over their text (sqlite3)",
    )


def sql_floor(database: Path) -> None:
    connection = sqlite3.connect(database)
    connection.execute(
        """
        WITH s AS (
          SELECT e.id, e.team, e.sandbox, e.registered_at,
                 MIN(CASE WHEN v.to_state = 'in_production' THEN v.at END) AS prod,
                 MIN(CASE WHEN v.to_state = 'stopped' THEN v.at END) AS stop
          FROM experiments e JOIN events v ON v.experiment = e.id GROUP BY e.id)
        SELECT team, COUNT(*), SUM(prod IS NOT NULL), SUM(prod IS NULL AND stop IS NOT NULL),
               AVG(julianday(prod) - julianday(registered_at))
        FROM s GROUP BY team
        """
    ).fetchall()
    connection.execute(
        "SELECT to_state, COUNT(DISTINCT experiment) FROM events GROUP BY to_state"
    ).fetchall()
    connection.close()


ONLY = ("help", "registry", "verify", "airlock", "deploy", "swarm")


def bench_airlock(root: Path, rows: int, rounds: int = 3) -> dict:
    """The airlock's checks of a table made from ``rows`` microdata rows (a
    10,000-cell table of sums with its evidence, as sandbox_client.outputs.table
    writes it, then checked as the registry service checks a request) beside
    the same pandas groupby sum alone."""
    import numpy as np
    import pandas as pd

    sys.path.insert(0, str(PROJECT / "images" / "notebook" / "sandbox_client"))
    from sandbox_client import outputs as client

    from sandbox.governance import disclosure

    chance = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "wijk": chance.integers(0, 100, rows).astype(str),
            "klasse": chance.integers(0, 100, rows).astype(str),
            "woz": chance.uniform(150_000, 450_000, rows),
        }
    )
    csv_path = root / "microdata.csv"
    frame.to_csv(csv_path, index=False)
    table = root / "table.csv"

    def checked() -> None:
        data = pd.read_csv(csv_path, dtype={"wijk": str, "klasse": str})
        client.table(data, "wijk", "klasse", "woz", "sum", str(table))
        evidence = Path(str(table) + disclosure.EVIDENCE_SUFFIX)
        disclosure.check_file(table, "table.csv", disclosure.Rules(), set(), evidence)

    def floor() -> None:
        data = pd.read_csv(csv_path, dtype={"wijk": str, "klasse": str})
        data.groupby(["wijk", "klasse"]).woz.sum().unstack("klasse").to_csv(root / "floor.csv")

    value = statistics.median(timed(checked) for _ in range(rounds))
    base = statistics.median(timed(floor) for _ in range(rounds))
    return result(
        f"airlock checks, {rows:,}-row CSV to a 10,000-cell table (median of {rounds})",
        value,
        base,
        "s",
        "<= 3x floor",
        value <= 3 * base,
        "the table and its evidence (counts, sums, top 2 per cell) made and checked; floor: "
        "read the same CSV, pandas groupby sum, write the table",
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes, no spawns")
    parser.add_argument(
        "--only",
        choices=ONLY,
        help="run just this group (at full size unless --quick); its figures replace the "
        "ones of the same name in bench/results.json, the others are kept",
    )
    args = parser.parse_args()
    if args.only in ("deploy", "swarm") and args.quick:
        parser.error(f"--quick runs no {args.only} benchmarks")
    if args.only == "swarm" and os.geteuid() != 0:
        parser.error("the swarm lab needs root (network namespaces, a dockerd per node)")

    def wanted(name: str) -> bool:
        return args.only is None or args.only == name

    results = [bench_help()] if wanted("help") else []
    unmeasured = False
    with tempfile.TemporaryDirectory(prefix="sandbox-bench-") as tmp:
        root = Path(tmp)
        if wanted("registry"):
            results += bench_registry(root, 5_000 if args.quick else 100_000)
        if wanted("verify"):
            results.append(bench_verify(root, 64 if args.quick else 1024))
        if wanted("airlock"):
            results.append(bench_airlock(root, 100_000 if args.quick else 1_000_000))
        if wanted("deploy") and not args.quick:
            env = deploy(root, users=20)
            try:
                results.append(bench_up(env, root))
                results += bench_spawn(env)
                results.append(bench_kernel(env))
            finally:
                run(SANDBOX, "down", "--purge", "--yes", env=env, check=False)
        if wanted("swarm") and not args.quick:
            if os.geteuid() != 0:
                print("swarm: not measured, the swarm lab needs root", file=sys.stderr)
                unmeasured = True
            else:
                try:
                    results.append(bench_swarm(root))
                except SwarmLabError as failed:
                    print(f"swarm: not measured, the lab failed: {failed}", file=sys.stderr)
                    unmeasured = True
    out = PROJECT / "bench" / "results.json"
    kept = []
    if args.only and out.exists():
        names = {r["name"] for r in results}
        kept = [r for r in json.loads(out.read_text())["results"] if r["name"] not in names]
    out.write_text(
        json.dumps(
            {
                "results": placed_beside(kept + results),
                "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            },
            indent=2,
        )
    )
    width = max((len(r["name"]) for r in results), default=len("benchmark"))
    print(f"{'benchmark':<{width}}  {'value':>12}  {'floor':>10}  {'ratio':>7}  target  met")
    for r in placed_beside(results):
        floor = f"{r['floor']:.3f}" if r["floor"] is not None else "-"
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
        print(
            f"{r['name']:<{width}}  {r['value']:>10.3f} {r['unit']:<5} {floor:>10}  "
            f"{ratio:>7}  {r['target']}  {'yes' if r['met'] else 'NO'}  {r['note']}"
        )
    print(f"wrote {out}")
    return 1 if unmeasured else 0


if __name__ == "__main__":
    sys.exit(main())
