"""Flows in RapidPro's legacy format (spec 11 and 12: `action_sets` and `rule_sets`).

They are rewritten into the node format of spec 13, as far as this importer reads it:
a reply becomes `send_msg`, a rule set a `switch` router (with a wait for a message
when it waited for one), its rules' tests the matching goflow cases, each rule's
category a category, and the texts of the other languages the flow's `localization`.
Action and test types without an equivalent keep a `legacy:` type name, so they are
reported as not carried over rather than lost.
"""

from __future__ import annotations

from typing import Any

FLOW_TYPES = {"F": "messaging", "M": "messaging", "V": "voice", "S": "messaging_offline"}
TESTS = {
    "contains_any": "has_any_word",
    "contains": "has_all_words",
    "contains_phrase": "has_phrase",
    "contains_only_phrase": "has_only_phrase",
    "starts": "has_beginning",
    "not_empty": "has_text",
    "number": "has_number",
    "between": "has_number_between",
    "lt": "has_number_lt",
    "lte": "has_number_lte",
    "gt": "has_number_gt",
    "gte": "has_number_gte",
    "eq": "has_number_eq",
    "date": "has_date",
    "date_before": "has_date_lt",
    "date_after": "has_date_gt",
    "date_equal": "has_date_eq",
    "phone": "has_phone",
    "has_email": "has_email",
    "regex": "has_pattern",
    "subflow": "has_run_status",
    "webhook_status": "has_webhook_status",
}
ACTIONS = {
    "reply": "send_msg",
    "send": "send_broadcast",
    "save": "set_contact_field",
    "lang": "set_contact_language",
    "flow": "enter_flow",
    "add_group": "add_contact_groups",
    "del_group": "remove_contact_groups",
    "email": "send_email",
    "add_label": "add_input_labels",
    "trigger-flow": "start_session",
}


def _operand(text: Any) -> str:
    operand = str(text or "@input")
    return "@input" if operand == "@step.value" else operand.replace("@flow.", "@results.")


def from_legacy(flow: dict[str, Any]) -> dict[str, Any]:
    """The same flow in the node format."""
    metadata = flow.get("metadata") or {}
    base = flow.get("base_language") or "base"
    localization: dict[str, dict[str, Any]] = {}

    def localized(value: Any, uuid: str, key: str) -> str:
        """The base text of a `{lang: text}` value; the others go into `localization`."""
        if not isinstance(value, dict):
            return str(value or "")
        for code, text in value.items():
            if code != base and text:
                localization.setdefault(code, {}).setdefault(uuid, {})[key] = [str(text)]
        return str(value.get(base) or next(iter(value.values()), "") or "")

    nodes: list[dict[str, Any]] = []
    for action_set in flow.get("action_sets") or []:
        actions = []
        for action in action_set.get("actions") or []:
            actions.append(_action(action, localized, base, localization))
        nodes.append(
            {
                "uuid": action_set.get("uuid"),
                "actions": actions,
                "exits": [
                    {
                        "uuid": action_set.get("exit_uuid") or f"{action_set.get('uuid')}-exit",
                        "destination_uuid": action_set.get("destination"),
                    }
                ],
            }
        )
    for rule_set in flow.get("rule_sets") or []:
        nodes.append(_node(rule_set, localized))
    entry = flow.get("entry")
    nodes.sort(key=lambda node: node.get("uuid") != entry)
    return {
        "uuid": metadata.get("uuid") or flow.get("uuid"),
        "name": metadata.get("name") or flow.get("name") or "",
        "spec_version": f"{flow.get('version') or '11'} (legacy)",
        "language": base,
        "type": FLOW_TYPES.get(str(flow.get("flow_type") or "F"), "messaging"),
        "revision": metadata.get("revision") or 1,
        "expire_after_minutes": metadata.get("expires") or 10080,
        "localization": localization,
        "nodes": nodes,
    }


def _action(
    action: dict[str, Any], localized: Any, base: str, localization: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    kind = str(action.get("type") or "")
    uuid = str(action.get("uuid") or "")
    converted: dict[str, Any] = {"uuid": uuid, "type": ACTIONS.get(kind, f"legacy:{kind}")}
    if kind == "reply":
        converted["text"] = localized(action.get("msg"), uuid, "text")
        replies: list[str] = []
        translated: dict[str, list[str]] = {}
        for reply in action.get("quick_replies") or []:
            texts = reply if isinstance(reply, dict) else {base: reply}
            replies.append(str(texts.get(base) or next(iter(texts.values()), "")))
            for code, text in texts.items():
                if code != base:
                    translated.setdefault(code, []).append(str(text or ""))
        for code, texts in translated.items():
            localization.setdefault(code, {}).setdefault(uuid, {})["quick_replies"] = texts
        converted["quick_replies"] = replies
        if action.get("media"):
            converted["attachments"] = ["(media)"]
    elif kind == "save":
        converted["field"] = {"key": action.get("field"), "name": action.get("label")}
        converted["value"] = action.get("value")
    elif kind == "lang":
        converted["language"] = action.get("lang")
    elif kind == "flow":
        converted["flow"] = action.get("flow") or {}
    return converted


def _node(rule_set: dict[str, Any], localized: Any) -> dict[str, Any]:
    uuid = str(rule_set.get("uuid") or "")
    kind = str(rule_set.get("ruleset_type") or "")
    categories: dict[str, dict[str, Any]] = {}
    cases, exits = [], []
    default = None
    for rule in rule_set.get("rules") or []:
        rule_uuid = str(rule.get("uuid") or "")
        name = localized(rule.get("category"), rule_uuid, "name")
        category = categories.get(name)
        if category is None:
            category = {"uuid": rule_uuid, "name": name, "exit_uuid": f"{rule_uuid}-exit"}
            categories[name] = category
            exits.append(
                {"uuid": category["exit_uuid"], "destination_uuid": rule.get("destination")}
            )
        test = rule.get("test") or {}
        test_type = str(test.get("type") or "")
        if test_type == "true":
            default = category["uuid"]
            continue
        arguments: list[str] = []
        if test_type == "between":
            arguments = [str(test.get("min")), str(test.get("max"))]
        elif test_type in ("subflow",):
            arguments = [str(test.get("exit_type") or "completed")]
        elif "test" in test:
            arguments = [localized(test.get("test"), f"{rule_uuid}-case", "arguments")]
        cases.append(
            {
                "uuid": f"{rule_uuid}-case",
                "type": TESTS.get(test_type, f"legacy:{test_type}"),
                "arguments": arguments,
                "category_uuid": category["uuid"],
            }
        )
    if default is None:
        default = f"{uuid}-other"
        categories["Other"] = {"uuid": default, "name": "Other", "exit_uuid": f"{uuid}-other-exit"}
        exits.append({"uuid": f"{uuid}-other-exit", "destination_uuid": None})
    router: dict[str, Any] = {
        "type": "random" if kind == "random" else "switch",
        "operand": _operand(rule_set.get("operand")),
        "cases": cases,
        "categories": list(categories.values()),
        "default_category_uuid": default,
    }
    if rule_set.get("label"):
        router["result_name"] = rule_set["label"]
    if kind.startswith("wait_"):
        router["wait"] = {"type": "msg"}
    actions: list[dict[str, Any]] = []
    config = rule_set.get("config") or {}
    if kind == "subflow":
        actions.append({"uuid": f"{uuid}-flow", "type": "enter_flow", "flow": config.get("flow")})
    elif kind in ("webhook", "resthook"):
        actions.append({"uuid": f"{uuid}-call", "type": f"call_{kind}"})
    elif kind not in ("wait_message", "flow_field", "contact_field", "expression", "random"):
        actions.append({"uuid": f"{uuid}-{kind}", "type": f"legacy:{kind}"})
    return {"uuid": uuid, "actions": actions, "router": router, "exits": exits}
