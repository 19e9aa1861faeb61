"""A young person's proposal reaches the workers of their neighbourhood at once; a
worker approves it, asks a question or declines it, and the young person hears each
step in their own language. Workers never see platform ids; forged buttons do nothing."""

from __future__ import annotations

import dataclasses
import itertools
import logging
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App
from bot.community import roles
from bot.conversation.turns import Incoming
from bot.flows.events import Pick
from bot.storage.models.community import Activity, ActivityOrganiser, Proposal, ProposalNote
from tests.community.helpers import (
    cli,
    deliver,
    future_day,
    make_worker,
    onboard,
    participant,
    queued,
)
from tests.helpers import Person

_keys = itertools.count(1)


class Marked:
    """Catalogs whose translator for one language marks every text, so a test can see
    which person's language a text was rendered in, whatever the catalogs hold."""

    def __init__(self, catalogs: Any, language: str):
        self._catalogs = catalogs
        self._language = language

    def __getattr__(self, name: str) -> Any:
        return getattr(self._catalogs, name)

    def __call__(self, language: str) -> Any:
        real = self._catalogs(language)
        if language != self._language:
            return real
        mark = f"⟨{language}⟩"

        class Translator:
            def gettext(self, message: str) -> str:
                return mark + real.gettext(message)

            def ngettext(self, singular: str, plural: str, n: int) -> str:
                return mark + real.ngettext(singular, plural, n)

            def pgettext(self, context: str, message: str) -> str:
                return mark + real.pgettext(context, message)

        return Translator()


async def propose(person: Person, idea: str = "Een sportdag met barbecue") -> str:
    await person.say("/propose")
    await person.say(idea)
    await person.toggle("youth")
    await person.say("Het veldje bij de school")
    await person.say(future_day(40))
    await person.toggle("space")
    await person.pick("yes")
    return await person.pick("chat")


@pytest.fixture
async def people(app: App) -> dict[str, Person]:
    marked = Marked(app.service.catalogs, "tr")
    app.service.catalogs = marked  # the service's own texts
    app.service.parts = dataclasses.replace(app.service.parts, catalogs=marked)  # community's
    found = {
        "worker": await make_worker(app, "w-kerkelanden"),
        "elsewhere": await make_worker(app, "w-centrum", ("centrum",)),
        "young": Person(app.service, user_id="tg-555123"),
        "young2": Person(app.service, user_id="tg-555999"),
    }
    result = await cli(app, "workers", "grant", "--channel", "terminal", "--user-id", "w-town")
    assert result.exit_code == 0, result.output
    found["town"] = Person(app.service, user_id="w-town", channel="terminal")
    await onboard(found["town"])
    await onboard(found["young"], language="tr", age="12-17")
    await onboard(found["young2"], language="pl", age="12-17")
    return found


async def review(app: App, worker: Person) -> tuple[str, int | None]:
    [delivered] = await deliver(app, worker)
    assert delivered.row.content["flow"] == "review-proposal"
    return delivered.text, delivered.reply.conversation_id


async def only_proposal(app: App) -> Proposal:
    async with app.database.transaction() as session:
        return (await session.execute(select(Proposal))).scalar_one()


async def test_question_then_approve(app: App, people: dict[str, Person]) -> None:
    worker, young = people["worker"], people["young"]
    await propose(young)
    # At once, urgent, to the workers of Kerkelanden and of the whole town only.
    for name in ("worker", "town"):
        [row] = await queued(app, people[name])
        assert row.urgent and row.kind == "notice"
    assert not await queued(app, people["elsewhere"])

    text, _ = await review(app, worker)
    assert "Een sportdag met barbecue" in text and "12-17" in text and "Kerkelanden" in text
    assert "Young people" in text and "A place or a room" in text  # labels, not values
    young_row = await participant(app, young)
    assert "tg-555123" not in text and str(young_row.id) not in text.split("Idea")[0]
    assert "P-" in text
    assert worker.question().step == "decision"  # the idea is chosen already

    await worker.pick("question")
    reply = await worker.say("Welke zaterdag past jullie?")
    assert "Your question is sent" in reply
    assert (await only_proposal(app)).status == "asking"

    [asked] = await deliver(app, young)
    assert "Welke zaterdag past jullie?" in asked.text
    assert asked.text.startswith("⟨tr⟩")  # the flow's own words in their language
    await young.say("Zaterdag 6 juni")
    assert young.question().step == "good"  # back to where they were
    # The answer goes back to the worker who asked, not to every worker.
    assert not await queued(app, people["elsewhere"])
    text, _ = await review(app, worker)
    assert "Question: Welke zaterdag past jullie?" in text
    assert "Answer: Zaterdag 6 juni" in text

    reply = await worker.pick("approve")
    assert "Draft activity" in reply and "/newactivity" in reply
    proposal = await only_proposal(app)
    assert proposal.status == "approved" and proposal.activity_id is not None
    async with app.database.transaction() as session:
        activity = await session.get(Activity, proposal.activity_id)
        assert activity is not None and activity.status == "draft"
        assert activity.title["_"] == "Een sportdag met barbecue"
        organisers = dict(
            (
                await session.execute(
                    select(ActivityOrganiser.participant_id, ActivityOrganiser.role)
                )
            ).all()
        )
        kinds = [n.kind for n in (await session.execute(select(ProposalNote))).scalars()]
    assert organisers == {
        (await participant(app, worker)).id: "organiser",
        young_row.id: "co-organiser",
    }
    assert kinds == ["question", "answer", "approve"]
    [told] = await deliver(app, young)
    assert told.text.startswith("⟨tr⟩")  # in the young person's language
    assert "Een sportdag met barbecue" in told.text

    # The town-wide worker's notice is now out of date.
    await review(app, people["town"])
    reply = await people["town"].pick("decline")
    reply = await people["town"].say("Geen geld")
    assert "Another community worker already answered this idea" in reply
    assert (await only_proposal(app)).status == "approved"

    # The draft gets a date, time and place, and can then be invited to.
    reply = await worker.say(f"/newactivity {proposal.activity_id}")
    assert "Een sportdag met barbecue" in reply and "another name" in reply
    await worker.pick("yes")
    await worker.say("Sportdag")
    await worker.say(future_day(40))
    await worker.say("15:00")
    await worker.say("Het veldje")
    reply = await worker.pick("no")
    assert "Saved" in reply and f"/invite {proposal.activity_id}" in reply
    async with app.database.transaction() as session:
        activity = await session.get(Activity, proposal.activity_id)
        assert activity is not None and activity.status == "planned" and activity.starts_at
        assert activity.title["_"] == "Sportdag"  # the worker's new name


async def test_decline_tells_the_reason_in_their_language(
    app: App, people: dict[str, Person]
) -> None:
    worker, young = people["worker"], people["young"]
    await propose(young, "Een filmavond")
    await review(app, worker)
    await worker.pick("decline")
    reply = await worker.say("Het buurthuis is dan dicht.")
    assert "The young person is told" in reply
    proposal = await only_proposal(app)
    assert proposal.status == "declined"
    [told] = await deliver(app, young)
    assert told.text.startswith("⟨tr⟩")
    assert "Een filmavond" in told.text and "Het buurthuis is dan dicht." in told.text
    assert "/propose" in told.text


async def test_decide_later_and_list_open_proposals(app: App, people: dict[str, Person]) -> None:
    worker = people["worker"]
    reply = await worker.say("/proposals")
    assert "no open ideas" in reply
    await propose(people["young"], "Een filmavond")
    await propose(people["young2"], "Samen koken")
    await deliver(app, worker)
    reply = await worker.pick("later")
    assert "/proposals" in reply
    reply = await worker.say("/proposals")
    assert "Een filmavond" in reply and "Samen koken" in reply
    assert worker.question().step == "proposal"
    await worker.pick(str((await open_ids(app))[1]))
    await worker.pick("decline")
    await worker.say("Dat kan niet.")
    [told] = await deliver(app, people["young2"])
    assert "⟨tr⟩" not in told.text and "Dat kan niet." in told.text
    assert "Samen koken" not in await worker.say("/proposals")
    # The other worker sees neither: not their neighbourhood.
    assert "no open ideas" in await people["elsewhere"].say("/proposals")


async def open_ids(app: App) -> list[int]:
    async with app.database.transaction() as session:
        rows = await session.execute(select(Proposal.id).order_by(Proposal.id))
    return list(rows.scalars())


async def test_forged_review_buttons_change_nothing(
    app: App, people: dict[str, Person], caplog: pytest.LogCaptureFixture
) -> None:
    worker, young = people["worker"], people["young"]
    await propose(young)
    _, conversation_id = await review(app, worker)
    assert conversation_id is not None
    caplog.set_level(logging.INFO)
    for event in (Pick("decision", "approve"), Pick("decision", index=0), Pick("proposal", "1")):
        reply = await app.service.handle(
            Incoming(
                "test", young.user_id, event, key=f"f{next(_keys)}", conversation_id=conversation_id
            )
        )
        assert reply.stale, reply
    assert any("stale or foreign button" in r.getMessage() for r in caplog.records)
    # A resident with no conversation at all presses it: stale too.
    reply = await app.service.handle(
        Incoming(
            "test",
            "stranger",
            Pick("decision", "approve"),
            key="f-x",
            conversation_id=conversation_id,
        )
    )
    assert reply.stale
    proposal = await only_proposal(app)
    assert proposal.status == "open"
    async with app.database.transaction() as session:
        assert not (await session.execute(select(Activity))).first()
        assert not (await session.execute(select(ProposalNote))).first()
    # The worker's own button still works.
    reply = await app.service.handle(
        Incoming(
            worker.channel,
            worker.user_id,
            Pick("decision", "approve"),
            key="f-w",
            conversation_id=conversation_id,
        )
    )
    assert not reply.stale and (await only_proposal(app)).status == "approved"


async def test_a_revoked_worker_mid_review_is_refused_on_the_server(
    app: App, people: dict[str, Person], caplog: pytest.LogCaptureFixture
) -> None:
    worker = people["worker"]
    await propose(people["young"])
    await review(app, worker)
    result = await cli(
        app, "workers", "revoke", "--channel", "terminal", "--user-id", worker.user_id
    )
    assert result.exit_code == 0
    caplog.set_level(logging.WARNING)
    reply = await worker.pick("approve")
    assert "Sorry" in reply
    assert (await only_proposal(app)).status == "open"
    assert any("review-proposal refused" in r.getMessage() for r in caplog.records)
    async with app.database.transaction() as session:
        assert await roles.workers_for(session, "kerkelanden") != []  # the town-wide one
