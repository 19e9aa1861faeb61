"""`/invite` in the chat: a worker chooses an activity and an audience, sees the reach and
a preview in each language, and sends now or later.

The checks and the queueing are `bot.community.broadcasts` (`plan`, `send`), the same as
for `buurtbot broadcast` and the dashboard; this module only asks and answers.
"""

from __future__ import annotations

import json
from typing import Any

from bot.community import audit, broadcasts, roles
from bot.community.activities import (
    label,
    language_options,
    local_moment,
    neighbourhood_options,
    title_in,
    upcoming,
)
from bot.community.common import log, record_id, when
from bot.community.invitations import (
    CONFIRM_FLOW,
    INVITE_FLOW,
    Audience,
    render_text,
)
from bot.conversation.extensions import Actions, Extensions
from bot.flows.engine import PREFILL
from bot.flows.state import State
from bot.flows.steps.dynamic_choice import option
from bot.flows.steps.language import language_name
from bot.i18n import bidi
from bot.storage.models import Conversation, utcnow
from bot.storage.models.community import DRAFT, PLANNED


async def start_invite(actions: Actions, argument: str) -> None:
    t = actions.t
    allowed = await roles.require_worker(actions, "/invite")
    parts = actions.parts
    language = actions.participant.language or parts.settings.default_language
    found = await upcoming(actions.session, allowed=allowed, statuses=(PLANNED, DRAFT))
    if not found:
        actions.say(
            t.gettext(
                "There are no upcoming activities to invite people to. Make one with /newactivity."
            )
        )
        return
    places = neighbourhood_options(parts.deployment, allowed)
    variables: dict[str, Any] = {
        "activities": [option(a.id, label(parts, a, language)) for a in found],
        "neighbourhoods": places,
        "languages": language_options(parts.settings),
    }
    prefill: dict[str, Any] = {}
    wanted = argument.strip().lstrip("#")
    if wanted.isdigit() and any(a.id == int(wanted) for a in found):
        prefill["activity"] = wanted
    elif len(found) == 1:
        prefill["activity"] = str(found[0].id)
    elif wanted:
        actions.say(t.gettext("There is no upcoming activity with that number. Choose one:"))
    if len(places) == 1:
        prefill["where"] = json.dumps([places[0]["value"]])
    if prefill:
        variables[PREFILL] = prefill
    await actions.start_flow(INVITE_FLOW, variables)


async def _plan(actions: Actions, what: str, request: broadcasts.Request) -> broadcasts.Plan | None:
    """The plan for the worker, checked again on the server; None when not theirs."""
    try:
        allowed = await roles.require_worker(actions, what)
        return await broadcasts.plan(actions.session, actions.parts, request, allowed=allowed)
    except roles.Refused as refused:
        log.warning("%s refused: %s", what, refused.reason)
        return None


async def invite_finished(actions: Actions, conversation: Conversation, state: State) -> None:
    t = actions.t
    values = state.values
    parts = actions.parts
    request = broadcasts.Request(
        activity_id=record_id(values.get("activity")),
        audience=Audience.of(
            neighbourhoods=list(values.get("where") or []),
            age_groups=values.get("ages") or [],
            interests=values.get("interests") or [],
            languages=values.get("languages") or [],
            past_participants=values.get("past") == "past",
        ),
    )
    found = await _plan(actions, "invite", request)
    if found is None or found.activity is None or found.refusal(broadcasts.WHAT):
        actions.say(t.gettext("Sorry, you cannot invite people to this activity."))
        return
    if found.refusal(broadcasts.AUDIENCE):
        actions.say(
            t.gettext(
                "Nobody matches these choices (or everyone was already invited). "
                "Type /invite to try other choices."
            )
        )
        return
    reach = found.shown
    if reach.total.value is not None:
        lines = [
            t.ngettext(
                "This invitation reaches {n} person:",
                "This invitation reaches {n} people:",
                reach.total.value,
            ).format(n=reach.total.value)
        ]
    else:
        lines = [t.gettext("This invitation reaches fewer than 5 people:")]
    for code, cell in reach.languages:
        lines.append(f"• {language_name(code)}: {cell.text(t)}")
    for code, _ in reach.languages:
        actions.say(
            t.gettext("Preview in {language}:").format(language=language_name(code))
            + "\n"
            + render_text(broadcasts.preview(parts, request, found.activity, code))
        )
    await actions.start_flow(
        CONFIRM_FLOW,
        {
            "activity_id": found.activity.id,
            "audience": found.audience.to_json(),
            "reach": "\n".join(lines),
        },
    )


async def confirm_finished(actions: Actions, conversation: Conversation, state: State) -> None:
    t = actions.t
    values = state.values
    variables = state.variables
    parts = actions.parts
    settings = parts.settings
    if values.get("send") == "cancel":
        actions.say(t.gettext("OK. Nothing was sent."))
        return
    at = None
    if values.get("send") == "later" and values.get("day") and values.get("at"):
        at = local_moment(str(values["day"]), str(values["at"]), settings.timezone)
    request = broadcasts.Request(
        activity_id=record_id(variables.get("activity_id")),
        audience=Audience.from_json(dict(variables.get("audience") or {})),
        at=at,
    )
    actor = audit.Actor.worker(settings, actions.participant, audit.CHAT)
    try:
        allowed = await roles.require_worker(actions, "invite-confirm")
        found, sent = await broadcasts.send(actions.session, parts, request, actor, allowed=allowed)
    except roles.Refused as refused:
        log.warning("invite-confirm refused: %s", refused.reason)
        found, sent = None, None
    if found is None or found.activity is None:
        actions.say(t.gettext("Sorry, you cannot invite people to this activity."))
        return
    if sent is None:
        for refusal in found.refusals:
            actions.say(refusal.text(t))
        actions.say(t.gettext("Nothing was sent. Type /invite to try again."))
        return
    language = actions.participant.language or settings.default_language
    actions.say(
        bidi.fill(
            t.ngettext(
                'Done: {n} invitation to "{title}" is queued.',
                'Done: {n} invitations to "{title}" are queued.',
                sent.queued,
            ),
            language,
            n=sent.queued,
            title=title_in(found.activity, language),
        )
    )
    if sent.goes_at > utcnow():
        actions.say(
            t.gettext("They go out on {when}.").format(when=when(parts, sent.goes_at, language))
        )
    actions.say(t.gettext("Type /activities to see who comes."))


def register(extensions: Extensions) -> None:
    extensions.command(
        "invite",
        role="worker",
        help=lambda t: t.gettext("/invite – invite residents to an activity"),
        listed="worker",
        order=120,
    )(start_invite)
    extensions.on_finish(INVITE_FLOW)(invite_finished)
    extensions.on_finish(CONFIRM_FLOW)(confirm_finished)
