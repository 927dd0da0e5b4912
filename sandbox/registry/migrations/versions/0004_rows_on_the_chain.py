"""every row of the record bound to the audit chain (audit_seq)

Rows written before this migration are adopted by one chain entry ("adopt"),
which records their digests; from then on, each entry records the rows it
writes (sandbox.registry.coverage).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from sandbox.registry.append_only import allow_changes, append_only
from sandbox.registry.coverage import SEQ

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# the record as it was at this revision (later tables come with their own)
RECORD = ("experiments", "events", "access_log")


def upgrade() -> None:
    for table in RECORD:
        op.add_column(table, sa.Column(SEQ, sa.Integer, nullable=True))
        op.create_index(f"{table}_{SEQ}", table, [SEQ])
    connection = op.get_bind()
    counts = {
        table: connection.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one()
        for table in RECORD
    }
    if not any(counts.values()):
        return
    from sandbox.registry import audit

    for table in RECORD:
        allow_changes(table)
    seq, _ = audit.next_entry(connection)
    for table in RECORD:
        connection.exec_driver_sql(f"UPDATE {table} SET {SEQ} = {seq}")
    audit.adopt(connection, seq, counts)
    for table in RECORD:
        append_only(table)


def downgrade() -> None:
    for table in RECORD:
        op.drop_index(f"{table}_{SEQ}", table)
        op.drop_column(table, SEQ)
