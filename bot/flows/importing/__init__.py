"""Importing flows from RapidPro, TextIt and U-Report (goflow flow definitions).

`import_file` reads an export (`reading`, checked against `spec`; the legacy format
rewritten by `legacy`), turns each messaging flow into a Buurtbot flow (`building`, with
`questions` for the waits, `linking` for splits, contact fields and `next`, `routers`
for the cases, `actions` for what the nodes do, `graph` for what they share), adds
campaign events as follow-ups where they map (`campaigns`), checks the result as
`buurtbot flows check` does, writes the YAML files (`writing`) and the translations
(`translations`). Nothing is written unless the export could be read and at least one
flow passes the checks. Everything not carried over is reported as
`FILE: flow "NAME" node UUID: ...`.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.flows.check import check_folder
from bot.flows.importing.building import Builder, Built
from bot.flows.importing.campaigns import follow_ups
from bot.flows.importing.reading import ExportError, read_export
from bot.flows.importing.texts import flow_id, unique
from bot.flows.importing.translations import Written, write_translations
from bot.flows.importing.writing import flow_yaml, imported_before
from bot.flows.loader import flow_files
from bot.i18n import workflow

__all__ = ["ExportError", "Outcome", "import_file"]

MESSAGING = "messaging"
SKIPPED_TYPES = {
    "messaging_background": "a background flow",
    "voice": "a voice flow",
    "messaging_offline": "an offline survey (Surveyor) flow",
}


@dataclass
class Outcome:
    """What an import did: the flows written and the report lines."""

    imported: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    written: Written | None = None
    translations_skipped: bool = False


def _existing_ids(folder: Path) -> dict[str, Path]:
    """Ids of the flows already in `folder` that no import wrote."""
    found: dict[str, Path] = {}
    if not folder.is_dir():
        return found
    for path in flow_files(folder):
        if imported_before(path):
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            continue
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            found[data["id"]] = path
    return found


def import_file(
    path: Path,
    into: Path,
    project: workflow.Project | None = None,
    offered: list[str] | None = None,
) -> Outcome:
    """Import the export in `path` into the folder `into`.

    Translations go into `project`'s catalogs when `into` is the project's flows folder
    (where `buurtbot i18n extract` finds them). Raises ExportError for a file that is no
    export we can read; nothing is written then.
    """
    export = read_export(path)
    name = str(path)
    outcome = Outcome()

    def line(flow: str, node: str | None, text: str) -> None:
        where = f" node {node}" if node else ""
        outcome.lines.append(f'{name}: flow "{flow}"{where}: {text}')

    taken = set(_existing_ids(into))
    ids: dict[str, str] = {}
    chosen = []
    for index, flow in enumerate(export.flows):
        label = str(flow.get("name") or f"#{index + 1}")
        kind = str(flow.get("type") or MESSAGING)
        if kind != MESSAGING:
            what = SKIPPED_TYPES.get(kind, f"a flow of type {kind!r}")
            line(label, None, f"{what} is not imported: Buurtbot runs messaging flows")
            continue
        candidate = flow_id(label, f"flow-{str(flow.get('uuid') or index)[:8]}")
        if candidate in taken:
            candidate = f"{candidate}-imported"
        ids[str(flow.get("uuid") or f"#{index}")] = unique(candidate, taken, 64)
        chosen.append(flow)
    built: list[Built] = []
    fields: dict[str, str] = {}
    for flow in chosen:
        builder = Builder(flow, ids[str(flow.get("uuid") or f"#{export.flows.index(flow)}")], ids)
        result = builder.build()
        for key in builder.fields:
            fields.setdefault(key, result.id)
        built.append(result)
    added, missed = follow_ups(export.campaigns, ids, fields)
    for event in missed:
        outcome.lines.append(
            f'{name}: campaign "{event.campaign}" event {event.uuid}: not carried over: '
            f"{event.text}"
        )
    for result in built:
        if result.id in added:
            steps = result.data.pop("steps")
            result.data["followups"] = added[result.id]
            result.data["steps"] = steps
        for note in result.notes:
            line(result.name, note.node, note.text)
    texts = {result.id: flow_yaml(result, path.name, export.version) for result in built}
    good = _checked(into, texts, built, line)
    if not good:
        return outcome
    into.mkdir(parents=True, exist_ok=True)
    for result in good:
        (into / f"{result.id}.yaml").write_text(texts[result.id], encoding="utf-8")
        outcome.imported.append(result.id)
    if project is not None and _extracted(project, into):
        outcome.written = write_translations(project, good, offered or [])
    else:
        outcome.translations_skipped = True
    return outcome


def _checked(into: Path, texts: dict[str, str], built: list[Built], line) -> list[Built]:
    """The flows that pass `flows check` beside the flows already in `into`.

    A flow that does not is reported and left out (and so is a flow that needs it).
    """
    remaining = list(built)
    while remaining:
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            if into.is_dir():
                for existing in flow_files(into):
                    shutil.copy(existing, folder / existing.name)
            for result in remaining:
                (folder / f"{result.id}.yaml").write_text(texts[result.id], encoding="utf-8")
            _, problems = check_folder(folder)
        broken = {Path(p.path).stem for p in problems}
        ours = [r for r in remaining if r.id in broken]
        if not ours:
            return remaining
        for result in ours:
            for problem in problems:
                if Path(problem.path).stem == result.id:
                    line(result.name, None, f"not imported: line {problem.line}: {problem.message}")
        remaining = [r for r in remaining if r not in ours]
    return []


def _extracted(project: workflow.Project, folder: Path) -> bool:
    """Whether `buurtbot i18n extract` reads the flows in `folder` (babel.cfg's pattern)."""
    return (
        project.mapping.exists() and folder.resolve() == (project.root / "conversations").resolve()
    )
