"""record tables: no index on audit_seq

Verify reads each record table in its key order and hands every row to the
digest of the entry it names, so nothing looks rows up by audit_seq; the
indexes only made every write update one more b-tree (a large import on
SQLite dropped and rebuilt them, half a second per million rows).

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# (table, index): 0004 named its own, 0007 took SQLAlchemy's ix_ names
INDEXES = [
    ("experiments", "experiments_audit_seq"),
    ("events", "events_audit_seq"),
    ("access_log", "access_log_audit_seq"),
    ("output_requests", "ix_output_requests_audit_seq"),
    ("output_events", "ix_output_events_audit_seq"),
]


def upgrade() -> None:
    for table, name in INDEXES:
        op.drop_index(name, table)


def downgrade() -> None:
    for table, name in INDEXES:
        op.create_index(name, table, ["audit_seq"])
