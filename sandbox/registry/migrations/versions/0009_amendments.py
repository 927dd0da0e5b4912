"""events: amendments, append-only like every other event

An amendment is an event that stays in the experiment's state and records
which fields it changed (``changes``: field -> {"from", "to"}); transitions
leave it NULL. Rows written before keep their digests: each chain entry
records the columns it hashed (sandbox.registry.coverage).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


AMENDMENT = sa.text("changes IS NOT NULL")


def upgrade() -> None:
    op.add_column("events", sa.Column("changes", sa.JSON(none_as_null=True), nullable=True))
    # the report reads every amendment (the team or sandbox it moved an
    # experiment to): a partial index holds just those, and costs a
    # transition nothing
    op.create_index(
        "events_amendments",
        "events",
        ["experiment", "seq"],
        sqlite_where=AMENDMENT,
        postgresql_where=AMENDMENT,
    )


def downgrade() -> None:
    op.drop_index("events_amendments", "events")
    op.drop_column("events", "changes")
