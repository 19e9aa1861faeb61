"""Workers (coordinators only): invite one by name for some neighbourhoods, see who works
where and since when, and revoke one, whose dashboard sessions then end at once.

The rules and the audit entries are `bot.community.staff`'s, the same the command line
(`buurtbot workers`) uses. A worker who is no coordinator gets 403, also for the forms.
"""

from __future__ import annotations

from aiohttp import web

from bot.community import audit, staff
from bot.community.common import record_id
from bot.dashboard.forms import Form
from bot.dashboard.keys import DASHBOARD, LANGUAGE
from bot.dashboard.render import page
from bot.dashboard.scope import viewer
from bot.i18n.format import format_day


def coordinators_only(request: web.Request) -> web.Response | None:
    """403 for anyone but a coordinator (`Viewer.admin`); None for a coordinator."""
    if viewer(request).admin:
        return None
    return page(request, "error.html", status=403, reason="coordinators")


async def workers_page(request: web.Request) -> web.StreamResponse:
    if (refused := coordinators_only(request)) is not None:
        return refused
    return await _render(request, Form.starting({}), revoked=request.query.get("revoked", ""))


async def invite(request: web.Request) -> web.StreamResponse:
    if (refused := coordinators_only(request)) is not None:
        return refused
    state = request.app[DASHBOARD]
    app = state.app
    t = state.catalogs(request[LANGUAGE])
    form = await Form.posted(request)
    keys = form.values("neighbourhoods")
    for field, message in staff.invite_problems(
        t, app.deployment, form.value("name"), keys
    ).items():
        form.refuse(field, message)
    if not form.ok:
        return await _render(request, form, status=400)
    async with app.database.transaction() as db:
        actor = await audit.actor_of(
            db, app.settings, viewer(request).participant_id, audit.DASHBOARD
        )
        code = await staff.invite(db, app.settings, actor, form.value("name"), keys)
    return await _render(
        request,
        Form.starting({}),
        code=code,
        invited=form.value("name"),
        places=_names(request, keys),
    )


async def revoke_page(request: web.Request) -> web.StreamResponse:
    """Ask before revoking: a misplaced click must not end someone's work."""
    if (refused := coordinators_only(request)) is not None:
        return refused
    app = request.app[DASHBOARD].app
    person_id = record_id(request.match_info["id"])
    async with app.database.transaction() as db:
        listed = {w.id: w for w in await staff.workers(db, app.settings)}
    found = listed.get(person_id) if person_id is not None else None
    if found is None:
        return page(request, "error.html", status=404, reason="not_found")
    return page(request, "worker_revoke.html", worker=found)


async def revoke(request: web.Request) -> web.StreamResponse:
    if (refused := coordinators_only(request)) is not None:
        return refused
    app = request.app[DASHBOARD].app
    person_id = record_id(request.match_info["id"])
    async with app.database.transaction() as db:
        person = None if person_id is None else await staff.worker(db, person_id)
        if person is None:
            return page(request, "error.html", status=404, reason="not_found")
        actor = await audit.actor_of(
            db, app.settings, viewer(request).participant_id, audit.DASHBOARD
        )
        await staff.revoke(db, app.settings, actor, person)
    raise web.HTTPSeeOther(f"/workers?revoked={person_id}")


async def _actor(request: web.Request, db) -> audit.Actor:
    app = request.app[DASHBOARD].app
    return await audit.actor_of(db, app.settings, viewer(request).participant_id, audit.DASHBOARD)


def _names(request: web.Request, keys: list[str]) -> str:
    deployment = request.app[DASHBOARD].app.deployment
    found = [n.name for key in keys if (n := deployment.neighbourhood(key)) is not None]
    return ", ".join(found)


async def _render(
    request: web.Request,
    form: Form,
    *,
    status: int = 200,
    code: str = "",
    invited: str = "",
    places: str = "",
    revoked: str = "",
) -> web.Response:
    state = request.app[DASHBOARD]
    app = state.app
    language = request[LANGUAGE]
    async with app.database.transaction() as db:
        listed = await staff.workers(db, app.settings)
    rows = [
        (
            w,
            _names(request, w.neighbourhoods),
            format_day(w.since, language, app.settings.timezone, with_year=True) if w.since else "",
        )
        for w in listed
    ]
    return page(
        request,
        "workers.html",
        status=status,
        form=form,
        neighbourhoods=[(n.key, n.name) for n in app.deployment.neighbourhoods],
        rows=rows,
        code=code,
        # The chat opened with `/start w-CODE`, which works as `/worker CODE`.
        link=state.start_link.format(payload=f"w-{code}") if code and state.start_link else "",
        invited=invited,
        invited_places=places,
        revoked=revoked,
    )
