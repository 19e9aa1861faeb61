"""several `buurtbot run` on one PostgreSQL: processes, send_rates, inbox claims, open questions

Revision ID: 0011
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.storage.models import base

revision: str = "0011"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "processes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("leads", sa.JSON(), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "send_rates",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("next_at", base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel"),
    )
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("open_question", sa.JSON(), nullable=True))
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("lease_until", base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
        batch_op.drop_column("claimed_by")
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_column("open_question")
    op.drop_table("send_rates")
    op.drop_table("processes")
