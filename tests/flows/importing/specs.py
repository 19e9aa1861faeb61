"""Small flow definitions written after goflow's flow specification, one construct each.

Each helper gives the JSON of one piece (a node, a wait, a split) with uuids made from
names, so a test reads like the flow it builds.
"""

from __future__ import annotations

import uuid
from typing import Any


def u(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"buurtbot-test/{name}"))


def send(name: str, text: str, quick_replies: list[str] | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {"uuid": u(name), "type": "send_msg", "text": text}
    if quick_replies:
        action["quick_replies"] = quick_replies
    return action


def node(name: str, actions: list[dict[str, Any]], to: str | None) -> dict[str, Any]:
    return {
        "uuid": u(name),
        "actions": actions,
        "exits": [{"uuid": u(f"{name}/exit"), "destination_uuid": u(to) if to else None}],
    }


def router_node(
    name: str,
    result: str | None,
    categories: list[tuple[str, str | None]],
    cases: list[tuple[str, list[str], str]],
    *,
    operand: str = "@input.text",
    wait: bool = True,
    default: str | None = "Other",
    actions: list[dict[str, Any]] | None = None,
    kind: str = "switch",
) -> dict[str, Any]:
    """A router node: categories as (name, destination node), cases as (type, args, category)."""
    router: dict[str, Any] = {
        "type": kind,
        "operand": operand,
        "categories": [
            {"uuid": u(f"{name}/c/{c}"), "name": c, "exit_uuid": u(f"{name}/e/{c}")}
            for c, _ in categories
        ],
        "cases": [
            {
                "uuid": u(f"{name}/case/{i}"),
                "type": t,
                "arguments": a,
                "category_uuid": u(f"{name}/c/{c}"),
            }
            for i, (t, a, c) in enumerate(cases)
        ],
    }
    if default:
        router["default_category_uuid"] = u(f"{name}/c/{default}")
    if result:
        router["result_name"] = result
    if wait:
        router["wait"] = {"type": "msg"}
    return {
        "uuid": u(name),
        "actions": actions or [],
        "router": router,
        "exits": [
            {"uuid": u(f"{name}/e/{c}"), "destination_uuid": u(to) if to else None}
            for c, to in categories
        ],
    }


def flow(name: str, nodes: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {
        "uuid": u(f"flow/{name}"),
        "name": name,
        "spec_version": "13.1.0",
        "language": "eng",
        "type": "messaging",
        "revision": 1,
        "expire_after_minutes": 10080,
        "localization": {},
        "nodes": nodes,
        **fields,
    }


def export(*flows: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"version": "13", "site": "https://rapidpro.example.org", "flows": list(flows), **fields}
