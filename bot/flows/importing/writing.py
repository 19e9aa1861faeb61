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


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def flow_yaml(built: Built, source: str, version: str) -> str:
    """The YAML file of a flow, with a header that says where it came from."""
    spec = built.data.get("_spec") or version or "?"
    header = (
        f'{MARK} {source}: RapidPro flow "{built.name}" ({built.uuid}), spec {spec},\n'
        "# by `buurtbot flows import`. Importing again replaces this file.\n"
        '# To finish it by hand, see docs/flows.md, "Importing flows".\n'
    )
    data = {k: v for k, v in built.data.items() if not k.startswith("_")}
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, indent=2)
    return header + body


def imported_before(path: Path) -> bool:
    """Whether `path` is a file an earlier import wrote (and may be replaced)."""
    try:
        with path.open(encoding="utf-8") as handle:
            return handle.readline().startswith(MARK)
    except OSError:
        return False
