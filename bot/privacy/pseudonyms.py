"""Pseudonyms: how a person appears in exports and reports.

A pseudonym is a keyed hash (HMAC-SHA256 with the deployment's secret key) of the
participant's database id and the second they were created, written as `P-` and ten
base32 characters (50 bits). It is stable for as long as the person exists, cannot be
turned back into an id without the key, and differs with another key. The creation time
is part of it so that a new person who gets the id of an erased one (SQLite may reuse the
highest id) does not inherit their pseudonym in earlier exports.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

PREFIX = "P-"
LENGTH = 10


def pseudonym(secret: bytes, participant_id: int, created_at: datetime | None = None) -> str:
    """`P-` and 10 base32 characters, e.g. `P-K3XQ7M2LZA`."""
    message = f"participant:{participant_id}"
    if created_at is not None:
        message += f":{int(created_at.timestamp())}"
    digest = hmac.new(secret, message.encode(), hashlib.sha256).digest()
    return PREFIX + base64.b32encode(digest).decode("ascii")[:LENGTH]


def of(secret: bytes, participant: object) -> str:
    """The pseudonym of a `Participant` row (anything with `id` and `created_at`)."""
    return pseudonym(secret, participant.id, participant.created_at)  # type: ignore[attr-defined]
