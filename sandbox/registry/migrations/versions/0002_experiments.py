"""experiments and their lifecycle events, append-only

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from sandbox.registry.append_only import append_only

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("team", sa.String(64), nullable=False, index=True),
        sa.Column("sandbox", sa.String(63), nullable=False, index=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("datasets", sa.JSON, nullable=False),
        sa.Column("personal_data", sa.Boolean, nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_by", sa.String(64), nullable=False),
        sa.Column("human_intervention", sa.Text, nullable=False, server_default=""),
        sa.Column("risks", sa.Text, nullable=False, server_default=""),
        sa.Column("proportionality", sa.Text, nullable=False, server_default=""),
        sa.Column("dpia_reference", sa.Text, nullable=False, server_default=""),
        sa.Column("dataset_versions", sa.JSON, nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("experiment", sa.String(64), sa.ForeignKey("experiments.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.UniqueConstraint("experiment", "seq", name="events_experiment_seq"),
    )
    op.create_index("events_experiment", "events", ["experiment", "seq"])
    append_only("experiments")
    append_only("events")


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("experiments")
