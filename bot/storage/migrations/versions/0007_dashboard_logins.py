"""dashboard logins: single-use links and server-side sessions

Revision ID: 0007
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.storage.models import base

revision: str = "0007"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dashboard_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "participant_id",
            sa.Integer(),
            sa.ForeignKey("participants.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_dashboard_links_participant_id", "dashboard_links", ["participant_id"])
    op.create_table(
        "dashboard_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "participant_id",
            sa.Integer(),
            sa.ForeignKey("participants.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("admin", sa.Boolean(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(
        "ix_dashboard_sessions_participant_id", "dashboard_sessions", ["participant_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_dashboard_sessions_participant_id", "dashboard_sessions")
    op.drop_table("dashboard_sessions")
    op.drop_index("ix_dashboard_links_participant_id", "dashboard_links")
    op.drop_table("dashboard_links")
