"""Proposals: young people's ideas in the viewer's neighbourhoods, by status, and the
decisions on one — approve (a draft activity), ask a question, decline with a reason.

Exactly as in the chat: the decisions are `bot.community.proposals`' own functions
(`approve_proposal`, `ask_about_proposal`, `decline_proposal`), which tell the young
person in their language and write the audit log. The viewer sees the proposer as a
pseudonym, as in the chat. A proposal outside the viewer's neighbourhoods is 403.
"""

from __future__ import annotations

from aiohttp import web

from bot.community import audit, roles
from bot.community.activities import places_text
from bot.community.common import when
from bot.community.proposals import (
    APPROVED,
    DECLINED,
    OPEN,
    STATUSES,
    NotReviewable,
    approve_proposal,
    ask_about_proposal,
    check_note,
    decline_proposal,
    describe,
    idea_of,
    notes_of,
    proposal_to_review,
    proposals_in_scope,
)
from bot.dashboard.forms import Form
from bot.dashboard.keys import DASHBOARD, LANGUAGE
from bot.dashboard.render import page
from bot.dashboard.scope import forbidden, viewer
from bot.storage.models import Participant
from bot.storage.models.community import Activity, Proposal

DECISIONS = ("approve", "ask", "decline")


async def proposals_page(request: web.Request) -> web.StreamResponse:
    state = request.app[DASHBOARD]
    app = state.app
    language = request[LANGUAGE]
    status = request.query.get("status", OPEN)
    if status not in STATUSES:
        return page(request, "error.html", status=400, reason="bad_request")
    async with app.database.transaction() as db:
        found = await proposals_in_scope(db, viewer(request).neighbourhoods)
    shown = [
        (
            proposal,
            idea_of(proposal),
            places_text(app.deployment, [proposal.neighbourhood]) if proposal.neighbourhood else "",
            when(app.parts, proposal.created_at, language),
        )
        for proposal in found[status]
    ]
    return page(
        request,
        "proposals.html",
        status_shown=status,
        numbers={key: len(items) for key, items in found.items()},
        shown=shown,
    )


async def _reviewable(request: web.Request, db) -> Proposal:
    """The proposal in the address, if the viewer may review it (NotReviewable if not)."""
    who = viewer(request)
    return await proposal_to_review(
        db,
        who.neighbourhoods,
        request.match_info["id"],
        who=who.participant_id,
        what="dashboard proposal",
    )


async def _detail(
    request: web.Request,
    db,
    proposal: Proposal,
    forms: dict[str, Form] | None = None,
    status: int = 200,
    notice: str = "",
) -> web.Response:
    state = request.app[DASHBOARD]
    app = state.app
    language = request[LANGUAGE]
    proposer = await db.get(Participant, proposal.participant_id)
    notes = await notes_of(db, proposal.id)
    activity = await db.get(Activity, proposal.activity_id) if proposal.activity_id else None
    reason = next((n.text for n in reversed(notes) if n.kind == "decline"), "")
    forms = forms or {}
    return page(
        request,
        "proposal.html",
        status=status,
        proposal=proposal,
        text=describe(app.parts, proposal, proposer, notes, language),
        decided=proposal.status in (APPROVED, DECLINED),
        reason=reason,
        activity=activity,
        may_plan=activity is not None
        and roles.may_act_on(viewer(request).neighbourhoods, activity.neighbourhoods),
        ask=forms.get("ask") or Form(),
        decline=forms.get("decline") or Form(),
        notice=notice,
    )


def _refused(request: web.Request, error: NotReviewable) -> web.Response:
    if error.reason == NotReviewable.OUTSIDE:
        return forbidden(request)
    return page(request, "error.html", status=404, reason="not_found")


async def proposal_page(request: web.Request) -> web.StreamResponse:
    state = request.app[DASHBOARD]
    t = state.catalogs(request[LANGUAGE])
    notice = {
        "asked": t.gettext("Your question is sent. The answer comes back here and in the chat."),
        "declined": t.gettext("The young person is told, with your reason."),
    }.get(request.query.get("done", ""), "")
    async with state.app.database.transaction() as db:
        try:
            proposal = await _reviewable(request, db)
        except NotReviewable as error:
            return _refused(request, error)
        return await _detail(request, db, proposal, notice=notice)


async def decide(request: web.Request) -> web.StreamResponse:
    """POST /proposals/{id}/{decision}: approve, ask or decline, as in the chat."""
    state = request.app[DASHBOARD]
    app = state.app
    t = state.catalogs(request[LANGUAGE])
    decision = request.match_info["decision"]
    if decision not in DECISIONS:
        return page(request, "error.html", status=404, reason="not_found")
    form = await Form.posted(request)
    who = viewer(request)
    async with app.database.transaction() as db:
        try:
            proposal = await _reviewable(request, db)
        except NotReviewable as error:
            return _refused(request, error)
        field = {"ask": "question", "decline": "reason"}.get(decision)
        if field is not None:
            problem = check_note(t, form.value(field))
            if problem:
                form.refuse(field, problem)
                return await _detail(request, db, proposal, {decision: form}, status=400)
        worker = await db.get(Participant, who.participant_id) if who.participant_id else None
        actor = await audit.actor_of(db, app.settings, who.participant_id, audit.DASHBOARD)
        try:
            if decision == "approve":
                done = await approve_proposal(db, app.parts, proposal, worker=worker, actor=actor)
                target = f"/activities/{done.activity.id}/edit?approved=1"
            elif decision == "ask":
                await ask_about_proposal(
                    db, app.parts, proposal, form.value("question"), worker=worker, actor=actor
                )
                target = f"/proposals/{proposal.id}?done=asked"
            else:
                await decline_proposal(
                    db, app.parts, proposal, form.value("reason"), worker=worker, actor=actor
                )
                target = f"/proposals/{proposal.id}?done=declined"
        except NotReviewable as error:
            if error.reason != NotReviewable.DECIDED:
                return _refused(request, error)
            notice = t.gettext("Another community worker already answered this idea.")
            return await _detail(request, db, proposal, status=409, notice=notice)
    raise web.HTTPSeeOther(target)
