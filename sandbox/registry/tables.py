"""Table definitions (SQLAlchemy Core). Migrations in ``migrations/`` create them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime. SQLite hands DateTime columns back without a zone;
    everything is written in UTC, so a naive value is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


access_log = Table(
    "access_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trace_id", String(32), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("user", String(64), nullable=False),
    Column("sandbox", String(63), nullable=False),
    Column("dataset", String(63), nullable=False),
    Column("version", String(64), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("legal_basis", Text, nullable=False),
    Column("decision", String(16), nullable=False),  # granted | refused
    Column("reason", Text, nullable=False, default=""),
    # the register entry it was processed under (Logboek Dataverwerkingen), or ""
    Column("processing_activity", Text, nullable=False, default=""),
    Column("audit_seq", Integer, nullable=True),  # the chain entry that wrote it
    # the groups that granted the dataset, as of the user's login (migration 0008)
    Column("groups", Text, nullable=False, default=""),
)

experiments = Table(
    "experiments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("team", String(64), nullable=False),
    Column("sandbox", String(63), nullable=False),
    Column("owner", String(64), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("datasets", JSON, nullable=False),
    Column("personal_data", Boolean, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("registered_by", String(64), nullable=False),
    Column("human_intervention", Text, nullable=False, default=""),
    Column("risks", Text, nullable=False, default=""),
    Column("proportionality", Text, nullable=False, default=""),
    Column("dpia_reference", Text, nullable=False, default=""),
    Column("dataset_versions", JSON, nullable=False),
    Column("audit_seq", Integer, nullable=True),
    # for the Algoritmeregister (migration 0006)
    Column("goal", Text, nullable=False, default=""),
    Column("publication_category", Text, nullable=False, default=""),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("experiment", String(64), ForeignKey("experiments.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("audit_seq", Integer, nullable=True),
    UniqueConstraint("experiment", "seq", name="events_experiment_seq"),
    # an amendment's field -> {"from", "to"}; NULL on a transition (migration 0009)
    Column("changes", JSON(none_as_null=True), nullable=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)


# the output airlock (migration 0007): a request is written once, with the
# files copied and their checks; every later step is an event
output_requests = Table(
    "output_requests",
    metadata,
    Column("id", String(16), primary_key=True),  # OUT-NNNN
    Column("sandbox", String(63), nullable=False),
    Column("requester", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("path", Text, nullable=False),  # as requested, relative to the home
    Column("justification", Text, nullable=False),
    Column("experiment", String(64), nullable=False, default=""),
    Column("tier", Integer, nullable=False),
    Column("files", JSON, nullable=False),  # [{path, sha256, bytes}]
    Column("checks", JSON, nullable=False),  # {status, files: [...]}
    Column("audit_seq", Integer, nullable=True),
)

output_events = Table(
    "output_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request", String(16), ForeignKey("output_requests.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # approve | reject | release | refuse | download
    Column("reason", Text, nullable=False, default=""),
    Column("override", Boolean, nullable=False, default=False),
    Column("details", JSON, nullable=False),
    Column("audit_seq", Integer, nullable=True),
)
