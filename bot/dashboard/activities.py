"""Activities: the upcoming ones in the viewer's neighbourhoods with who comes (counts
only), and making, changing and cancelling one.

The page translates and decides nothing: the fields are checked by
`bot.community.activity_fields.check_activity` (as in the chat and `buurtbot activities
add`), an activity is made by `activities.add_activity`, changed by
`manage.update_activity` (people who come are told of a new time or place) and cancelled
by `changes.cancel_activity` (they are told; queued invitations and reminders stop).
Those write the audit log. Who may act on an activity is `roles.may_act_on`; anything
outside the viewer's neighbourhoods is 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.community import audit, changes, roles
from bot.community.activities import add_activity, counts, places_text, title_in, upcoming
from bot.community.activity_fields import (
    AUDIENCE,
    Checked,
    check_activity,
    missing_translations,
    profile_options,
    profile_step,
)
from bot.community.activity_fields import ONBOARDING as ONBOARDING_FLOW
from bot.community.common import as_worker_text, get_record, localised, when
from bot.community.manage import update_activity
from bot.dashboard.forms import Form
from bot.dashboard.keys import DASHBOARD, LANGUAGE
from bot.dashboard.languages import own_name
from bot.dashboard.render import page
from bot.dashboard.scope import choices, forbidden, viewer
from bot.flows.labels import Labels
from bot.reports.protection import Cell
from bot.storage.models import utcnow
from bot.storage.models.community import DRAFT, PLANNED, Activity


@dataclass
class Listed:
    """One upcoming activity as the list shows it: words and protected counts."""

    activity: Activity
    title: str
    when: str
    where: str
    going: str
    maybe: str
    not_going: str
    waiting: str
    invited: str
    missing: list[str]


def _languages(settings) -> list[str]:
    """The offered languages, the default (the original text) first."""
    default = settings.default_language
    return [default, *[code for code in settings.language_list if code != default]]


def _audience_choices(request: web.Request) -> dict[str, list[tuple[str, str]]]:
    """Age groups and interests, as residents choose them in the onboarding."""
    state = request.app[DASHBOARD]
    app = state.app
    labels = Labels(app.library, app.deployment, state.catalogs(request[LANGUAGE]))
    found = {}
    for field in AUDIENCE:
        key = profile_step(app.library, field)
        named = labels.options(ONBOARDING_FLOW, key) if key else {}
        found[field] = [
            (code, named.get(code, code)) for code in profile_options(app.library, field)
        ]
    return found


async def activities_page(request: web.Request) -> web.StreamResponse:
    state = request.app[DASHBOARD]
    app = state.app
    who = viewer(request)
    language = request[LANGUAGE]
    t = state.catalogs(language)
    async with app.database.transaction() as db:
        found = await upcoming(
            db, allowed=who.neighbourhoods, statuses=(PLANNED, DRAFT), dated_only=False
        )
        numbers = await counts(db, [a.id for a in found])
        notice = await _notice(request, db, language)
    listed = []
    for activity in found:
        entry = numbers[activity.id]
        listed.append(
            Listed(
                activity=activity,
                title=title_in(activity, language),
                when=when(app.parts, activity.starts_at, language) if activity.starts_at else "",
                where=activity.place,
                # As on the overview: 1 to 4 people are not a number.
                going=Cell.of(entry.going).text(t),
                maybe=Cell.of(entry.maybe).text(t),
                not_going=Cell.of(entry.not_going).text(t),
                waiting=Cell.of(entry.waiting).text(t),
                invited=Cell.of(entry.invited).text(t),
                missing=[
                    own_name(code) for code in missing_translations(activity.title, app.settings)
                ],
            )
        )
    return page(
        request,
        "activities.html",
        listed=listed,
        notice=notice,
        # Calling an activity off, not leaving a form ("Cancel" there is another word).
        cancel_label=t.pgettext("call an activity off", "Cancel"),
    )


async def _notice(request: web.Request, db, language: str) -> str:
    """What the last action did, after its redirect (`?saved=ID`, `?cancelled=ID`)."""
    state = request.app[DASHBOARD]
    t = state.catalogs(language)
    for key in ("saved", "cancelled"):
        if key not in request.query:
            continue
        activity = await get_record(db, Activity, request.query[key])
        if activity is None or not roles.may_act_on(
            viewer(request).neighbourhoods, activity.neighbourhoods
        ):
            return ""
        title = title_in(activity, language)
        if key == "cancelled":
            return t.gettext(
                '"{title}" is cancelled. Everyone who said they would come or maybe gets a '
                "message in their language."
            ).format(title=title)
        if activity.starts_at is None:
            return t.gettext('Saved: "{title}".').format(title=title)
        return t.gettext('Saved: "{title}" on {when}.').format(
            title=title, when=when(state.app.parts, activity.starts_at, language)
        )
    return ""


# ---- the form ----------------------------------------------------------------------------


def _starting(request: web.Request, activity: Activity) -> Form:
    """The form filled with an activity as it is."""
    settings = request.app[DASHBOARD].app.settings
    values: dict[str, str | list[str]] = {}
    default = settings.default_language
    for name in ("title", "description"):
        text = getattr(activity, name) or {}
        for code in _languages(settings):
            if code == default:
                values[f"{name}_{code}"] = localised(text, code) if text else ""
            elif isinstance(text, dict):
                values[f"{name}_{code}"] = str(text.get(code) or "")
    if activity.starts_at is not None:
        local = activity.starts_at.astimezone(ZoneInfo(settings.timezone))
        values["date"] = local.date().isoformat()
        values["time"] = local.strftime("%H:%M")
    values["place"] = activity.place
    who = viewer(request)
    values["neighbourhoods"] = [key for key in activity.neighbourhoods if who.may_see(key)]
    values["age_groups"] = list(activity.age_groups or [])
    values["interests"] = list(activity.interests or [])
    values["capacity"] = str(activity.capacity) if activity.capacity else ""
    return Form.starting(values)


def _form_page(
    request: web.Request,
    form: Form,
    activity: Activity | None = None,
    status: int = 200,
    notice: str = "",
) -> web.Response:
    state = request.app[DASHBOARD]
    settings = state.app.settings
    who = viewer(request)
    kept = []
    if activity is not None and who.neighbourhoods is not None:
        kept = [key for key in activity.neighbourhoods if key not in who.neighbourhoods]
    return page(
        request,
        "activity_form.html",
        status=status,
        form=form,
        activity=activity,
        title_shown=title_in(activity, request[LANGUAGE]) if activity is not None else "",
        languages=[(code, own_name(code)) for code in _languages(settings)],
        default_language=settings.default_language,
        default_name=own_name(settings.default_language),
        neighbourhoods=choices(request),
        kept=places_text(state.app.deployment, kept),
        audience=_audience_choices(request),
        notice=notice,
    )


def _check(request: web.Request, form: Form, kept: list[str]) -> Checked:
    """The community's check of what was posted; each problem beside its field."""
    state = request.app[DASHBOARD]
    app = state.app
    settings = app.settings
    default = settings.default_language
    checked = check_activity(
        state.catalogs(request[LANGUAGE]),
        settings=settings,
        deployment=app.deployment,
        allowed=viewer(request).neighbourhoods,
        title={code: form.value(f"title_{code}") for code in settings.language_list},
        description={code: form.value(f"description_{code}") for code in settings.language_list},
        day=form.value("date"),
        at=form.value("time"),
        place=form.value("place"),
        neighbourhoods=form.values("neighbourhoods"),
        kept_neighbourhoods=kept,
        age_groups=form.values("age_groups"),
        interests=form.values("interests"),
        library=app.library,
        capacity=form.value("capacity"),
    )
    for name, message in checked.problems.items():
        form.refuse(f"{name}_{default}" if name in ("title", "description") else name, message)
    return checked


async def new_activity_page(request: web.Request) -> web.StreamResponse:
    who = viewer(request)
    start: dict[str, Any] = {}
    if who.neighbourhoods is not None and len(who.neighbourhoods) == 1:
        start["neighbourhoods"] = list(who.neighbourhoods)
    return _form_page(request, Form.starting(start))


async def create_activity(request: web.Request) -> web.StreamResponse:
    state = request.app[DASHBOARD]
    app = state.app
    who = viewer(request)
    form = await Form.posted(request)
    checked = _check(request, form, [])
    if checked.fields is None:
        return _form_page(request, form, status=400)
    async with app.database.transaction() as db:
        actor = await audit.actor_of(db, app.settings, who.participant_id, audit.DASHBOARD)
        pid = who.participant_id
        activity = await add_activity(
            db,
            actor,
            checked.fields,
            created_by=pid,
            organisers=[(pid, "organiser")] if pid is not None else [],
        )
        made = activity.id
    raise web.HTTPSeeOther(f"/activities?saved={made}")


async def _changeable(request: web.Request, db) -> Activity:
    """The activity in the address if the viewer may act on it; otherwise the request
    ends here: 404 when there is none, 403 outside the viewer's neighbourhoods, 409 when
    it is over or cancelled."""
    activity = await get_record(db, Activity, request.match_info["id"])
    if activity is None:
        raise _ending(page(request, "error.html", status=404, reason="not_found"))
    if not roles.may_act_on(viewer(request).neighbourhoods, activity.neighbourhoods):
        raise _ending(forbidden(request))
    if activity.status not in (PLANNED, DRAFT) or (
        activity.starts_at is not None and activity.starts_at <= utcnow()
    ):
        raise _ending(page(request, "activity_closed.html", status=409))
    return activity


def _ending(response: web.Response) -> web.HTTPException:
    """A rendered error page as the exception that ends the request (aiohttp sends it)."""
    kind = {403: web.HTTPForbidden, 404: web.HTTPNotFound, 409: web.HTTPConflict}
    return kind[response.status](text=response.text, content_type=response.content_type)


async def edit_activity_page(request: web.Request) -> web.StreamResponse:
    state = request.app[DASHBOARD]
    async with state.app.database.transaction() as db:
        activity = await _changeable(request, db)
        notice = ""
        if "approved" in request.query:
            t = request.app[DASHBOARD].catalogs(request[LANGUAGE])
            notice = t.gettext(
                "Approved. The young person is told in their language. Now give the activity "
                "a day, a time and a place."
            )
        return _form_page(request, _starting(request, activity), activity, notice=notice)


async def save_activity(request: web.Request) -> web.StreamResponse:
    state = request.app[DASHBOARD]
    app = state.app
    who = viewer(request)
    form = await Form.posted(request)
    async with app.database.transaction() as db:
        activity = await _changeable(request, db)
        allowed = who.neighbourhoods
        kept = [] if allowed is None else [k for k in activity.neighbourhoods if k not in allowed]
        checked = _check(request, form, kept)
        fields = checked.fields
        if fields is None:
            return _form_page(request, form, activity, status=400)
        actor = await audit.actor_of(db, app.settings, who.participant_id, audit.DASHBOARD)
        try:
            await update_activity(
                db,
                app.parts,
                activity,
                actor=actor,
                starts_at=fields.starts_at,
                place=fields.place,
                capacity=fields.capacity,
                title=as_worker_text(fields.title),
                description=as_worker_text(fields.description),
                neighbourhoods=fields.neighbourhoods,
                age_groups=fields.age_groups,
                interests=fields.interests,
                plan=True,
            )
        except ValueError:  # the moment passed between the check and now
            t = state.catalogs(request[LANGUAGE])
            form.refuse("time", t.gettext("This moment is in the past. Choose a later one."))
            return _form_page(request, form, activity, status=400)
        saved = activity.id
    raise web.HTTPSeeOther(f"/activities?saved={saved}")


# ---- cancelling --------------------------------------------------------------------------


async def cancel_page(request: web.Request) -> web.StreamResponse:
    """Are you sure? Says who will be told (a protected count), and what stops."""
    state = request.app[DASHBOARD]
    app = state.app
    language = request[LANGUAGE]
    t = state.catalogs(language)
    async with app.database.transaction() as db:
        activity = await _changeable(request, db)
        entry = (await counts(db, [activity.id]))[activity.id]
        return page(
            request,
            "activity_cancel.html",
            activity=activity,
            title_shown=title_in(activity, language),
            when_shown=when(app.parts, activity.starts_at, language) if activity.starts_at else "",
            told=Cell.of(entry.going + entry.waiting + entry.maybe).text(t),
        )


async def cancel_activity(request: web.Request) -> web.StreamResponse:
    state = request.app[DASHBOARD]
    app = state.app
    who = viewer(request)
    async with app.database.transaction() as db:
        activity = await _changeable(request, db)
        actor = await audit.actor_of(db, app.settings, who.participant_id, audit.DASHBOARD)
        await changes.cancel_activity(db, app.parts, activity, actor=actor)
        cancelled = activity.id
    raise web.HTTPSeeOther(f"/activities?cancelled={cancelled}")
