"""access log: the groups that granted each dataset

With an identity provider, group membership is what the provider said at the
user's last login; the row keeps which groups that was. Rows written before
keep their digests: each chain entry records the columns it hashed
(sandbox.registry.coverage).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("access_log", sa.Column("groups", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("access_log", "groups")
