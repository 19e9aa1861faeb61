"""The audit log (coordinators only): every worker action in the dashboard, the chat and
on the command line, newest first, a page at a time: who (the name they go by and their
pseudonym, the operator, or an erased person), what, about what, when, and where."""

from __future__ import annotations

from aiohttp import web

from bot.community import audit
from bot.community.common import record_id
from bot.dashboard.keys import DASHBOARD, LANGUAGE
from bot.dashboard.parts import DashboardParts
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
            _about(entry.subject, names, t, app),
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


def _about(subject: str, names: dict[str, str], t: Translator, app: DashboardParts) -> str:
    """An entry's subject in the reader's language (`audit.describe`); a conversation by
    its title."""

    def flow_name(flow_id: str) -> str:
        flow = app.library.get(flow_id)
        return t.pgettext(f"{flow_id}:title", flow.title) if flow else flow_id

    return audit.describe(subject, t, names, flow_name)
