"""Writing an imported flow as YAML, the way a person would write it by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.flows.importing.building import Built

#: The first line of every imported file: a later import may replace such a file.
MARK = "# Imported from"


class _Dumper(yaml.SafeDumper):
    """Block style, multi-line texts as `|` blocks, no aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Lists indented under their key, as in the shipped flows.
        return super().increase_indent(flow, False)


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


class _Inline(dict):
    """A small mapping written on one line, as people write options: `{value: a, label: A}`."""


def _inline(dumper: yaml.SafeDumper, value: _Inline) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value.items(), flow_style=True)


def _inlined(data: dict[str, Any]) -> dict[str, Any]:
    """The flow with options and conditions as one-line mappings."""
    steps = []
    for step in data.get("steps", []):
        step = dict(step)
        if "answer_key" in step:
            # Right under the kind, where a reader looks for what the step keeps.
            shared = step.pop("answer_key")
            step = {
                **{k: step[k] for k in ("key", "kind")},
                "answer_key": shared,
                **{k: v for k, v in step.items() if k not in ("key", "kind")},
            }
        if "options" in step:
            step["options"] = [_Inline(option) for option in step["options"]]
        if isinstance(step.get("next"), list):
            step["next"] = [
                {**rule, "when": _Inline(rule["when"])} if "when" in rule else rule
                for rule in step["next"]
            ]
        steps.append(step)
    return {**data, "steps": steps}


_Dumper.add_representer(str, _text)
_Dumper.add_representer(_Inline, _inline)


def flow_yaml(built: Built, source: str, version: str) -> str:
    """The YAML file of a flow, with a header that says where it came from."""
    spec = built.data.get("_spec") or version or "?"
    header = (
        f'{MARK} {source}: RapidPro flow "{built.name}" ({built.uuid}), spec {spec},\n'
        "# by `buurtbot flows import`. Importing again replaces this file.\n"
        '# To finish it by hand, see docs/flows.md, "Importing flows".\n'
    )
    data = _inlined({k: v for k, v in built.data.items() if not k.startswith("_")})
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, indent=2)
    return header + body


def imported_before(path: Path) -> bool:
    """Whether `path` is a file an earlier import wrote (and may be replaced)."""
    try:
        with path.open(encoding="utf-8") as handle:
            return handle.readline().startswith(MARK)
    except OSError:
        return False
