"""Campaign events as follow-ups, where they map.

A RapidPro campaign starts a flow some time before or after a date on the contact
(`relative_to`). Buurtbot's follow-ups start a flow some time after another flow ends.
So an event maps when its date is set by an imported flow (a `set_contact_field` of
that field), it starts an imported flow, and it comes after the date: it becomes a
follow-up of the flow that sets the date. Every other event is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.flows.importing.building import duration

UNITS = {"M": "minutes", "H": "hours", "D": "days", "W": "weeks"}


@dataclass
class Event:
    campaign: str
    uuid: str
    text: str  # what was not carried over, or ""


def follow_ups(
    campaigns: list[dict[str, Any]],
    ids: dict[str, str],
    fields: dict[str, str],
) -> tuple[dict[str, list[dict[str, str]]], list[Event]]:
    """(flow id -> follow-ups to add, events not carried over).

    `ids` maps a flow uuid to its imported id; `fields` a contact field key to the
    imported flow that sets it.
    """
    added: dict[str, list[dict[str, str]]] = {}
    missed: list[Event] = []
    for campaign in campaigns:
        name = str(campaign.get("name") or "?")
        for event in campaign.get("events") or []:
            uuid = str(event.get("uuid") or "?")
            relative = event.get("relative_to") or {}
            key = str(relative.get("key") or "").lower()
            flow = event.get("flow") or {}
            target = ids.get(str(flow.get("uuid")))
            offset = event.get("offset")
            unit = UNITS.get(str(event.get("unit") or "D"))
            if event.get("event_type") != "F":
                missed.append(Event(name, uuid, "it sends a message, not a flow"))
            elif target is None:
                missed.append(Event(name, uuid, "its flow is not imported"))
            elif key not in fields:
                missed.append(Event(name, uuid, f"its date {key!r} is set by no imported flow"))
            elif not isinstance(offset, int) or offset <= 0 or unit is None:
                missed.append(Event(name, uuid, f"starts {offset} {unit} from the date"))
            else:
                after = duration(timedelta(**{unit: offset}))
                added.setdefault(fields[key], []).append({"after": after, "flow": target})
    return added, missed
