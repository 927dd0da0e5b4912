"""experiments: a written goal and the Algoritmeregister's publication category

Rows written before keep their digests: each chain entry records the columns
it hashed (sandbox.registry.coverage).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("experiments", sa.Column("goal", sa.Text, nullable=False, server_default=""))
    op.add_column(
        "experiments",
        sa.Column("publication_category", sa.Text, nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("experiments", "publication_category")
    op.drop_column("experiments", "goal")
