"""the output airlock: requests and their reviews, releases and downloads,
append-only and on the audit chain

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from sandbox.registry.append_only import append_only

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "output_requests",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("sandbox", sa.String(63), nullable=False),
        sa.Column("requester", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("justification", sa.Text, nullable=False),
        sa.Column("experiment", sa.String(64), nullable=False, server_default=""),
        sa.Column("tier", sa.Integer, nullable=False),
        sa.Column("files", sa.JSON, nullable=False),
        sa.Column("checks", sa.JSON, nullable=False),
        sa.Column("audit_seq", sa.Integer, nullable=True, index=True),
    )
    op.create_table(
        "output_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request", sa.String(16), sa.ForeignKey("output_requests.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("override", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("audit_seq", sa.Integer, nullable=True, index=True),
    )
    op.create_index("output_events_request", "output_events", ["request"])
    append_only("output_requests")
    append_only("output_events")


def downgrade() -> None:
    op.drop_table("output_events")
    op.drop_table("output_requests")
