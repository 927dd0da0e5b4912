"""events: one index on (experiment, seq), not two

The unique key events_experiment_seq already indexes (experiment, seq), on
SQLite and PostgreSQL alike, and serves every look-up of an experiment's
events; the plain index events_experiment on the same columns only made
each insert update a second b-tree (some 4% of a large import's time).

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("events_experiment", "events")


def downgrade() -> None:
    op.create_index("events_experiment", "events", ["experiment", "seq"])
