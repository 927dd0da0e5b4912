"""Engines and schema for the registry database (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import IntegrityError, OperationalError

from ..errors import InvalidInput, SandboxError
from ..host.layout import private_file

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
RETRIES = 50


def make_engine(url: str) -> Engine:
    """An engine with SQLite set up for concurrent writers (WAL, FKs, busy timeout)."""
    if url.startswith("sqlite:///"):
        private_sqlite(Path(url.removeprefix("sqlite:///")))
    try:
        engine = create_engine(url, future=True)
    except Exception as exc:  # bad URL or missing driver
        raise InvalidInput(f"registry URL {url!r}: {exc}") from None
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            # transactions are ours (BEGIN IMMEDIATE below), not the driver's
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            # take the write lock up front: two readers upgrading to writers deadlock
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def private_sqlite(path: Path) -> None:
    """The database file 0600 before SQLite opens it: its -wal and -shm files
    take the database's mode (older ones, made under a looser umask, are fixed)."""
    if str(path) == ":memory:":
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    private_file(path)
    for suffix in ("-wal", "-shm"):
        if (side := path.with_name(path.name + suffix)).exists():
            private_file(side)


def head_revision() -> str:
    """Migrations are named NNNN_*.py with revision NNNN: the newest is the head."""
    return max(p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except Exception:  # no table yet, or an empty database
        return None


def ensure_schema(engine: Engine) -> None:
    """Bring the database to the newest migration (idempotent; a quick check
    first, because importing Alembic costs more than most commands)."""
    if current_revision(engine) == head_revision():
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_registry_url(url: str) -> Engine:
    engine = make_engine(url)
    ensure_schema(engine)
    return engine


def retrying(engine: Engine, work: Callable[[Connection], Any]) -> Any:
    """Run ``work`` in one transaction, again if a concurrent writer won a race."""
    for attempt in range(RETRIES):
        try:
            with engine.begin() as connection:
                return work(connection)
        except (IntegrityError, OperationalError) as exc:
            if attempt == RETRIES - 1 or not _is_race(exc):
                raise
    raise SandboxError("registry: too many concurrent conflicts")


def _is_race(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(
        marker in text
        for marker in ("events_experiment_seq", "unique", "locked", "deadlock", "serializ")
    )
