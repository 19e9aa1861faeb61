"""An imported flow's translations into the gettext catalogs, through the i18n workflow.

The flow files are written first; then `extract` finds their texts (with the flow and
step as message context, as for every flow), `update` brings every catalog up to date
and creates the catalogs of the export's languages the deployment does not offer (they
are kept, not dropped), and the export's translations fill the entries that have none.
The base language's catalog gets the source texts themselves. `buurtbot i18n check`
then shows what is still to translate.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.flows.importing.building import Built
from bot.i18n import workflow


@dataclass
class Written:
    filled: dict[str, int] = field(default_factory=dict)  # language -> entries filled
    not_offered: list[str] = field(default_factory=list)


def write_translations(
    project: workflow.Project, flows: Iterable[Built], offered: list[str]
) -> Written:
    flows = list(flows)
    per_language: dict[str, dict[tuple[str, str | None], str]] = {}
    for built in flows:
        base = built.data.get("language")
        for context, (source, translations) in built.texts.items():
            if base and base != "und":
                per_language.setdefault(base, {})[(source, context)] = source
            for language, text in translations.items():
                if language != "und":
                    per_language.setdefault(language, {})[(source, context)] = text
    languages = list(dict.fromkeys([*project.languages(), *offered, *per_language]))
    # Babel's warnings about the bot's own code are for `i18n extract`, not for an import.
    with contextlib.redirect_stderr(io.StringIO()):
        workflow.write_template(project)
    workflow.update(project, languages)
    written = Written(not_offered=sorted(set(per_language) - set(offered)))
    for language, entries in per_language.items():
        written.filled[language] = workflow.fill_translations(project, language, entries)
    return written
