"""Send: compose an invitation to an activity or a poll (a conversation) for an
audience, see who it reaches and how it reads in each language, send it now or at a
time, and watch each batch go out (or stop it before it does).

Like the chat's `/invite` and `buurtbot broadcast`, it calls `bot.community.broadcasts`:
`plan` for the reach, the previews and the refusals, `send` to queue, `stop_batch` to
stop. This module only reads the form and shows the answers; a neighbourhood, activity
or batch outside the viewer's scope gets 403.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.community import audit, broadcasts, roles
from bot.community.activities import parse_starts, title_in
from bot.community.common import record_id, when
from bot.community.invitations import Audience
from bot.dashboard.forms import Form
from bot.dashboard.keys import DASHBOARD, LANGUAGE
from bot.dashboard.languages import RIGHT_TO_LEFT, own_name
from bot.dashboard.render import page
from bot.dashboard.scope import choices, forbidden, viewer
from bot.flows.buttons import button_rows
from bot.flows.events import Ask, Say
from bot.flows.labels import Labels
from bot.flows.numbered import numbered
from bot.i18n.translator import Translator
from bot.reports.protection import Cell
from bot.storage.models.community import Activity

ACTIVITY, FLOW = "activity:", "flow:"
NOW, LATER = "now", "later"


@dataclass
class Composed:
    """The form read: the request for `broadcasts`, or the form's own refusals."""

    form: Form
    request: broadcasts.Request | None = None
    chosen: bool = False
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Preview:
    """How the first messages read in one language, on Telegram and on Signal."""

    code: str
    name: str
    direction: str
    people: Cell
    telegram: list[dict[str, Any]]
    signal: list[str]


def _t(request: web.Request) -> Translator:
    return request.app[DASHBOARD].catalogs(request[LANGUAGE])


async def _options(request: web.Request, db: AsyncSession) -> dict[str, Any]:
    """What the viewer may pick: activities they may invite to, the sendable flows, their
    neighbourhoods, the age groups, interests and languages."""
    state = request.app[DASHBOARD]
    app = state.app
    who = viewer(request)
    language = request[LANGUAGE]
    t = _t(request)
    labels = Labels(app.library, app.deployment, t)
    activities = []
    for activity in await broadcasts.activities_to_invite_to(db, who.neighbourhoods):
        start = when(app.parts, activity.starts_at, language) if activity.starts_at else ""
        activities.append((f"{ACTIVITY}{activity.id}", f"{title_in(activity, language)} — {start}"))
    flows = [
        (f"{FLOW}{fid}", t.pgettext(f"{fid}:title", app.library[fid].title))
        for fid in await broadcasts.sendable_flows(db, app.library, who.neighbourhoods)
    ]
    return {
        "activities": activities,
        "flows": flows,
        "neighbourhoods": choices(request),
        "age_groups": [
            (code, labels.profile("age_group", code))
            for code in broadcasts.profile_values(app.library, "age_group")
        ],
        "interests": [
            (code, labels.profile("interests", code))
            for code in broadcasts.profile_values(app.library, "interests")
        ],
        "languages": [(code, own_name(code)) for code in app.settings.language_list],
    }


def _read(request: web.Request, form: Form, options: dict[str, Any]) -> Composed:
    """The posted (or typed so far) form as a request; a forged neighbourhood raises
    Forbidden-like `roles.Refused`; other unknown values are refused beside their field."""
    t = _t(request)
    settings = request.app[DASHBOARD].app.settings
    found = Composed(form, options=options)
    what = form.value("what")
    activity_id: int | None = None
    flow_id: str | None = None
    if what.startswith(ACTIVITY):
        activity_id = record_id(what.removeprefix(ACTIVITY))
        if activity_id is None:
            form.refuse("what", t.gettext("Choose from the list."))
    elif what.startswith(FLOW):
        flow_id = what.removeprefix(FLOW)
    elif what:
        form.refuse("what", t.gettext("Choose from the list."))
    found.chosen = bool(what)
    who = viewer(request)
    deployment = request.app[DASHBOARD].app.deployment
    places = form.values("neighbourhood")
    for key in places:
        if deployment.neighbourhood(key) is None or not who.may_see(key):
            raise roles.Refused(f"neighbourhood {key!r} outside the viewer's scope")
    for name, known in (
        ("age_group", options["age_groups"]),
        ("interest", options["interests"]),
        ("language", options["languages"]),
    ):
        codes = {code for code, _ in known}
        if any(value not in codes for value in form.values(name)):
            form.refuse(name, t.gettext("Choose from the list."))
    at: datetime | None = None
    if form.value("when") == LATER:
        typed = form.value("at")
        try:
            at = parse_starts(typed, settings.timezone) if typed else None
        except ValueError:
            at = None
        if at is None:
            form.refuse("at", t.gettext("Give a date and a time, for example 12-06-2027 10:00."))
    found.request = broadcasts.Request(
        activity_id=activity_id,
        flow_id=flow_id,
        audience=Audience.of(
            neighbourhoods=places,
            age_groups=form.values("age_group"),
            interests=form.values("interest"),
            languages=form.values("language"),
        ),
        at=at,
    )
    return found


def _previews(request: web.Request, plan: broadcasts.Plan) -> list[Preview]:
    """The first messages in each language of the reach, drawn by the channels' own
    rendering: Telegram's button rows, Signal's numbered options."""
    app = request.app[DASHBOARD].app
    parts = app.parts
    found = []
    for code, people in plan.shown.languages:
        messages = broadcasts.preview(parts, plan.request, plan.activity, code)
        telegram: list[dict[str, Any]] = []
        signal: list[str] = []
        for message in messages:
            if isinstance(message, Ask):
                rows = [[button.label for button in row] for row in button_rows(message)]
                telegram.append({"text": message.text.strip(), "rows": rows})
                signal.append(numbered(message, parts.translator(code)))
            elif isinstance(message, Say):
                telegram.append({"text": message.text.strip(), "rows": []})
                signal.append(message.text.strip())
        direction = "rtl" if code in RIGHT_TO_LEFT else "ltr"
        found.append(Preview(code, own_name(code), direction, people, telegram, signal))
    return found


def _summary_values(
    request: web.Request, composed: Composed, plan: broadcasts.Plan | None
) -> dict[str, Any]:
    app = request.app[DASHBOARD].app
    language = request[LANGUAGE]
    values: dict[str, Any] = {
        "plan": plan,
        "chosen": composed.chosen,
        "previews": [],
        "goes_at": None,
        "quiet": app.settings.quiet_hours.strip().replace("-", "–"),
        "weekly_limit": app.settings.weekly_broadcast_limit,
    }
    if plan is not None:
        values["previews"] = _previews(request, plan)
        if plan.goes_at is not None and plan.due_at is not None and plan.goes_at > plan.due_at:
            values["goes_at"] = when(app.parts, plan.goes_at, language)
        values["language_names"] = {code: own_name(code) for code in plan.per_language}
    return values


async def _composed(
    request: web.Request, form: Form, *, always: bool = False
) -> tuple[Composed, broadcasts.Plan | None]:
    """The form read and, when something is chosen (or `always`), planned: its refusals
    put beside their fields. Nothing is queued."""
    app = request.app[DASHBOARD].app
    who = viewer(request)
    t = _t(request)
    async with app.database.transaction() as db:
        options = await _options(request, db)
        composed = _read(request, form, options)
        plan = None
        if composed.request is not None and (composed.chosen or always):
            scope = who.neighbourhoods
            plan = await broadcasts.plan(db, app.parts, composed.request, allowed=scope)
            for refusal in plan.refusals:
                form.refuse(refusal.field, refusal.text(t))
    return composed, plan


def _starting(request: web.Request) -> Form:
    who = viewer(request)
    values: dict[str, str | list[str]] = {"when": NOW}
    # `?what=flow:ID`, or the links of other pages: `?flow=poll-7`, `?activity=12`.
    wanted = request.query.get("what", "")
    if request.query.get("flow"):
        wanted = FLOW + request.query["flow"]
    elif request.query.get("activity"):
        wanted = ACTIVITY + request.query["activity"]
    if wanted:
        values["what"] = wanted
    if who.neighbourhoods is not None and len(who.neighbourhoods) == 1:
        values["neighbourhood"] = list(who.neighbourhoods)
    return Form.starting(values)


async def send_page(request: web.Request) -> web.StreamResponse:
    """The composer, and the batches sent so far."""
    form = _starting(request)
    try:
        composed, plan = await _composed(request, form)
    except roles.Refused:
        return forbidden(request)
    form.errors.clear()  # a fresh page shows no errors until the worker sends
    return await _page(request, composed, plan, sent=request.query.get("sent", ""))


async def _page(
    request: web.Request,
    composed: Composed,
    plan: broadcasts.Plan | None,
    *,
    sent: str = "",
    status: int = 200,
) -> web.Response:
    app = request.app[DASHBOARD].app
    who = viewer(request)
    async with app.database.transaction() as db:
        found = await broadcasts.batches(db, who.neighbourhoods)
        titles = await _titles(request, db, found)
    shown = _shown_batches(request, found, titles)
    return page(
        request,
        "send.html",
        status=status,
        form=composed.form,
        options=composed.options,
        batches=shown,
        just_sent=next((b for b in shown if b["id"] == sent), None),
        stopped=request.query.get("stopped", ""),
        **_summary_values(request, composed, plan),
    )


async def summary_part(request: web.Request) -> web.StreamResponse:
    """The reach, its split by language and the previews, for htmx as the form changes."""
    form = Form.starting({key: request.query.getall(key) for key in request.query})
    try:
        composed, plan = await _composed(request, form)
    except roles.Refused:
        return forbidden(request)
    return page(
        request, "_send_summary.html", form=form, **_summary_values(request, composed, plan)
    )


async def send(request: web.Request) -> web.StreamResponse:
    """Queue it, or show the form again with the refusals beside their fields."""
    app = request.app[DASHBOARD].app
    who = viewer(request)
    form = await Form.posted(request)
    try:
        composed, plan = await _composed(request, form, always=True)
        if not form.ok or composed.request is None:
            return await _page(request, composed, plan, status=422)
        async with app.database.transaction() as db:
            actor = await audit.actor_of(db, app.settings, who.participant_id, audit.DASHBOARD)
            plan, sent = await broadcasts.send(
                db, app.parts, composed.request, actor, allowed=who.neighbourhoods
            )
    except roles.Refused:
        return forbidden(request)
    if sent is None:  # something changed since it was checked a moment ago
        for refusal in plan.refusals:
            form.refuse(refusal.field, refusal.text(_t(request)))
        return await _page(request, composed, plan, status=422)
    raise web.HTTPSeeOther(f"/send?sent={sent.batch_id}#sent")


def _shown_batches(
    request: web.Request, found: list[broadcasts.Batch], titles: dict[int, str]
) -> list[dict[str, Any]]:
    """Each batch as the page shows it: what, where, when, and the outbox's numbers."""
    app = request.app[DASHBOARD].app
    language = request[LANGUAGE]
    t = _t(request)
    names = {n.key: n.name for n in app.deployment.neighbourhoods}
    shown = []
    for batch in found:
        if batch.flow_id:
            flow = app.library.get(batch.flow_id)
            what = t.pgettext(f"{batch.flow_id}:title", flow.title) if flow else batch.flow_id
        else:
            what = titles.get(batch.activity_id or 0) or t.gettext("Activity {id}").format(
                id=batch.activity_id
            )
        counts = batch.progress.counts
        next_due = batch.progress.next_due
        shown.append(
            {
                "id": batch.batch_id,
                "kind": batch.kind,
                "poll": batch.kind == broadcasts.POLL_KIND,
                "flow_id": batch.flow_id,
                "what": what,
                "where": ", ".join(names.get(key, key) for key in batch.neighbourhoods),
                "created": when(app.parts, batch.created_at, language),
                "next_due": when(app.parts, next_due, language) if next_due else "",
                "waiting": counts.get("queued", 0) + counts.get("sending", 0),
                "sent": counts.get("sent", 0),
                "failed": counts.get("failed", 0) + counts.get("dead", 0),
                "unreachable": counts.get("unreachable", 0),
                "cancelled": counts.get("cancelled", 0),
                "total": batch.progress.total,
                "stoppable": batch.stoppable,
            }
        )
    return shown


async def batches_part(request: web.Request) -> web.StreamResponse:
    """The batches alone, for htmx to refresh while they go out."""
    app = request.app[DASHBOARD].app
    who = viewer(request)
    async with app.database.transaction() as db:
        found = await broadcasts.batches(db, who.neighbourhoods)
        titles = await _titles(request, db, found)
    return page(request, "_send_batches.html", batches=_shown_batches(request, found, titles))


async def _titles(
    request: web.Request, db: AsyncSession, found: list[broadcasts.Batch]
) -> dict[int, str]:
    language = request[LANGUAGE]
    titles = {}
    for batch in found:
        if batch.activity_id and batch.activity_id not in titles:
            activity = await db.get(Activity, batch.activity_id)
            if activity is not None:
                titles[batch.activity_id] = title_in(activity, language)
    return titles


async def stop(request: web.Request) -> web.StreamResponse:
    """Stop what of a batch has not gone out; 403 for a batch outside the viewer's scope."""
    app = request.app[DASHBOARD].app
    who = viewer(request)
    batch_id = request.match_info["batch"]
    try:
        async with app.database.transaction() as db:
            actor = await audit.actor_of(db, app.settings, who.participant_id, audit.DASHBOARD)
            stopped = await broadcasts.stop_batch(db, batch_id, actor, allowed=who.neighbourhoods)
    except roles.Refused:
        return forbidden(request)
    raise web.HTTPSeeOther(f"/send?stopped={stopped}#batches")
