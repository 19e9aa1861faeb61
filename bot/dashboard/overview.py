"""The overview: who takes part, answers this week against last, what is coming up."""

from __future__ import annotations

from aiohttp import web

from bot.community.activities import counts, title_in, upcoming
from bot.community.common import when
from bot.community.proposals import idea_of, open_proposals
from bot.dashboard.keys import DASHBOARD, LANGUAGE
from bot.dashboard.languages import own_name
from bot.dashboard.render import page
from bot.dashboard.scope import viewer
from bot.i18n.translator import Translator
from bot.outbox.status import status_counts
from bot.reports.aggregate import Cell, change
from bot.reports.overview import overview
from bot.storage.models import utcnow
from bot.storage.processes import JOBS, SIGNAL_EVENTS, TELEGRAM_UPDATES, ProcessState
from bot.storage.processes import overview as processes_overview

ACTIVITIES = 10
PROPOSALS = 10


async def overview_page(request: web.Request) -> web.StreamResponse:
    state = request.app[DASHBOARD]
    app = state.app
    who = viewer(request)
    language = request[LANGUAGE]
    t = state.catalogs(language)
    offered = app.settings.language_list
    numbers = await app.database.in_thread(
        lambda sync: overview(
            sync,
            deployment=app.deployment,
            translator=t,
            neighbourhoods=who.neighbourhoods,
            languages=offered,
            language_names={code: own_name(code) for code in offered},
            timezone=app.settings.timezone,
        )
    )
    async with app.database.transaction() as db:
        coming = (await upcoming(db, allowed=who.neighbourhoods))[:ACTIVITIES]
        answered = await counts(db, [a.id for a in coming])
        proposals = await open_proposals(db, who.neighbourhoods)
        in_flight = await _in_flight(db, t) if who.neighbourhoods is None else None
    # Which `buurtbot run` processes run, what each leads: for coordinators only.
    processes = _processes(await processes_overview(app.database), t) if who.admin else None
    return page(
        request,
        "overview.html",
        numbers=numbers,
        difference=change(numbers.last_week, numbers.this_week),
        activities=[
            (
                a,
                title_in(a, language),
                # In the town's own time and words, as the activities page and the chat.
                when(app.parts, a.starts_at, language) if a.starts_at else "",
                # As in the report's invitations section: 1 to 4 people are not a number.
                [
                    Cell.of(n).text(t)
                    for n in (answered[a.id].invited, answered[a.id].going, answered[a.id].maybe)
                ],
            )
            for a in coming
        ],
        proposals=[(p, idea_of(p)) for p in proposals[:PROPOSALS]],
        proposal_count=len(proposals),
        in_flight=in_flight,
        processes=processes,
        t=t,
    )


PROCESSES = 10


def _processes(states: list[ProcessState], t: Translator) -> list[dict[str, object]]:
    """The running processes and the last few stopped ones, as the table shows them:
    state, what it leads, seconds since its heartbeat, the parts that do not work."""
    now = utcnow()
    shown = [s for s in states if s.alive] + [s for s in states if not s.alive][:3]
    return [
        {
            "id": state.id,
            "host": state.host,
            "pid": state.pid,
            "state": "running"
            if state.alive
            else ("stopped" if state.stopped_at is not None else "gone"),
            "leads": [_role_names(t).get(role, role) for role in state.leads],
            "beat": max(0, round((now - state.heartbeat_at).total_seconds())),
            "failing": sorted(name for name, part in state.parts.items() if not part.get("ok")),
        }
        for state in shown[:PROCESSES]
    ]


async def _in_flight(db, t: Translator) -> dict[str, int]:
    """Messages waiting or being sent, per kind, named in the viewer's language."""
    names = _kind_names(t)
    found: dict[str, int] = {}
    for kind, statuses in (await status_counts(db)).items():
        waiting = statuses.get("queued", 0) + statuses.get("sending", 0)
        if waiting:
            found[names.get(kind, kind)] = waiting
    return found


def _kind_names(t: Translator) -> dict[str, str]:
    """The outbox's kinds (`bot.storage.models.outbox.KINDS`) as a coordinator says them."""
    return {
        "invitation": t.gettext("Invitations to activities"),
        "reminder": t.gettext("Reminders of activities"),
        "followup": t.gettext("Follow-ups after a conversation"),
        "feedback": t.gettext("Questions the day after an activity"),
        "notice": t.gettext("Changes to activities"),
        "broadcast": t.gettext("Polls and conversations sent"),
        "nudge": t.gettext("Reminders to finish a conversation"),
        "reply": t.gettext("Answers sent again"),
    }


def _role_names(t: Translator) -> dict[str, str]:
    """What one process leads (`bot.storage.processes`), as a coordinator says it."""
    return {
        TELEGRAM_UPDATES: t.gettext("Reads Telegram"),
        SIGNAL_EVENTS: t.gettext("Reads Signal"),
        JOBS: t.gettext("Scheduled jobs"),
    }


async def broadcasts_part(request: web.Request) -> web.StreamResponse:
    """The broadcasts block alone, for htmx to refresh every half minute."""
    state = request.app[DASHBOARD]
    who = viewer(request)
    in_flight = None
    if who.neighbourhoods is None:
        async with state.app.database.transaction() as db:
            in_flight = await _in_flight(db, state.catalogs(request[LANGUAGE]))
    return page(request, "_broadcasts.html", in_flight=in_flight)
