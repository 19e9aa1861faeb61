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

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.community import audit, roles
from bot.community.activities import create_activity, places_text
from bot.community.common import (
    get_record,
    language_of,
    log,
    notify,
    pseudonym,
    translator,
    when,
)
from bot.conversation.extensions import Actions, Extensions
from bot.flows.engine import PREFILL
from bot.flows.state import State
from bot.flows.steps.base import Step
from bot.flows.steps.dynamic_choice import option
from bot.flows.steps.text import has_words
from bot.flows.steps.yes_no import YesNoStep
from bot.i18n.translator import Translator
from bot.storage import conversations as convs
from bot.storage.models import Answer, Conversation, OutboxMessage, Participant, utcnow
from bot.storage.models.community import (
    APPROVED,
    ASKING,
    CANCELLED,
    DECLINED,
    DRAFT,
    OPEN,
    PLANNED,
    Activity,
    Proposal,
    ProposalNote,
)

if TYPE_CHECKING:
    from bot.conversation.parts import Parts

PROPOSE_FLOW = "propose"
REVIEW_FLOW = "review-proposal"
QUESTION_FLOW = "proposal-question"
DETAILS = ("what", "for_whom", "where", "when", "needs", "organise", "hear_back")
MAX_LISTED = 10


# ---- how a proposal reads for a worker -------------------------------------------------


def _answer_text(parts: Parts, step: Step, value: Any, language: str) -> str:
    """An answer to a `propose` step as the worker reads it, in the worker's language."""
    t = parts.catalogs(language)
    if value is None:
        return t.gettext("(rather not say)")
    if isinstance(step, YesNoStep) or isinstance(value, bool):
        return t.gettext("Yes") if value else t.gettext("No")
    if step.kind == "date":
        try:
            return format_date(date.fromisoformat(str(value)), "long", locale=language)
        except ValueError:
            return str(value)
    ctx = parts.context(Participant(language=language))
    labels = {o.value: o.label for o in step.options(ctx, PROPOSE_FLOW)}
    if isinstance(value, list):
        return ", ".join(labels.get(str(v), str(v)) for v in value)
    return labels.get(str(value), str(value))


def describe(
    parts: Parts,
    proposal: Proposal,
    proposer: Participant | None,
    notes: list[ProposalNote],
    language: str,
) -> str:
    """A proposal, its proposer (pseudonymous) and its questions and answers."""
    t = parts.catalogs(language)
    flow = parts.library.get(PROPOSE_FLOW)
    details = proposal.details or {}
    who = [pseudonym(parts.settings, proposer) if proposer else t.gettext("someone")]
    if proposer is not None and proposer.age_group:
        who.append(proposer.age_group)
    if proposal.neighbourhood:
        who.append(places_text(parts.deployment, [proposal.neighbourhood]))
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
        lines.append(f"• {name}: {_answer_text(parts, flow.step(key), details[key], language)}")
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
    parts: Parts,
    proposals: list[Proposal],
    worker: Participant,
) -> dict[str, Any]:
    """What `review-proposal` is started with, in the worker's language."""
    language = language_of(parts, worker)
    texts = []
    options = []
    for proposal in proposals:
        proposer = await session.get(Participant, proposal.participant_id)
        notes = await notes_of(session, proposal.id)
        texts.append(describe(parts, proposal, proposer, notes, language))
        options.append(option(proposal.id, f"{proposal.id}. {idea_of(proposal, 40)}"))
    variables: dict[str, Any] = {"proposal_text": "\n\n".join(texts), "proposals": options}
    if len(proposals) == 1:
        variables[PREFILL] = {"proposal": str(proposals[0].id)}
    return variables


async def send_for_review(
    session: AsyncSession,
    parts: Parts,
    proposal: Proposal,
    workers: list[Participant],
    reason: str,
) -> int:
    """An urgent `review-proposal` to each worker; how many were queued."""
    queued = 0
    for worker in workers:
        variables = await review_variables(session, parts, [proposal], worker)
        found = await notify(
            session,
            parts.settings,
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
    parts = actions.parts
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
    queued = await send_for_review(session, parts, proposal, workers, "new")
    t = actions.t
    if not queued:
        log.warning(
            "proposal %s: no worker for %s; it waits in /proposals",
            proposal.id,
            proposal.neighbourhood or "the whole town",
        )
        actions.say(
            t.gettext(
                "Right now no community worker works in your neighbourhood. "
                "Your idea goes to the coordinators of {organisation}. "
                "It can take longer before you hear from them. We will tell you here."
            ).format(organisation=parts.deployment.organisation.name)
        )
    else:
        log.info("proposal %s sent to %d workers", proposal.id, queued)
        actions.say(t.gettext("A community worker will answer you here within a week."))
    actions.say(t.gettext("Type /myproposals to see your ideas and what happens with them."))


# ---- /proposals ------------------------------------------------------------------------


async def open_proposals(session: AsyncSession, allowed: frozenset[str] | None) -> list[Proposal]:
    rows = await session.execute(
        select(Proposal)
        .where(Proposal.status.in_((OPEN, ASKING)))
        .order_by(Proposal.created_at, Proposal.id)
    )
    return [p for p in rows.scalars() if may_review(allowed, p)]


STATUSES = (OPEN, ASKING, APPROVED, DECLINED)


async def proposals_in_scope(
    session: AsyncSession, allowed: frozenset[str] | None
) -> dict[str, list[Proposal]]:
    """Every proposal a worker with `allowed` neighbourhoods may review, by status
    (open, asking, approved, declined), newest first."""
    rows = await session.execute(
        select(Proposal).order_by(Proposal.updated_at.desc(), Proposal.id.desc())
    )
    found: dict[str, list[Proposal]] = {status: [] for status in STATUSES}
    for proposal in rows.scalars():
        if proposal.status in found and may_review(allowed, proposal):
            found[proposal.status].append(proposal)
    return found


async def list_proposals(actions: Actions, argument: str) -> None:
    t = actions.t
    allowed = await roles.require_worker(actions, "/proposals")
    found = await open_proposals(actions.session, allowed)
    if not found:
        actions.say(t.gettext("There are no open ideas from young people right now."))
        return
    shown = found[:MAX_LISTED]
    variables = await review_variables(actions.session, actions.parts, shown, actions.participant)
    if len(found) > len(shown):
        variables["proposal_text"] += "\n\n" + t.gettext("And {n} more.").format(
            n=len(found) - len(shown)
        )
    await actions.start_flow(REVIEW_FLOW, variables)


# ---- a worker decides ------------------------------------------------------------------
#
# The decisions are plain functions: the chat's `review-proposal` hook and the dashboard
# both call them, so the young person hears the same thing, in their own language,
# whichever was used, and each decision is written in the audit log once.

NOTE_LONGEST = 1000  # as the `review-proposal` flow's question and reason


class NotReviewable(Exception):
    """A proposal a worker cannot decide on (any more): why, as one of the reasons below."""

    GONE, DECIDED, OUTSIDE = "gone", "decided", "outside"

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


async def proposal_to_review(
    session: AsyncSession,
    allowed: frozenset[str] | None,
    value: Any,
    *,
    who: int | None,
    what: str,
) -> Proposal:
    """The proposal with id `value` that a worker with `allowed` neighbourhoods may
    review, checked on the server; NotReviewable (logged when outside) if not."""
    proposal = await get_record(session, Proposal, value)
    if proposal is None:
        raise NotReviewable(NotReviewable.GONE)
    if not may_review(allowed, proposal):
        log.warning(
            "%s refused: participant %s does not work in %s (proposal %s)",
            what,
            who if who is not None else "(the operator)",
            proposal.neighbourhood or "the whole town",
            proposal.id,
        )
        raise NotReviewable(NotReviewable.OUTSIDE)
    return proposal


def check_note(t: Translator, text: str) -> str | None:
    """What is wrong with a question or a reason for the young person, or None."""
    text = text.strip()
    if not text or not has_words(text):
        return t.gettext("Write a few words for the young person.")
    if len(text) > NOTE_LONGEST:
        return t.ngettext(
            "This is too long: at most {n} character.",
            "This is too long: at most {n} characters.",
            NOTE_LONGEST,
        ).format(n=NOTE_LONGEST)
    return None


async def _open_with_proposer(session: AsyncSession, proposal: Proposal) -> Participant:
    """The proposer of an idea still to decide; NotReviewable if decided or gone."""
    if proposal.status in (APPROVED, DECLINED):
        raise NotReviewable(NotReviewable.DECIDED)
    proposer = await session.get(Participant, proposal.participant_id)
    if proposer is None:
        raise NotReviewable(NotReviewable.GONE)
    return proposer


@dataclass
class Approved:
    """An approved idea: its draft activity, and whether the young person helps organise."""

    activity: Activity
    helps: bool


async def approve_proposal(
    session: AsyncSession,
    parts: Parts,
    proposal: Proposal,
    *,
    worker: Participant | None,
    actor: audit.Actor,
) -> Approved:
    """The idea becomes a draft activity (the young person co-organises it when they
    wanted to); they are told in their language. `worker` None: the operator."""
    proposer = await _open_with_proposer(session, proposal)
    details = proposal.details or {}
    helps = details.get("organise") is True
    organisers = [(worker.id, "organiser")] if worker is not None else []
    if helps:
        organisers.append((proposer.id, "co-organiser"))
    activity = await create_activity(
        session,
        title=idea_of(proposal, 120),
        description=str(details.get("what", "")),
        starts_at=None,
        place=str(details.get("where") or ""),
        neighbourhoods=[proposal.neighbourhood] if proposal.neighbourhood else [],
        status=DRAFT,
        created_by=worker.id if worker is not None else None,
        organisers=organisers,
    )
    proposal.status = APPROVED
    proposal.decided_by = worker.id if worker is not None else None
    proposal.activity_id = activity.id
    proposal.updated_at = utcnow()
    author = worker.id if worker is not None else None
    session.add(ProposalNote(proposal_id=proposal.id, author_id=author, kind="approve"))
    their_t = translator(parts, proposer)
    idea = idea_of(proposal)
    await notify(
        session,
        parts.settings,
        proposer.id,
        outbox.text(
            their_t.gettext(
                'Good news! The community workers like your idea "{idea}". '
                "It becomes an activity, and you help organise it. "
                "A community worker will contact you here."
            ).format(idea=idea)
            if helps
            else their_t.gettext(
                'Good news! The community workers like your idea "{idea}". '
                "It becomes an activity. Type /myproposals to see when it is planned."
            ).format(idea=idea)
        ),
    )
    await audit.record(session, actor, audit.PROPOSAL_APPROVED, audit.proposal(proposal.id))
    log.info("proposal %s approved by %s: activity %s", proposal.id, actor.pseudonym, activity.id)
    return Approved(activity, helps)


async def ask_about_proposal(
    session: AsyncSession,
    parts: Parts,
    proposal: Proposal,
    question: str,
    *,
    worker: Participant | None,
    actor: audit.Actor,
) -> None:
    """The young person gets the question (the `proposal-question` flow, in their
    language); their answer goes back to the worker who asked."""
    proposer = await _open_with_proposer(session, proposal)
    question = question.strip()
    proposal.status = ASKING
    proposal.updated_at = utcnow()
    session.add(
        ProposalNote(
            proposal_id=proposal.id,
            author_id=worker.id if worker is not None else None,
            kind="question",
            text=question,
        )
    )
    await notify(
        session,
        parts.settings,
        proposer.id,
        outbox.flow(
            QUESTION_FLOW,
            {"proposal_id": proposal.id, "idea": idea_of(proposal), "question": question},
        ),
    )
    await audit.record(session, actor, audit.PROPOSAL_ASKED, audit.proposal(proposal.id))
    log.info("proposal %s: question from %s", proposal.id, actor.pseudonym)


async def decline_proposal(
    session: AsyncSession,
    parts: Parts,
    proposal: Proposal,
    reason: str,
    *,
    worker: Participant | None,
    actor: audit.Actor,
) -> None:
    """The idea is declined; the young person is told why, in their language."""
    proposer = await _open_with_proposer(session, proposal)
    reason = reason.strip()
    proposal.status = DECLINED
    proposal.decided_by = worker.id if worker is not None else None
    proposal.updated_at = utcnow()
    session.add(
        ProposalNote(
            proposal_id=proposal.id,
            author_id=worker.id if worker is not None else None,
            kind="decline",
            text=reason,
        )
    )
    their_t = translator(parts, proposer)
    await notify(
        session,
        parts.settings,
        proposer.id,
        outbox.text(
            "\n".join(
                [
                    their_t.gettext(
                        'About your idea "{idea}": the community workers cannot do it this time.'
                    ).format(idea=idea_of(proposal)),
                    their_t.gettext("Their reason: {reason}").format(reason=reason),
                    their_t.gettext(
                        "Thank you for your idea! You can always propose a new one with /propose."
                    ),
                ]
            )
        ),
    )
    await audit.record(session, actor, audit.PROPOSAL_DECLINED, audit.proposal(proposal.id))
    log.info("proposal %s declined by %s", proposal.id, actor.pseudonym)


async def answer_question(
    session: AsyncSession, parts: Parts, proposal: Proposal, proposer: Participant, reply: str
) -> int:
    """The young person answered a worker's question: the answer is kept and goes back
    to the worker who asked (if they still may review it), else to the neighbourhood's
    workers. How many workers it was sent to."""
    if proposal.participant_id != proposer.id:
        raise NotReviewable(NotReviewable.OUTSIDE)
    notes = await notes_of(session, proposal.id)
    session.add(
        ProposalNote(
            proposal_id=proposal.id, author_id=proposer.id, kind="answer", text=reply.strip()
        )
    )
    if proposal.status == ASKING:
        proposal.status = OPEN
    proposal.updated_at = utcnow()
    await session.flush()
    if proposal.status in (APPROVED, DECLINED):
        return 0
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
    return await send_for_review(session, parts, proposal, workers, f"answer{len(notes) + 1}")


# ---- the chat's review ---------------------------------------------------------------


async def review_finished(actions: Actions, conversation: Conversation, state: State) -> None:
    t = actions.t
    session = actions.session
    parts = actions.parts
    values = state.values
    decision = values.get("decision")
    worker = actions.participant
    try:
        allowed = await roles.require_worker(actions, "review-proposal")
        proposal = await proposal_to_review(
            session, allowed, values.get("proposal"), who=worker.id, what="review-proposal"
        )
        if decision == "later":
            if proposal.status in (APPROVED, DECLINED):
                raise NotReviewable(NotReviewable.DECIDED)
            actions.say(t.gettext("OK. Type /proposals to see it again."))
            return
        actor = audit.Actor.worker(parts.settings, worker, audit.CHAT)
        if decision == "approve":
            done = await approve_proposal(session, parts, proposal, worker=worker, actor=actor)
            actions.say(
                t.gettext(
                    "Approved. Draft activity {id} is made, with the young person as co-organiser."
                ).format(id=done.activity.id)
                if done.helps
                else t.gettext(
                    "Approved. Draft activity {id} is made. "
                    "The young person did not want to help organise it."
                ).format(id=done.activity.id)
            )
            actions.say(
                t.gettext("Type /newactivity {id} to give it a date, time and place.").format(
                    id=done.activity.id
                )
            )
        elif decision == "question":
            question = str(values.get("question") or "")
            await ask_about_proposal(session, parts, proposal, question, worker=worker, actor=actor)
            actions.say(t.gettext("Your question is sent. You will get the answer here."))
        elif decision == "decline":
            reason = str(values.get("reason") or "")
            await decline_proposal(session, parts, proposal, reason, worker=worker, actor=actor)
            actions.say(t.gettext("The young person is told, with your reason."))
    except roles.Refused:
        actions.say(t.gettext("Sorry, only community workers of this neighbourhood can do that."))
    except NotReviewable as refused:
        if refused.reason == NotReviewable.OUTSIDE:
            actions.say(
                t.gettext("Sorry, only community workers of this neighbourhood can do that.")
            )
        elif refused.reason == NotReviewable.DECIDED:
            actions.say(t.gettext("Another community worker already answered this idea."))
        else:
            actions.say(t.gettext("This idea is no longer there."))


async def question_answered(actions: Actions, conversation: Conversation, state: State) -> None:
    """The proposer answered a worker's question: it goes back to that worker."""
    participant = actions.participant
    proposal = await get_record(actions.session, Proposal, state.variables.get("proposal_id"))
    try:
        if proposal is None:
            raise NotReviewable(NotReviewable.GONE)
        reply = str(state.values.get("reply") or "")
        await answer_question(actions.session, actions.parts, proposal, participant, reply)
    except NotReviewable:
        log.warning(
            "proposal answer refused: participant %s does not own proposal %s",
            participant.id,
            state.variables.get("proposal_id"),
        )


# ---- /myproposals: the young person's own ideas -------------------------------------


async def _status_text(
    session: AsyncSession, parts: Parts, proposal: Proposal, language: str
) -> str:
    """Where an idea stands, in words the young person reads."""
    t = parts.catalogs(language)
    if proposal.status == OPEN:
        return t.gettext("waiting for an answer from a community worker")
    if proposal.status == ASKING:
        return t.gettext("a community worker asked you a question")
    if proposal.status == DECLINED:
        reason = next(
            (n.text for n in reversed(await notes_of(session, proposal.id)) if n.kind == "decline"),
            "",
        )
        if reason:
            return t.gettext("not this time. The reason: {reason}").format(reason=reason)
        return t.gettext("not this time")
    activity = await session.get(Activity, proposal.activity_id) if proposal.activity_id else None
    if activity is not None and activity.status == CANCELLED:
        return t.gettext("approved, but the activity was cancelled")
    if activity is not None and activity.status == PLANNED and activity.starts_at is not None:
        return t.gettext("approved: the activity is on {when}").format(
            when=when(parts, activity.starts_at, language)
        )
    return t.gettext("approved: a community worker is planning it")


async def my_proposals(actions: Actions, argument: str) -> None:
    """`/myproposals`: each of the person's ideas and what happened with it."""
    t = actions.t
    session = actions.session
    rows = await session.execute(
        select(Proposal)
        .where(Proposal.participant_id == actions.participant.id)
        .order_by(Proposal.created_at, Proposal.id)
    )
    found = list(rows.scalars())
    if not found:
        actions.say(t.gettext("You have not sent an idea yet. Type /propose to send one."))
        return
    language = language_of(actions.parts, actions.participant)
    lines = [t.gettext("Your ideas:")]
    for proposal in found:
        status = await _status_text(session, actions.parts, proposal, language)
        lines.append(f"• {idea_of(proposal)}\n  {status}")
    actions.say("\n".join(lines))


# ---- /forget: nothing the young person typed stays with others -------------------------

# Flows whose texts may carry a proposal's words besides its review: those about the
# activity it became (workers' planning, residents' invitations and feedback).
ACTIVITY_FLOWS = frozenset(
    {"plan-activity", "invite", "invite-confirm", "invitation", "rsvp", "feedback"}
)


def _their_words(proposals: list[Proposal], notes: list[ProposalNote]) -> list[str]:
    """What the young person typed, as stored and as copied (shortened) into others' rows."""
    typed: list[str] = []
    for proposal in proposals:
        for key in ("what", "where"):
            value = (proposal.details or {}).get(key)
            if isinstance(value, str) and value.strip():
                typed.append(value)
    typed += [note.text for note in notes if note.text and note.text.strip()]
    words: set[str] = set()
    for text in typed:
        for form in (text.strip(), " ".join(text.split())):
            words.add(form)
            for limit in (40, 80, 120):  # `idea_of` as labels, notices and draft titles
                if len(form) > limit:
                    words.add(form[: limit - 1].rstrip())
    # Longest first, so a whole text is replaced before a shortened copy inside it.
    return sorted((w for w in words if len(w) >= 3), key=len, reverse=True)


def _scrub(value: Any, words: list[str], gone: str) -> Any:
    """`value` (JSON) with each of `words` replaced by `gone`, wherever it stands."""
    if isinstance(value, str):
        for word in words:
            if word in value:
                value = value.replace(word, gone)
        return value
    if isinstance(value, list):
        return [_scrub(item, words, gone) for item in value]
    if isinstance(value, dict):
        return {key: _scrub(item, words, gone) for key, item in value.items()}
    return value


async def forget_proposals(session: AsyncSession, parts: Parts, participant_id: int) -> None:
    """Before a young person is erased: take their words out of everyone else's rows.

    The proposals themselves (and their notes) go with the person. What was copied
    goes too: workers' notices in the outbox, the review conversations' texts, and an
    approved activity's title, description and place (it keeps a neutral title that a
    worker can change with `/newactivity`). A worker who still had an idea to answer is
    told it is gone.
    """
    rows = await session.execute(select(Proposal).where(Proposal.participant_id == participant_id))
    proposals = list(rows.scalars())
    if not proposals:
        return
    ids = [p.id for p in proposals]
    # Only an approved idea became an activity whose copies reach other flows.
    copying = {REVIEW_FLOW} | (
        ACTIVITY_FLOWS if any(p.activity_id for p in proposals) else frozenset()
    )
    notes = list(
        (
            await session.execute(select(ProposalNote).where(ProposalNote.proposal_id.in_(ids)))
        ).scalars()
    )
    words = _their_words(proposals, [n for n in notes if n.author_id == participant_id])
    gone = parts.catalogs(parts.settings.default_language).gettext("(deleted)")
    told: dict[int, set[int]] = {}  # worker -> open ideas of theirs that are gone
    open_ids = {p.id for p in proposals if p.status in (OPEN, ASKING)}
    for proposal in proposals:
        notices = await session.execute(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"proposal:{proposal.id}:%"))
        )
        for notice in notices.scalars():
            if proposal.id in open_ids:
                told.setdefault(notice.participant_id, set()).add(proposal.id)
            await session.delete(notice)
    conversations = await session.execute(
        select(Conversation).where(
            Conversation.flow_id.in_(copying), Conversation.participant_id != participant_id
        )
    )
    for conversation in conversations.scalars():
        state = State.from_json(conversation.state)
        listed = {str(o.get("value")) for o in state.variables.get("proposals") or []}
        about = {i for i in ids if str(i) in listed or state.values.get("proposal") == str(i)}
        if conversation.flow_id == REVIEW_FLOW and about:
            if conversation.status in (convs.ACTIVE, convs.PAUSED):
                convs.set_status(conversation, convs.ABANDONED)
                for i in about & open_ids:
                    told.setdefault(conversation.participant_id, set()).add(i)
            state.variables = {**state.variables, "proposal_text": gone, "proposals": []}
        cleaned = _scrub(state.to_json(), words, gone)
        if cleaned != conversation.state:
            conversation.state = cleaned
    answers = await session.execute(
        select(Answer).where(Answer.flow_id.in_(copying), Answer.participant_id != participant_id)
    )
    for answer in answers.scalars():
        if answer.raw:
            answer.raw = _scrub(answer.raw, words, gone)
        cleaned = _scrub(answer.value, words, gone)
        if cleaned != answer.value:
            answer.value = cleaned
    messages = await session.execute(
        select(OutboxMessage).where(
            OutboxMessage.participant_id != participant_id,
            OutboxMessage.kind.in_(("invitation", "feedback", "reminder", "notice")),
        )
    )
    for message in messages.scalars():
        content = message.content or {}
        if content.get("type") == "flow" and content.get("flow") in copying:
            cleaned = _scrub(content, words, gone)
            if cleaned != content:
                message.content = cleaned
    for proposal in proposals:
        if proposal.activity_id is None:
            continue
        activity = await session.get(Activity, proposal.activity_id)
        if activity is None:
            continue
        neutral = {
            code: parts.catalogs(code).gettext("Activity {number}").format(number=activity.id)
            for code in dict.fromkeys(
                [parts.settings.default_language, *parts.settings.language_list]
            )
        }
        activity.title = {"_": neutral[parts.settings.default_language], **neutral}
        activity.description = _scrub(activity.description, words, gone)
        if any(word in activity.place for word in words):
            activity.place = ""
    for worker_id, gone_ids in told.items():
        worker = await session.get(Participant, worker_id)
        if worker is None or worker.id == participant_id:
            continue
        their_t = translator(parts, worker)
        numbers = ", ".join(str(i) for i in sorted(gone_ids))
        await notify(
            session,
            parts.settings,
            worker.id,
            outbox.text(
                their_t.ngettext(
                    "A young person deleted their data. Their idea {numbers} is gone: "
                    "you do not need to answer it.",
                    "A young person deleted their data. Their ideas {numbers} are gone: "
                    "you do not need to answer them.",
                    len(gone_ids),
                ).format(numbers=numbers)
            ),
        )
    await session.flush()
    log.info("proposals %s: the proposer's words were taken out of others' rows", ids)


def register(extensions: Extensions) -> None:
    extensions.command(
        "myproposals",
        words=lambda t: t.pgettext("keywords for /myproposals", "my ideas, my proposals"),
        description=lambda t: t.gettext("Your ideas and what happened with them"),
        help=lambda t: t.gettext("/myproposals – your ideas and what happened with them"),
        listed="help",
        order=65,  # after the commands everyone has, before the workers' /worker
    )(my_proposals)
    extensions.before_erase(forget_proposals)
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
