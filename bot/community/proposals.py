"""Youth proposals: from the `propose` flow to the workers of the neighbourhood, and back.

When a young person finishes `propose`, the proposal is stored and every worker of their
neighbourhood (and every town-wide worker) gets an urgent notice at once — the
`review-proposal` flow, which ignores quiet hours. A worker can:

* approve it: it becomes a draft activity with the proposer as co-organiser; the worker
  gives it a date, time and place with `/newactivity <number>`;
* ask a question: the proposer gets the `proposal-question` flow; their answer comes
  back to the same worker as `review-proposal` again, with the question and answer;
* decline it, with a reason;
* decide later: `/proposals` lists every open proposal.

The proposer hears each step in their own language. Workers see a pseudonym, never a
platform id or phone number; they reach the proposer only through the bot.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.community import roles
from bot.community.activities import create_activity, places_text
from bot.community.common import get_record, language_of, log, notify, pseudonym, translator
from bot.conversation.extensions import Actions, Extensions
from bot.flows.engine import PREFILL
from bot.flows.state import State
from bot.flows.steps.base import Step
from bot.flows.steps.dynamic_choice import option
from bot.flows.steps.yes_no import YesNoStep
from bot.storage.models import Conversation, Participant, utcnow
from bot.storage.models.community import (
    APPROVED,
    ASKING,
    DECLINED,
    DRAFT,
    OPEN,
    Proposal,
    ProposalNote,
)

if TYPE_CHECKING:
    from bot.conversation.service import ConversationService

PROPOSE_FLOW = "propose"
REVIEW_FLOW = "review-proposal"
QUESTION_FLOW = "proposal-question"
DETAILS = ("what", "for_whom", "where", "when", "needs", "organise", "hear_back")
MAX_LISTED = 10


# ---- how a proposal reads for a worker -------------------------------------------------


def _answer_text(service: ConversationService, step: Step, value: Any, language: str) -> str:
    """An answer to a `propose` step as the worker reads it, in the worker's language."""
    t = service.catalogs(language)
    if value is None:
        return t.gettext("(rather not say)")
    if isinstance(step, YesNoStep) or isinstance(value, bool):
        return t.gettext("Yes") if value else t.gettext("No")
    if step.kind == "date":
        try:
            return format_date(date.fromisoformat(str(value)), "long", locale=language)
        except ValueError:
            return str(value)
    ctx = service.context(Participant(language=language))
    labels = {o.value: o.label for o in step.options(ctx, PROPOSE_FLOW)}
    if isinstance(value, list):
        return ", ".join(labels.get(str(v), str(v)) for v in value)
    return labels.get(str(value), str(value))


def describe(
    service: ConversationService,
    proposal: Proposal,
    proposer: Participant | None,
    notes: list[ProposalNote],
    language: str,
) -> str:
    """A proposal, its proposer (pseudonymous) and its questions and answers."""
    t = service.catalogs(language)
    flow = service.library.get(PROPOSE_FLOW)
    details = proposal.details or {}
    who = [pseudonym(service.settings, proposer) if proposer else t.gettext("someone")]
    if proposer is not None and proposer.age_group:
        who.append(proposer.age_group)
    if proposal.neighbourhood:
        who.append(places_text(service.deployment, [proposal.neighbourhood]))
    lines = [
        t.gettext("Idea {number} from a young person ({who}):").format(
            number=proposal.id, who=", ".join(who)
        ),
        f"💡 {details.get('what', '')}",
    ]
    names = {
        "for_whom": t.gettext("For"),
        "where": t.gettext("Where"),
        "when": t.gettext("When"),
        "needs": t.gettext("Needs"),
        "organise": t.gettext("Wants to help organise"),
        "hear_back": t.gettext("Wants to hear back"),
    }
    for key, name in names.items():
        if key not in details or flow is None or not flow.has_step(key):
            continue
        lines.append(f"• {name}: {_answer_text(service, flow.step(key), details[key], language)}")
    for note in notes:
        if note.kind == "question":
            lines.append(t.gettext("Question: {text}").format(text=note.text))
        elif note.kind == "answer":
            lines.append(t.gettext("Answer: {text}").format(text=note.text))
    return "\n".join(lines)


def idea_of(proposal: Proposal, limit: int = 80) -> str:
    what = " ".join(str((proposal.details or {}).get("what", "")).split())
    return what if len(what) <= limit else what[: limit - 1].rstrip() + "…"


async def notes_of(session: AsyncSession, proposal_id: int) -> list[ProposalNote]:
    rows = await session.execute(
        select(ProposalNote)
        .where(ProposalNote.proposal_id == proposal_id)
        .order_by(ProposalNote.id)
    )
    return list(rows.scalars())


def may_review(allowed: frozenset[str] | None, proposal: Proposal) -> bool:
    """Workers review proposals of their neighbourhoods; town-wide ones review all."""
    if allowed is None:
        return True
    return proposal.neighbourhood is not None and proposal.neighbourhood in allowed


async def review_variables(
    session: AsyncSession,
    service: ConversationService,
    proposals: list[Proposal],
    worker: Participant,
) -> dict[str, Any]:
    """What `review-proposal` is started with, in the worker's language."""
    language = language_of(service, worker)
    texts = []
    options = []
    for proposal in proposals:
        proposer = await session.get(Participant, proposal.participant_id)
        notes = await notes_of(session, proposal.id)
        texts.append(describe(service, proposal, proposer, notes, language))
        options.append(option(proposal.id, f"{proposal.id}. {idea_of(proposal, 40)}"))
    variables: dict[str, Any] = {"proposal_text": "\n\n".join(texts), "proposals": options}
    if len(proposals) == 1:
        variables[PREFILL] = {"proposal": str(proposals[0].id)}
    return variables


async def send_for_review(
    session: AsyncSession,
    service: ConversationService,
    proposal: Proposal,
    workers: list[Participant],
    reason: str,
) -> int:
    """An urgent `review-proposal` to each worker; how many were queued."""
    queued = 0
    for worker in workers:
        variables = await review_variables(session, service, [proposal], worker)
        found = await notify(
            session,
            service.settings,
            worker.id,
            outbox.flow(REVIEW_FLOW, variables),
            urgent=True,
            dedupe_key=f"proposal:{proposal.id}:{reason}:{worker.id}",
        )
        queued += found is not None
    return queued


# ---- a proposal arrives ----------------------------------------------------------------


async def propose_finished(actions: Actions, conversation: Conversation, state: State) -> None:
    participant = actions.participant
    session = actions.session
    service = actions.service
    if participant.consented_at is None:
        return
    details = {key: state.values[key] for key in DETAILS if key in state.values}
    proposal = Proposal(
        participant_id=participant.id,
        neighbourhood=participant.neighbourhood,
        details=details,
        status=OPEN,
    )
    session.add(proposal)
    await session.flush()
    workers = await roles.workers_for(session, proposal.neighbourhood)
    workers = [w for w in workers if w.id != participant.id]
    queued = await send_for_review(session, service, proposal, workers, "new")
    if not queued:
        log.warning(
            "proposal %s: no worker for %s; it waits in /proposals",
            proposal.id,
            proposal.neighbourhood or "the whole town",
        )
    else:
        log.info("proposal %s sent to %d workers", proposal.id, queued)


# ---- /proposals ------------------------------------------------------------------------


async def open_proposals(session: AsyncSession, allowed: frozenset[str] | None) -> list[Proposal]:
    rows = await session.execute(
        select(Proposal)
        .where(Proposal.status.in_((OPEN, ASKING)))
        .order_by(Proposal.created_at, Proposal.id)
    )
    return [p for p in rows.scalars() if may_review(allowed, p)]


async def list_proposals(actions: Actions, argument: str) -> None:
    t = actions.t
    allowed = await roles.require_worker(actions, "/proposals")
    found = await open_proposals(actions.session, allowed)
    if not found:
        actions.say(t.gettext("There are no open ideas from young people right now."))
        return
    shown = found[:MAX_LISTED]
    variables = await review_variables(actions.session, actions.service, shown, actions.participant)
    if len(found) > len(shown):
        variables["proposal_text"] += "\n\n" + t.gettext("And {n} more.").format(
            n=len(found) - len(shown)
        )
    await actions.start_flow(REVIEW_FLOW, variables)


# ---- a worker decides ------------------------------------------------------------------


async def _proposal_for(actions: Actions, proposal_id: Any, what: str) -> Proposal | None:
    """The proposal a worker may review, checked again on the server."""
    allowed = await roles.require_worker(actions, what)
    proposal = await get_record(actions.session, Proposal, proposal_id)
    if proposal is None:
        return None
    if not may_review(allowed, proposal):
        log.warning(
            "%s refused: participant %s does not work in %s (proposal %s)",
            what,
            actions.participant.id,
            proposal.neighbourhood or "the whole town",
            proposal.id,
        )
        raise roles.Refused("outside the worker's neighbourhoods")
    return proposal


async def review_finished(actions: Actions, conversation: Conversation, state: State) -> None:
    t = actions.t
    session = actions.session
    service = actions.service
    values = state.values
    decision = values.get("decision")
    try:
        proposal = await _proposal_for(actions, values.get("proposal"), "review-proposal")
    except roles.Refused:
        actions.say(t.gettext("Sorry, only community workers of this neighbourhood can do that."))
        return
    if proposal is None:
        actions.say(t.gettext("This idea is no longer there."))
        return
    if proposal.status in (APPROVED, DECLINED):
        actions.say(t.gettext("Another community worker already answered this idea."))
        return
    if decision == "later":
        actions.say(t.gettext("OK. Type /proposals to see it again."))
        return
    proposer = await session.get(Participant, proposal.participant_id)
    if proposer is None:
        actions.say(t.gettext("This idea is no longer there."))
        return
    worker = actions.participant
    now = utcnow()
    proposal.updated_at = now
    their_t = translator(service, proposer)
    idea = idea_of(proposal)
    if decision == "approve":
        details = proposal.details or {}
        activity = await create_activity(
            session,
            title=idea_of(proposal, 120),
            description=str(details.get("what", "")),
            starts_at=None,
            place=str(details.get("where") or ""),
            neighbourhoods=[proposal.neighbourhood] if proposal.neighbourhood else [],
            status=DRAFT,
            created_by=worker.id,
            organisers=[(worker.id, "organiser"), (proposer.id, "co-organiser")],
        )
        proposal.status = APPROVED
        proposal.decided_by = worker.id
        proposal.activity_id = activity.id
        session.add(ProposalNote(proposal_id=proposal.id, author_id=worker.id, kind="approve"))
        await notify(
            session,
            service.settings,
            proposer.id,
            outbox.text(
                their_t.gettext(
                    'Good news! The community workers like your idea "{idea}". '
                    "It becomes an activity, and you help organise it. "
                    "A community worker will contact you here."
                ).format(idea=idea)
            ),
        )
        actions.say(
            t.gettext(
                "Approved. Draft activity {id} is made, with the young person as co-organiser."
            ).format(id=activity.id)
        )
        actions.say(
            t.gettext("Type /newactivity {id} to give it a date, time and place.").format(
                id=activity.id
            )
        )
        log.info("proposal %s approved by %s: activity %s", proposal.id, worker.id, activity.id)
    elif decision == "question":
        question = str(values.get("question") or "").strip()
        proposal.status = ASKING
        session.add(
            ProposalNote(
                proposal_id=proposal.id, author_id=worker.id, kind="question", text=question
            )
        )
        await notify(
            session,
            service.settings,
            proposer.id,
            outbox.flow(
                QUESTION_FLOW,
                {"proposal_id": proposal.id, "idea": idea, "question": question},
            ),
        )
        actions.say(t.gettext("Your question is sent. You will get the answer here."))
        log.info("proposal %s: question from %s", proposal.id, worker.id)
    elif decision == "decline":
        reason = str(values.get("reason") or "").strip()
        proposal.status = DECLINED
        proposal.decided_by = worker.id
        session.add(
            ProposalNote(proposal_id=proposal.id, author_id=worker.id, kind="decline", text=reason)
        )
        await notify(
            session,
            service.settings,
            proposer.id,
            outbox.text(
                "\n".join(
                    [
                        their_t.gettext(
                            'About your idea "{idea}": the community workers cannot do it '
                            "this time."
                        ).format(idea=idea),
                        their_t.gettext("Their reason: {reason}").format(reason=reason),
                        their_t.gettext(
                            "Thank you for your idea! You can always propose a new one "
                            "with /propose."
                        ),
                    ]
                )
            ),
        )
        actions.say(t.gettext("The young person is told, with your reason."))
        log.info("proposal %s declined by %s", proposal.id, worker.id)


async def question_answered(actions: Actions, conversation: Conversation, state: State) -> None:
    """The proposer answered a worker's question: it goes back to that worker."""
    session = actions.session
    service = actions.service
    participant = actions.participant
    proposal = await get_record(session, Proposal, state.variables.get("proposal_id"))
    if proposal is None or proposal.participant_id != participant.id:
        log.warning(
            "proposal answer refused: participant %s does not own proposal %s",
            participant.id,
            state.variables.get("proposal_id"),
        )
        return
    reply = str(state.values.get("reply") or "").strip()
    notes = await notes_of(session, proposal.id)
    session.add(
        ProposalNote(proposal_id=proposal.id, author_id=participant.id, kind="answer", text=reply)
    )
    if proposal.status == ASKING:
        proposal.status = OPEN
    proposal.updated_at = utcnow()
    await session.flush()
    asked_by = next((n.author_id for n in reversed(notes) if n.kind == "question"), None)
    workers = []
    if asked_by is not None:
        worker = await session.get(Participant, asked_by)
        if (
            worker is not None
            and roles.is_worker(worker)
            and may_review(await roles.scope(session, worker), proposal)
        ):
            workers = [worker]
    if not workers:
        workers = await roles.workers_for(session, proposal.neighbourhood)
    if proposal.status in (APPROVED, DECLINED):
        return
    await send_for_review(session, service, proposal, workers, f"answer{len(notes) + 1}")


def register(extensions: Extensions) -> None:
    extensions.on_finish(PROPOSE_FLOW)(propose_finished)
    extensions.command(
        "proposals",
        role="worker",
        help=lambda t: t.gettext("/proposals – ideas from young people"),
        listed="worker",
        order=140,
    )(list_proposals)
    extensions.on_finish(REVIEW_FLOW)(review_finished)
    extensions.on_finish(QUESTION_FLOW)(question_answered)
