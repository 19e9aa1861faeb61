"""A worker's neighbourhood news, with translations, for the check-in's update."""

from __future__ import annotations

from bot.app import App
from bot.community import news, roles
from bot.storage.models import Participant
from tests.community.helpers import make_worker, onboard, participant
from tests.helpers import Person


async def test_worker_news_reaches_the_check_in_in_the_residents_language(app: App) -> None:
    worker = await make_worker(app)
    reply = await worker.say("/news")
    assert worker.question().step == "text", reply  # their one neighbourhood is chosen
    await worker.say("Veel mensen willen een moestuin. We beginnen in mei.")
    await worker.pick("yes")
    reply = await worker.say("tr: Birçoğunuz bir sebze bahçesi istiyor.")
    assert "Saved. Residents of Kerkelanden" in reply
    async with app.database.transaction() as session:
        update = await news.update_for(session, "kerkelanden")
        assert await news.update_for(session, "centrum") is None
    assert update == {
        "_": "Veel mensen willen een moestuin. We beginnen in mei.",
        "tr": "Birçoğunuz bir sebze bahçesi istiyor.",
    }
    for language, expected in (("tr", update["tr"]), ("pl", update["_"])):
        resident = Person(app.service, user_id=f"r-{language}")
        await onboard(resident, language=language)
        p = await participant(app, resident)
        reply = await app.service.start_flow_for(p.id, "checkin", {"neighbourhood_update": update})
        assert expected in Person.text(reply)


async def test_news_for_another_neighbourhood_is_refused(app: App) -> None:
    worker = await make_worker(app, neighbourhoods=("kerkelanden", "centrum"))
    await worker.say("/news")
    assert {o.value for o in worker.question().options} == {"centrum", "kerkelanden"}
    await worker.pick("centrum")
    await worker.say("Het park krijgt nieuwe banken.")
    p = await participant(app, worker)
    async with app.database.transaction() as session:
        found = await session.get(Participant, p.id)
        assert found is not None
        await roles.revoke(session, found, ["centrum"])
    reply = await worker.pick("no")
    assert "Sorry, you cannot write news" in reply
    async with app.database.transaction() as session:
        assert await news.update_for(session, "centrum") is None


async def test_checkin_tells_the_news_of_the_persons_neighbourhood(app: App) -> None:
    """The worker's words reach the check-in, in the resident's language when translated."""
    from sqlalchemy import select

    from bot.community.news import set_news
    from bot.storage.models import Participant
    from tests.conversation.test_service import onboard
    from tests.helpers import Person

    resident = Person(app.service, user_id="news-1")
    await onboard(resident)  # English, Kerkelanden
    async with app.database.transaction() as session:
        await set_news(
            session,
            "kerkelanden",
            {"_": "Er komt een moestuin.", "en": "A garden is coming."},
            None,
        )
        person = (await session.execute(select(Participant))).scalar_one()
    reply = await app.service.start_flow_for(person.id, "checkin")
    assert "A garden is coming." in Person.text(reply)
