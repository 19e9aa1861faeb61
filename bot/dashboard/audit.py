"""The audit log (coordinators only): every worker action in the dashboard, the chat and
on the command line, newest first, a page at a time: who (the name they go by and their
pseudonym, the operator, or an erased person), what, about what, when, and where."""

from __future__ import annotations

from aiohttp import web

from bot.community import audit
from bot.community.common import record_id
from bot.dashboard.keys import DASHBOARD, LANGUAGE
from bot.dashboard.render import page
from bot.dashboard.workers import coordinators_only
from bot.flows.labels import Labels
from bot.i18n.format import format_when

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
    labels = Labels(app.library, app.deployment, t, language=language)
    rows = [
        (
            entry,
            audit.label(t, entry.action),
            format_when(entry.at, language, app.settings.timezone, translator=t),
            audit.describe(entry.subject, t, names, labels.flow_title),
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
