"""The decisions on a young person's proposal as plain community functions (the chat's
review and the dashboard both call them): the young person hears each step in their own
language, whoever decided and wherever; each decision is in the audit log once; a
decided, foreign or vanished proposal is refused."""

from __future__ import annotations

import dataclasses
import gettext

import pytest
from sqlalchemy import select

from bot.app import App
from bot.community import audit
from bot.community.proposals import (
    NotReviewable,
    answer_question,
    approve_proposal,
    ask_about_proposal,
    check_note,
    decline_proposal,
    proposal_to_review,
    proposals_in_scope,
)
from bot.storage.models import Participant
from bot.storage.models.community import Activity, ActivityOrganiser, Proposal, ProposalNote
from tests.community.helpers import deliver, make_worker, onboard, participant, queued
from tests.community.test_proposals import Marked, only_proposal, propose
from tests.helpers import Person

pytestmark = pytest.mark.postgres
DASHBOARD = audit.Actor.operator(audit.DASHBOARD)


@pytest.fixture
async def young(app: App) -> Person:
    marked = Marked(app.service.catalogs, "tr")
    app.service.catalogs = marked
    app.service.parts = dataclasses.replace(app.service.parts, catalogs=marked)
    person = Person(app.service, user_id="tg-777")
    await onboard(person, language="tr", age="12-17")  # in Kerkelanden
    await propose(person)
    return person


async def logged(app: App) -> list[tuple[str, str, str]]:
    """The proposal entries, oldest first (making a worker is an entry of its own)."""
    async with app.database.transaction() as session:
        found = [(e.action, e.via, e.subject) for e in await audit.entries(session)][::-1]
    return [entry for entry in found if entry[0].startswith("proposal.")]


async def test_approved_by_the_operator_the_young_person_hears_it_in_their_language(
    app: App, young: Person
) -> None:
    proposal = await only_proposal(app)
    async with app.database.transaction() as session:
        found = await proposal_to_review(session, None, proposal.id, who=None, what="test")
        done = await approve_proposal(session, app.parts, found, worker=None, actor=DASHBOARD)
        activity_id = done.activity.id
        assert done.helps
    async with app.database.transaction() as session:
        activity = await session.get(Activity, activity_id)
        assert activity is not None and activity.status == "draft"
        assert activity.neighbourhoods == ["kerkelanden"]
        organisers = (await session.execute(select(ActivityOrganiser))).scalars().all()
        notes = (await session.execute(select(ProposalNote))).scalars().all()
    me = await participant(app, young)
    assert [(o.participant_id, o.role) for o in organisers] == [(me.id, "co-organiser")]
    assert [(n.kind, n.author_id) for n in notes] == [("approve", None)]
    [told] = await deliver(app, young)
    assert told.text.startswith("⟨tr⟩") and "Een sportdag met barbecue" in told.text
    assert await logged(app) == [("proposal.approved", "dashboard", f"proposal {proposal.id}")]
    # Decided: every further decision is refused and changes nothing.
    async with app.database.transaction() as session:
        found = await session.get(Proposal, proposal.id)
        assert found is not None
        for decide in (
            approve_proposal(session, app.parts, found, worker=None, actor=DASHBOARD),
            decline_proposal(session, app.parts, found, "Nee", worker=None, actor=DASHBOARD),
            ask_about_proposal(session, app.parts, found, "En?", worker=None, actor=DASHBOARD),
        ):
            with pytest.raises(NotReviewable) as refused:
                await decide
            assert refused.value.reason == NotReviewable.DECIDED
    assert len(await logged(app)) == 1 and not await queued(app, young)


async def test_a_question_and_its_answer_go_back_to_the_worker_who_asked(
    app: App, young: Person
) -> None:
    worker = await make_worker(app, "w-k")
    await deliver(app, worker)  # the notice of the new idea
    me = await participant(app, worker)
    proposal = await only_proposal(app)
    async with app.database.transaction() as session:
        found = await session.get(Proposal, proposal.id)
        assert found is not None
        asker = await session.get(Participant, me.id)
        assert asker is not None
        actor = audit.Actor.worker(app.settings, asker, audit.DASHBOARD)
        await ask_about_proposal(
            session, app.parts, found, "  Welke zaterdag?  ", worker=asker, actor=actor
        )
    assert (await only_proposal(app)).status == "asking"
    [asked] = await deliver(app, young)
    assert asked.text.startswith("⟨tr⟩") and "Welke zaterdag?" in asked.text
    await young.say("Zaterdag 6 juni")  # the chat calls answer_question
    assert (await only_proposal(app)).status == "open"
    [back] = await queued(app, worker)
    assert back.content["flow"] == "review-proposal"
    assert "Answer: Zaterdag 6 juni" in back.content["variables"]["proposal_text"]
    # Someone else's proposal cannot be answered.
    stranger = Person(app.service, user_id="tg-888")
    await onboard(stranger)
    async with app.database.transaction() as session:
        found = await session.get(Proposal, proposal.id)
        other = await session.get(Participant, (await participant(app, stranger)).id)
        assert found is not None and other is not None
        with pytest.raises(NotReviewable):
            await answer_question(session, app.parts, found, other, "Ik ook")
    assert await logged(app) == [("proposal.asked", "dashboard", f"proposal {proposal.id}")]


async def test_declined_with_a_reason_in_their_language(app: App, young: Person) -> None:
    proposal = await only_proposal(app)
    async with app.database.transaction() as session:
        found = await session.get(Proposal, proposal.id)
        assert found is not None
        await decline_proposal(
            session, app.parts, found, "Het buurthuis is dicht.", worker=None, actor=DASHBOARD
        )
    [told] = await deliver(app, young)
    assert told.text.startswith("⟨tr⟩") and "Het buurthuis is dicht." in told.text
    assert (await only_proposal(app)).status == "declined"
    async with app.database.transaction() as session:
        found_by_status = await proposals_in_scope(session, frozenset({"kerkelanden"}))
        elsewhere = await proposals_in_scope(session, frozenset({"centrum"}))
    assert [p.id for p in found_by_status["declined"]] == [proposal.id]
    assert not any(elsewhere.values())
    assert await logged(app) == [("proposal.declined", "dashboard", f"proposal {proposal.id}")]


async def test_a_proposal_outside_the_workers_neighbourhoods_or_gone_is_refused(
    app: App, young: Person
) -> None:
    proposal = await only_proposal(app)
    async with app.database.transaction() as session:
        with pytest.raises(NotReviewable) as outside:
            await proposal_to_review(
                session, frozenset({"centrum"}), proposal.id, who=None, what="test"
            )
        assert outside.value.reason == NotReviewable.OUTSIDE
        for forged in ("abc", "0", "99999999999999999999", proposal.id + 1):
            with pytest.raises(NotReviewable) as gone:
                await proposal_to_review(session, None, forged, who=None, what="test")
            assert gone.value.reason == NotReviewable.GONE


def test_a_question_or_a_reason_needs_words_and_not_too_many() -> None:
    t = gettext.NullTranslations()
    assert check_note(t, "Welke zaterdag?") is None
    assert check_note(t, "متى؟") is None
    for empty in ("", "   ", "?!", "🎉🎉"):
        assert "Write a few words" in (check_note(t, empty) or "")
    assert "at most 1000 characters" in (check_note(t, "x" * 10_000) or "")


async def test_the_chats_review_writes_the_audit_log_as_the_worker(app: App, young: Person) -> None:
    worker = await make_worker(app, "w-k")
    other = Person(app.service, user_id="tg-999")
    await onboard(other, age="12-17")
    await propose(other, "Samen koken")  # a second idea, from someone else
    reply = await worker.say("/proposals")
    assert "Een sportdag met barbecue" in reply
    proposal = await only_proposal_of(app, young)
    await worker.pick(str(proposal))
    await worker.pick("decline")
    await worker.say("Geen geld.")
    me = await participant(app, worker)
    async with app.database.transaction() as session:
        [entry] = [e for e in await audit.entries(session) if e.action.startswith("proposal.")]
    assert (entry.action, entry.via, entry.actor_id) == ("proposal.declined", "chat", me.id)
    assert entry.subject == f"proposal {proposal}"


async def only_proposal_of(app: App, person: Person) -> int:
    me = await participant(app, person)
    async with app.database.transaction() as session:
        return (
            await session.execute(select(Proposal.id).where(Proposal.participant_id == me.id))
        ).scalar_one()
