"""answers: when the same person next answered the question and the flow

Reports count each person's latest answer; these two columns make "latest" a filter
instead of a sort (see `bot.storage.answer_order`). Filled here for existing answers.

Revision ID: 0015
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.storage.models import base

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("answers", sa.Column("next_in_step_at", base.UTCDateTime(timezone=True)))
    op.add_column("answers", sa.Column("next_in_flow_at", base.UTCDateTime(timezone=True)))
    op.create_index(
        "ix_answers_latest_in_flow",
        "answers",
        ["flow_id", "participant_id", "next_in_flow_at"],
    )
    # The statement written out as the model had it at this revision, so that a later
    # change of the model does not change what this migration did.
    op.execute(
        """
        UPDATE answers SET next_in_step_at = ordered.in_step, next_in_flow_at = ordered.in_flow
        FROM (
            SELECT id,
                lead(created_at) OVER (
                    PARTITION BY flow_id, participant_id, step_key ORDER BY created_at, id
                ) AS in_step,
                lead(created_at) OVER (
                    PARTITION BY flow_id, participant_id ORDER BY created_at, id
                ) AS in_flow
            FROM answers
            WHERE participant_id IS NOT NULL
        ) AS ordered
        WHERE answers.id = ordered.id
        """
    )


def downgrade() -> None:
    op.drop_index("ix_answers_latest_in_flow", table_name="answers")
    op.drop_column("answers", "next_in_flow_at")
    op.drop_column("answers", "next_in_step_at")
