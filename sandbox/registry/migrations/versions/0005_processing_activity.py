"""access log: the processing activity each decision was made under

Rows written before keep their digests: each chain entry records the columns
it hashed (sandbox.registry.coverage).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "access_log",
        sa.Column("processing_activity", sa.Text, nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("access_log", "processing_activity")
