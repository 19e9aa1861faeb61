"""worker_invites.worker_name, participants.worker_since: who a worker is, and since when

Revision ID: 0014
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.storage.models import base

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("worker_invites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("worker_name", sa.String(length=80), nullable=True))
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("worker_since", base.UTCDateTime(timezone=True), nullable=True)
        )
    # Workers made by an invite code: since they used it.
    op.execute(
        "UPDATE participants SET worker_since = (SELECT max(used_at) FROM worker_invites"
        " WHERE worker_invites.used_by = participants.id) WHERE role IN ('worker', 'admin')"
    )


def downgrade() -> None:
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_column("worker_since")
    with op.batch_alter_table("worker_invites", schema=None) as batch_op:
        batch_op.drop_column("worker_name")
