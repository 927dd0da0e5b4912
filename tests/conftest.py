"""Shared fixtures. Integration and browser tests use real Docker, a real hub
and real Chromium; without them they skip locally with a loud reason, and
fail instead when SANDBOX_REQUIRE_DOCKER=1 (set by .ci/run)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
REQUIRED = os.environ.get("SANDBOX_REQUIRE_DOCKER") == "1"
SANDBOX_BIN = str(Path(sys.executable).parent / "sandbox")
IT_PORT = 18100
IT_SANDBOX = "itest"
# Drills stop the host's dockerd: opt-in, and run by `make test` in a pytest
# run of their own after every other test (.ci/run opts in).
DRILLS = os.environ.get("SANDBOX_RUN_DRILLS") == "1"

# the hubs behind identity providers: session fixtures shared by integration and e2e tests
pytest_plugins = ["tests.identity_hubs"]


def pytest_configure(config: pytest.Config) -> None:
    """Property-based tests: 150 examples each; `make test-fast` uses a few. Set
    before any test module is imported (some read settings() at import). The
    xdist controller runs no test and skips Hypothesis (a second to import)."""
    if config.getoption("numprocesses", None) and not hasattr(config, "workerinput"):
        return
    from hypothesis import settings

    settings.register_profile("default", max_examples=150, deadline=None)
    settings.register_profile("fast", max_examples=20, deadline=None)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# Tests that import a library costing a second or more (ACRO and pandas,
# jsonschema, JupyterHub) do so inside the test, and one xdist worker runs each
# group, so only that worker pays for the import. xdist's own `--dist loadgroup`
# would read xdist_group marks, but under pytest 9.2 it silently stops grouping
# (pytest-xdist issue 1386): the groups are node-id prefixes here instead.
IMPORT_GROUPS = {
    "acro": (
        "tests/unit/test_disclosure_acro.py::",
        "tests/unit/test_disclosure_evidence.py::",
        "tests/unit/test_disclosure_suppression.py::",
        "tests/unit/test_disclosure.py::test_parquet_and_xlsx_tables_are_read",
    ),
    "jsonschema": (
        "tests/unit/test_algoritmeregister.py::",
        "tests/cli/test_experiments.py::test_export_algoritmeregister",
        "tests/cli/test_commands.py::test_schema_describes_the_yaml",
    ),
    "jupyterhub": (
        "tests/unit/test_container_spawners.py::",
        "tests/unit/test_partners.py::test_a_start_after_the_agreement_ended_is_refused",
        "tests/unit/test_partners.py::test_whoever_the_provider_puts_in_a_partner_group_",
        "tests/unit/test_per_user_passwords.py::test_a_login_needs_the_users_own_password",
    ),
}


def import_group(nodeid: str) -> str | None:
    for group, prefixes in IMPORT_GROUPS.items():
        if nodeid.startswith(prefixes):
            return group
    return None


@pytest.hookimpl(optionalhook=True)  # xdist's hook: absent under -p no:xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """`-n N` (xdist's default `--dist load`): each test on its own, except the
    IMPORT_GROUPS, each a unit of work for one worker."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ImportGroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return import_group(nodeid) or nodeid

    return ImportGroupScheduling(config, log)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("drill") and not DRILLS:
        _missing("SANDBOX_RUN_DRILLS=1 is not set: this drill stops the host's dockerd")


def _missing(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"SANDBOX_REQUIRE_DOCKER=1 but {reason}", pytrace=False)
    pytest.skip(f"!!! SKIPPED: {reason} (CI sets SANDBOX_REQUIRE_DOCKER=1 and fails instead)")


def require_docker() -> None:
    if shutil.which("docker") is None:
        _missing("the docker CLI is not installed")
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        _missing("no Docker engine answers `docker info`")


def require_chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        _missing("Debian's chromium is not installed")
    return path


DAEMON_JSON = Path("/etc/docker/daemon.json")


@contextmanager
def live_restore_off():
    """Swarm mode refuses an engine with live-restore (sandbox/host/dockerd.py turns
    it on): turn it off as an operator would (daemon.json, then a reload), and
    back on afterwards."""
    import json
    import signal
    import time

    def reload(enabled: bool) -> None:
        settings = json.loads(DAEMON_JSON.read_text()) if DAEMON_JSON.exists() else {}
        settings["live-restore"] = enabled
        DAEMON_JSON.write_text(json.dumps(settings, indent=2) + "\n")
        for pid in subprocess.run(
            ["pidof", "dockerd"], capture_output=True, text=True
        ).stdout.split():
            os.kill(int(pid), signal.SIGHUP)
        deadline = time.monotonic() + 30
        wanted = "true" if enabled else "false"
        while time.monotonic() < deadline:
            info = subprocess.run(
                ["docker", "info", "--format", "{{.LiveRestoreEnabled}}"],
                capture_output=True,
                text=True,
            )
            if info.stdout.strip() == wanted:
                return
            time.sleep(0.3)
        raise AssertionError(f"dockerd did not reload live-restore={enabled}")

    was_on = (
        subprocess.run(
            ["docker", "info", "--format", "{{.LiveRestoreEnabled}}"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        == "true"
    )
    if was_on:
        reload(False)
    try:
        yield
    finally:
        if was_on:
            reload(True)


@contextmanager
def stand_in_process(name: str):
    """A live process whose command line names ``name`` (as a proxy's names
    configurable-http-proxy), returned once /proc shows that command line:
    right after the fork it still shows the parent's."""
    import time

    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", name])
    try:
        cmdline = Path(f"/proc/{process.pid}/cmdline")
        while name.encode() not in cmdline.read_bytes():
            time.sleep(0.01)
        yield process
    finally:
        process.kill()
        process.wait()


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A private copy of the demo config directory; returns its sandbox.yaml."""
    shutil.copytree(PROJECT / "config", tmp_path / "config")
    return tmp_path / "config" / "sandbox.yaml"


@dataclass
class Deployment:
    config: Path
    state: Path
    env: dict[str, str]
    first_up: subprocess.CompletedProcess[str]
    clock: Path
    port: int = IT_PORT
    name: str = IT_SANDBOX

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sandbox(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [SANDBOX_BIN, *args], env=self.env, capture_output=True, text=True, timeout=900
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"sandbox {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def secret(self, name: str) -> str:
        return (self.state / "sandboxes" / self.name / "hub" / "secrets" / name).read_text().strip()

    def password(self, user: str) -> str:
        """``user``'s own password (the demo's per-user-password logins)."""
        from tests.hubclient import login_password

        secrets = self.state / "sandboxes" / self.name / "hub" / "secrets"
        return login_password(secrets, user, admin=user == "admin")


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory):
    """The demo organisation provisioned once by `sandbox up` (sandbox renamed
    `itest`, port 18100); torn down at the end."""
    require_docker()
    root = tmp_path_factory.mktemp("deployment")
    shutil.copytree(PROJECT / "config", root / "config")
    config = root / "config" / "sandbox.yaml"
    text = config.read_text()
    text = text.replace("- name: demo", f"- name: {IT_SANDBOX}").replace(
        "port: 8000", f"port: {IT_PORT}"
    )
    config.write_text(text)
    state = root / "state"
    clock = root / "today"
    clock.write_text(date.today().isoformat())
    env = {
        **os.environ,
        "SANDBOX_CONFIG": str(config),
        "SANDBOX_STATE_DIR": str(state),
        "SANDBOX_CLOCK_FILE": str(clock),
        "COLUMNS": "200",
    }
    first = subprocess.run(
        [SANDBOX_BIN, "up"], env=env, capture_output=True, text=True, timeout=1800
    )
    deployed = Deployment(config, state, env, first, clock)
    try:
        if first.returncode != 0:
            pytest.fail(f"sandbox up failed:\n{first.stdout}\n{first.stderr}", pytrace=False)
        yield deployed
    finally:
        keep_logs(state, root / "logs")  # `down --purge` removes them; a failure needs them
        deployed.sandbox("down", "--purge", "--yes", check=False)


def keep_logs(state: Path, target: Path) -> None:
    for log in (state / "sandboxes").glob("*/**/*.log"):
        kept = target / log.relative_to(state)
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log, kept)


def require_postgres() -> str:
    url = os.environ.get("SANDBOX_TEST_POSTGRES_URL", "")
    if not url:
        _missing("SANDBOX_TEST_POSTGRES_URL is not set (make test sets it)")
    import sqlalchemy

    try:
        with sqlalchemy.create_engine(url).connect():
            pass
    except Exception as exc:
        _missing(f"no PostgreSQL answers at {url.split('@')[-1]} ({type(exc).__name__})")
    return url


@contextmanager
def postgres_database():
    """A fresh, empty PostgreSQL database; dropped afterwards."""
    import uuid

    import sqlalchemy

    admin_url = require_postgres()
    name = f"sandbox_test_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite registry at the newest migration, made once per worker:
    tests that only need an empty registry copy it (a fresh file runs every
    migration, tens of milliseconds each time)."""
    from sandbox.registry.db import open_registry_url

    path = tmp_path_factory.mktemp("migrated") / "registry.sqlite"
    open_registry_url(f"sqlite:///{path}").dispose()  # the last close folds the WAL in
    return path


def copy_registry(template: Path, target: Path) -> Path:
    """A private copy of ``migrated_registry`` at ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)
    return target


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_url(request, tmp_path: Path):
    """A fresh, empty registry database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.sqlite'}"
        return
    with postgres_database() as url:
        yield url
