"""The outbox's reads and writes: queue a message, claim due ones, record what happened.

Every message that is not a direct reply is queued here first, in the caller's
transaction, so it exists exactly when what caused it was committed (a finished flow, a
broadcast, an RSVP). The dispatcher (`bot.delivery.dispatcher`) does the sending.

Content, one of:

* `{"type": "text", "text": "..."}`: already rendered; `text` may also be a map of
  language code to text, and the person gets theirs (or the default language's);
* `{"type": "flow", "flow": "checkin", "variables": {...}}`: the flow is started at
  send time, in the person's language at that moment;
* `{"type": "resume", "conversation_id": 12, "idle_since": "..."}`: a gentle reminder
  and the question the person stopped at (see `bot.delivery.reminders`);
* `{"type": "question", "conversation_id": 12}`: the conversation's current question
  again, if it still waits for an answer (a direct reply that could not be delivered).

`dedupe_key` is unique: queueing the same follow-up or reminder twice is a no-op
(`followup:<conversation>:<flow>`, `reminder24:<activity>:<participant>`, ...).
"""

from __future__ import annotations

from bot.outbox.claims import (
    Claimed,
    Recipient,
    Results,
    anything_due,
    capped_counts,
    claim,
    hold_quiet,
    recipients,
    record,
    requeue_stale,
)
from bot.outbox.queue import (
    Item,
    cancel,
    enqueue,
    enqueue_many,
    flow,
    on_enqueue,
    question,
    stop,
    text,
)
from bot.outbox.status import (
    Progress,
    broadcast_progress,
    problems,
    status_counts,
)

__all__ = [
    "Claimed",
    "Item",
    "Progress",
    "Recipient",
    "Results",
    "anything_due",
    "broadcast_progress",
    "cancel",
    "capped_counts",
    "claim",
    "enqueue",
    "enqueue_many",
    "flow",
    "hold_quiet",
    "on_enqueue",
    "problems",
    "question",
    "recipients",
    "record",
    "requeue_stale",
    "status_counts",
    "stop",
    "text",
]
