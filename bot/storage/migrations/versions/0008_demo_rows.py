"""participants.demo, activities.demo: made-up rows from `buurtbot demo seed`

Everything else the demo makes belongs to a demo participant (answers, conversations,
invitations, RSVPs, proposals, outbox rows) and goes with them; activities are marked
themselves. `buurtbot demo clear` deletes exactly the marked rows.

Revision ID: 0008
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("participants", "activities"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("demo", sa.Boolean(), nullable=False, server_default=sa.false())
            )


def downgrade() -> None:
    for table in ("participants", "activities"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("demo")
