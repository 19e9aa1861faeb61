"""Reading an export: the file, its shape and its spec version, into flow definitions.

Accepted: a RapidPro / TextIt workspace export (`{"version": "13", "flows": [...],
"campaigns": [...]}`), a bare list of flow definitions, or one flow definition; spec
versions 11 to 14.x. Flows in the legacy format of versions 11 and 12 (`action_sets`,
`rule_sets`) are first rewritten into the node format of 13 (`legacy.py`), and the few
changes goflow's migrations made up to 14.x that matter here are applied on reading:
`base` as a language is `und` (13.2), text tests take one argument (14.3.1), a category
without a name is `Match` (14.0).

Anything else is refused with one line (`ExportError`), before anything is written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.flows.importing import spec
from bot.flows.importing.legacy import from_legacy

#: Larger files are refused unread: a workspace export with hundreds of flows is a few MB.
MAX_BYTES = 20 * 1024 * 1024
OLDEST, NEWEST = 11, 14
_VERSION = re.compile(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?$")
_ONE_ARGUMENT = {
    "has_only_text",
    "has_phrase",
    "has_only_phrase",
    "has_any_word",
    "has_all_words",
    "has_beginning",
    "has_pattern",
}


class ExportError(Exception):
    """The file is not an export we can read; the message is the one line to show."""


@dataclass
class Export:
    """The flow definitions (node format) and campaigns of one file."""

    flows: list[dict[str, Any]]
    campaigns: list[dict[str, Any]] = field(default_factory=list)
    version: str = ""


def major(version: Any) -> int | None:
    match = _VERSION.match(str(version).strip())
    return int(match[1]) if match else None


def read_export(path: Path) -> Export:
    """The export in `path`; ExportError with a one-line reason when it is none."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise ExportError(f"{path}: cannot read the file ({error.strerror})") from None
    if size > MAX_BYTES:
        raise ExportError(
            f"{path}: the file is {size // (1024 * 1024)} MB; an export can be at most "
            f"{MAX_BYTES // (1024 * 1024)} MB"
        )
    try:
        data = json.loads(path.read_bytes())
    except UnicodeDecodeError:
        raise ExportError(f"{path}: not a text file (a RapidPro export is JSON)") from None
    except json.JSONDecodeError as error:
        raise ExportError(
            f"{path}: not JSON (line {error.lineno}: {error.msg}); "
            "export the flows from RapidPro or TextIt as JSON"
        ) from None
    return parse_export(data, str(path))


def parse_export(data: Any, name: str) -> Export:
    if isinstance(data, dict) and isinstance(data.get("flows"), list):
        version = data.get("version")
        if version is not None:
            _check_version(version, name, "export")
        flows, campaigns = data["flows"], data.get("campaigns") or []
        version = str(version or "")
    elif isinstance(data, list):
        flows, campaigns, version = data, [], ""
    elif isinstance(data, dict) and ("nodes" in data or "action_sets" in data):
        flows, campaigns, version = [data], [], ""
    else:
        raise ExportError(
            f'{name}: not a RapidPro, TextIt or goflow export (no "flows" list, no flow definition)'
        )
    if not flows:
        raise ExportError(f"{name}: the export has no flows")
    if not all(isinstance(flow, dict) for flow in flows):
        raise ExportError(f'{name}: "flows" must be a list of flow definitions')
    read = [_flow(flow, name, index) for index, flow in enumerate(flows)]
    return Export(read, _campaigns(campaigns, name), version)


def _check_version(version: Any, name: str, what: str) -> int:
    number = major(version)
    if number is None or not OLDEST <= number <= NEWEST:
        raise ExportError(
            f"{name}: {what} version {version!r} is not supported "
            f"(RapidPro spec versions {OLDEST} to {NEWEST}.x are)"
        )
    return number


def _flow(flow: dict[str, Any], name: str, index: int) -> dict[str, Any]:
    metadata = flow.get("metadata")
    label = flow.get("name") or (metadata.get("name") if isinstance(metadata, dict) else None)
    if not isinstance(label, str) or not label:
        label = f"#{index + 1}"
    if "action_sets" in flow or "rule_sets" in flow:
        if "version" in flow:
            _check_version(flow["version"], name, f'flow "{label}": spec')
        legacy, problem = spec.validated(spec.LegacyFlow, flow)
        if legacy is None:
            raise ExportError(f'{name}: flow "{label}" is not a valid flow definition ({problem})')
        if not legacy["action_sets"] and not legacy["rule_sets"]:
            raise ExportError(f'{name}: flow "{label}" has no nodes')
        flow = from_legacy(legacy)
    elif "spec_version" in flow:
        _check_version(flow["spec_version"], name, f'flow "{label}": spec')
    elif "nodes" not in flow:
        raise ExportError(f'{name}: flow "{label}" is not a flow definition (no nodes)')
    checked, problem = spec.validated(spec.Flow, flow)
    if checked is None:
        raise ExportError(f'{name}: flow "{label}" is not a valid flow definition ({problem})')
    if not checked["nodes"]:
        raise ExportError(f'{name}: flow "{label}" has no nodes')
    _migrate(checked)
    return checked


def _campaigns(campaigns: Any, name: str) -> list[dict[str, Any]]:
    if not isinstance(campaigns, list):
        return []
    checked = []
    for index, campaign in enumerate(campaigns):
        data, problem = spec.validated(spec.Campaign, campaign)
        if data is None:
            raise ExportError(f"{name}: campaign #{index + 1} is not valid ({problem})")
        checked.append(data)
    return checked


def _migrate(flow: dict[str, Any]) -> None:
    """The changes of goflow's 13.x and 14.x migrations this importer relies on."""
    if len(flow["language"]) != 3:
        flow["language"] = "und"
    flow["localization"] = {
        code: texts for code, texts in flow["localization"].items() if len(code) == 3
    }
    for node in flow["nodes"]:
        router = node["router"]
        if router is None:
            continue
        for case in router["cases"]:
            if case["type"] in _ONE_ARGUMENT and len(case["arguments"]) > 1:
                case["arguments"] = [" ".join(case["arguments"])]
        for category in router["categories"]:
            if not category["name"]:
                category["name"] = "Match"
