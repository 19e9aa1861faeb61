"""The audit log (coordinators only): every worker action in the dashboard, the chat and
on the command line, newest first, a page at a time: who (the name they go by and their
pseudonym, the operator, or an erased person), what, about what, when, and where."""

from __future__ import annotations

import re

from aiohttp import web

from bot.community import audit
from bot.community.common import record_id
from bot.dashboard.keys import DASHBOARD, LANGUAGE
from bot.dashboard.render import page
from bot.dashboard.workers import coordinators_only
from bot.i18n.format import format_when
from bot.i18n.translator import Translator

PAGE = 50


async def audit_page(request: web.Request) -> web.StreamResponse:
    if (refused := coordinators_only(request)) is not None:
        return refused
    state = request.app[DASHBOARD]
    app = state.app
    language = request[LANGUAGE]
    t = state.catalogs(language)
    before = record_id(request.query.get("before"))
    async with app.database.transaction() as db:
        found = await audit.entries(db, limit=PAGE + 1, before=before)
    more = len(found) > PAGE
    found = found[:PAGE]
    names = {n.key: n.name for n in app.deployment.neighbourhoods}
    rows = [
        (
            entry,
            audit.label(t, entry.action),
            format_when(entry.at, language, app.settings.timezone, translator=t),
            _about(entry.subject, names, t),
        )
        for entry in found
    ]
    return page(
        request,
        "audit.html",
        rows=rows,
        older=found[-1].id if more and found else None,
        first_page=before is None,
        operator=audit.OPERATOR,
        erased=audit.ERASED,
    )


def _about(subject: str, names: dict[str, str], t: Translator) -> str:
    """An entry's subject as a coordinator reads it: neighbourhoods by their names, not
    their keys, and `*` (every neighbourhood) in words. The rest (`activity 12`,
    `P-7BKCN47PLW`) is shown as it was recorded."""
    named = _KEYS.sub(lambda found: names.get(found[0], found[0]), subject)
    return _EVERYWHERE.sub(t.gettext("the whole town"), named)


# A neighbourhood key as a word of its own (keys are lowercase words joined by "-").
_EVERYWHERE = re.compile(r"(?<!\S)\*(?!\S)")
_KEYS = re.compile(r"(?<![\w-])[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?![\w-])")
