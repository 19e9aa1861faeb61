"""The parts of goflow's flow specification this importer reads, as pydantic models.

An export is validated against these before anything is built, so a file with the
right keys but the wrong shapes (a list where a node should be, a number as a text)
gets one clear line naming the place, not a traceback. Fields not read here are kept
(`extra="allow"`), so the builder sees the whole definition.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


# ---- the node format (spec 13 and 14) ----------------------------------------------------


class Reference(_Part):
    uuid: str | None = None
    key: str | None = None
    name: str | None = None


class Exit(_Part):
    uuid: str | None = None
    destination_uuid: str | None = None


class Category(_Part):
    uuid: str
    name: str = ""
    exit_uuid: str | None = None


class Case(_Part):
    uuid: str | None = None
    type: str
    arguments: list[str] = []
    category_uuid: str | None = None


class Wait(_Part):
    type: str = "msg"
    timeout: dict[str, Any] | None = None


class Router(_Part):
    type: str = "switch"
    operand: str = "@input.text"
    cases: list[Case] = []
    categories: list[Category] = []
    default_category_uuid: str | None = None
    result_name: str | None = None
    wait: Wait | None = None


class Action(_Part):
    uuid: str = ""
    type: str
    text: str | None = None
    quick_replies: list[str] = []
    attachments: list[str] = []
    field: Reference | None = None
    value: str | None = None
    language: str | None = None
    flow: Reference | None = None
    name: str | None = None


class Node(_Part):
    uuid: str
    actions: list[Action] = []
    router: Router | None = None
    exits: list[Exit] = []


class Flow(_Part):
    uuid: str = ""
    name: str = ""
    spec_version: str = ""
    language: str = "und"
    type: str = "messaging"
    revision: int = 1
    expire_after_minutes: int = 0
    localization: dict[str, dict[str, dict[str, list[str]]]] = {}
    nodes: list[Node] = []


class Event(_Part):
    uuid: str = ""
    offset: int = 0
    unit: str = "D"
    event_type: str = "F"
    relative_to: Reference | None = None
    flow: Reference | None = None


class Campaign(_Part):
    uuid: str = ""
    name: str = ""
    events: list[Event] = []


# ---- the legacy format (spec 11 and 12) -------------------------------------------------

Localized = dict[str, str | None] | str | None


class LegacyAction(_Part):
    type: str
    uuid: str = ""
    msg: Localized = None
    quick_replies: list[dict[str, str | None] | str] = []
    field: str | None = None
    label: str | None = None
    value: str | None = None
    lang: str | None = None
    flow: Reference | None = None


class ActionSet(_Part):
    uuid: str
    destination: str | None = None
    exit_uuid: str | None = None
    actions: list[LegacyAction] = []


class Test(_Part):
    type: str = "true"
    test: Localized = None


class Rule(_Part):
    uuid: str = ""
    category: Localized = None
    test: Test = Test()
    destination: str | None = None


class RuleSet(_Part):
    uuid: str
    label: str | None = None
    ruleset_type: str = "wait_message"
    operand: str | None = None
    rules: list[Rule] = []
    config: dict[str, Any] = {}


class Metadata(_Part):
    uuid: str | None = None
    name: str | None = None
    revision: int = 1
    expires: int = 10080


class LegacyFlow(_Part):
    base_language: str | None = None
    flow_type: str = "F"
    entry: str | None = None
    metadata: Metadata = Metadata()
    action_sets: list[ActionSet] = []
    rule_sets: list[RuleSet] = []


def validated(model: type[_Part], data: Any) -> tuple[dict[str, Any] | None, str]:
    """(the data with every field of the right type, "") or (None, where and what is wrong)."""
    try:
        return model.model_validate(data).model_dump(), ""
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the definition"
        return None, f"{where}: {first['msg'].lower()}"
