"""goflow actions: which ones become steps, which ones change a question, which are reported.

- `send_msg`: a `message` step, or the text of the question that follows it;
- `set_contact_field`: on the question it reads, a neighbourhood field makes it a
  `neighbourhood` question, an age group field `store_as: age_group`; with a fixed
  value for a field Buurtbot keeps, a `set` step with `store_as` (setting.py);
- `set_contact_language`: the question it reads becomes a `language` question; a fixed
  language, a `set` step with `store_as: language`;
- `set_run_result`: with a literal value, a `set` step keyed by the result name;
- `enter_flow`: a `subflow` step: the imported subflow runs there, the flow goes on at
  its "Complete" exit;
- everything else: a line in the report.
"""

from __future__ import annotations

import re
from typing import Any

#: Contact field keys that Buurtbot keeps on the person's profile.
NEIGHBOURHOOD_FIELDS = frozenset(
    {"neighbourhood", "neighborhood", "wijk", "buurt", "district", "ward", "area"}
)
AGE_GROUP_FIELDS = frozenset({"age_group", "agegroup", "age_range", "age_category", "leeftijd"})
LANGUAGE_FIELDS = frozenset({"language", "taal", "lang"})

#: What each action not carried over did, in words for the report.
NOT_CARRIED = {
    "add_contact_groups": "adds the contact to groups",
    "remove_contact_groups": "removes the contact from groups",
    "add_contact_urn": "adds an address to the contact",
    "add_input_labels": "labels the message",
    "call_classifier": "calls a classifier",
    "call_llm": "calls an LLM",
    "call_resthook": "calls a resthook",
    "call_webhook": "calls a webhook",
    "open_ticket": "opens a ticket",
    "play_audio": "plays audio",
    "request_optin": "asks for an opt-in",
    "say_msg": "says a voice message",
    "send_broadcast": "sends a message to other contacts",
    "send_email": "sends an e-mail",
    "set_contact_channel": "changes the contact's channel",
    "set_contact_name": "sets the contact's name",
    "set_contact_status": "changes the contact's status",
    "set_contact_timezone": "sets the contact's time zone",
    "start_session": "starts other contacts in a flow",
    "transfer_airtime": "sends airtime",
}
_INPUT = re.compile(r"^@\(?\s*(input(?:\.text)?|results\.([\w]+)(?:\.(?:value|category))?)\s*\)?$")


def reads_result(value: Any) -> tuple[bool, str | None] | None:
    """Whether a value is the last input or a result: (True, None) / (True, key); else None."""
    match = _INPUT.match(str(value or "").strip())
    if not match:
        return None
    return True, (match[2].lower() if match[2] else None)


def profile_field(key: str) -> str | None:
    """The profile field (`store_as`) a contact field key stands for, if Buurtbot keeps it."""
    for fields, name in (
        (NEIGHBOURHOOD_FIELDS, "neighbourhood"),
        (AGE_GROUP_FIELDS, "age_group"),
        (LANGUAGE_FIELDS, "language"),
    ):
        if key in fields:
            return name
    return None


def field_key(action: dict[str, Any]) -> str:
    field = action.get("field") or {}
    key = field.get("key") if isinstance(field, dict) else field
    return str(key or "").lower()


def not_carried(action: dict[str, Any]) -> str:
    """The report line of an action that has no Buurtbot counterpart."""
    kind = str(action.get("type") or "?")
    what = NOT_CARRIED.get(kind)
    if kind.startswith("legacy:"):
        return f"legacy action {kind.removeprefix('legacy:')!r} is not carried over"
    if kind == "call_webhook":
        return (
            f"call_webhook ({what}: {action.get('method', 'GET')} {action.get('url', '?')}) "
            "is not carried over; the flow goes on as if it succeeded"
        )
    if what:
        return f"{kind} ({what}) is not carried over"
    return f"action {kind} is not carried over"
