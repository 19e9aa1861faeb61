"""The database tables, as typed SQLAlchemy 2 models, one module per area.

Every change here needs an Alembic migration in `bot/storage/migrations/versions/`.
Importing this package registers every table on `Base.metadata`.
"""

from bot.storage.models import (
    community,  # noqa: F401  (registers the community tables)
    dashboard,  # noqa: F401  (registers the dashboard's logins)
    polls,  # noqa: F401  (registers the polls workers write)
)
from bot.storage.models.base import Base, UTCDateTime, utcnow
from bot.storage.models.core import (
    Answer,
    Conversation,
    InboundReceipt,
    InboxUpdate,
    Participant,
)
from bot.storage.models.outbox import OutboxMessage
from bot.storage.models.processes import RunningProcess, SendRate

__all__ = [
    "Answer",
    "Base",
    "Conversation",
    "InboundReceipt",
    "InboxUpdate",
    "OutboxMessage",
    "Participant",
    "RunningProcess",
    "SendRate",
    "UTCDateTime",
    "utcnow",
]
