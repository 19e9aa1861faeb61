"""A young person's journey: propose, hear what happens, and be forgotten for real.

The idea carries a phone number and an address, as ideas do. A worker on Telegram asks a
question and approves it; a second idea is never reviewed. After /forget the raw
database (the SQLite file and its write-ahead log) holds none of the young person's
words: not in the workers' notices, their review conversations, or the activity the idea
became, which keeps a neutral title. The unreviewed idea leaves /proposals, and the
worker is told.
"""

from __future__ import annotations

import pytest
from sqlalchemy import MetaData, select, text

from bot.community import invitations
from bot.storage.models.community import Activity
from tests.channels.signal.conftest import option
from tests.community.helpers import future_day
from tests.journeys.conftest import World

pytestmark = pytest.mark.postgres

IDEA = "Voetbaltoernooi met barbecue, bel me op 0612345678 of kom naar Kerkstraat 12"
WHERE = "Het veldje achter Kerkstraat 12"
ANSWER = "Zaterdag, mijn moeder Fatima helpt, haar nummer is 0687654321"
SECOND = "Filmavond bij familie Jansen in de Lindelaan 4"
THIRD = "Een graffitimuur bij het huis van Ahmed"
WORDS = [
    "0612345678",
    "Kerkstraat",
    "Voetbaltoernooi",
    "0687654321",
    "Fatima",
    "Jansen",
    "Lindelaan",
    "graffitimuur",
    "Ahmed",
]


async def propose_on_signal(world: World, person, idea: str, where: str | None) -> str:
    reply = await world.sg(person, "/propose")
    assert "What do you want to organise?" in reply
    reply = await world.sg(person, idea)
    reply = await world.sg(person, option(reply, "Young people"))
    reply = await world.sg(person, where or option(reply, "Rather not say"))
    reply = await world.sg(person, option(reply, "Rather not say"))  # no date
    reply = await world.sg(person, option(reply, "Materials"))
    assert "help organise" in reply
    reply = await world.sg(person, "yes")
    return await world.sg(person, option(reply, "Here in this chat"))


async def newest_activity(world: World) -> int:
    """The id of the newest activity (the draft an approval just made)."""
    async with world.app.database.transaction() as session:
        ids = list((await session.execute(select(Activity.id).order_by(Activity.id))).scalars())
    return ids[-1]


async def everything_stored(world: World) -> str:
    """Every value in every table, as text (PostgreSQL: no file to read)."""
    metadata = MetaData()
    async with world.app.database.engine.connect() as connection:
        await connection.run_sync(metadata.reflect)
        parts = []
        for table in metadata.sorted_tables:
            rows = await connection.execute(select(table))
            parts.extend(str(tuple(row)) for row in rows)
            if world.app.database.is_sqlite:
                continue
            rows = await connection.execute(text(f'SELECT t::text FROM "{table.name}" t'))
            parts.extend(str(row[0]) for row in rows)
    return "\n".join(parts)


async def test_young_person_proposes_hears_back_and_is_forgotten(world: World) -> None:
    worker = world.server.user(900, "Wijkwerker", language_code="en")
    await world.worker(worker)
    samira = world.daemon.person("Samira")
    await world.sg_onboard(samira, age="12 to 17")

    said = await propose_on_signal(world, samira, IDEA, WHERE)
    assert "A community worker will answer you here within a week." in said
    assert "/myproposals" in said
    assert "waiting for an answer" in await world.sg(samira, "/myproposals")

    # The worker gets the idea and asks a question; the answer comes back.
    start = len(world.server.calls)
    assert await world.deliver() == 1
    assert "0612345678" in world.tg_since(worker, start)  # workers read what was typed
    await world.tg(worker, lambda: worker.press("Ask a question"), "Type your question")
    await world.tg(worker, lambda: worker.send_text("Welke dag past?"), "question is sent")
    await world.deliver()
    assert "Welke dag past?" in samira.text()
    assert "a community worker asked you a question" in await world.sg(samira, "my ideas")
    await world.sg(samira, ANSWER)
    start = len(world.server.calls)
    await world.deliver()
    assert "Fatima" in world.tg_since(worker, start)
    await world.tg(worker, lambda: worker.press("Approve it"), "/newactivity")
    await world.deliver()
    assert "Good news" in samira.text()
    mine = await world.sg(samira, "/myproposals")
    assert "approved: a community worker is planning it" in mine

    # A second idea is approved, planned and invited to: residents get its title.
    await propose_on_signal(world, samira, SECOND, None)
    await world.deliver()
    await world.tg(worker, lambda: worker.press("Approve it"), "/newactivity")
    second = await newest_activity(world)
    await world.tg(worker, lambda: worker.send_command("newactivity", str(second)), "Filmavond")
    await world.tg(worker, lambda: worker.press("No"), "On which day is it?")
    await world.tg(worker, lambda: worker.send_text(future_day(20)), "what time")
    await world.tg(worker, lambda: worker.send_text("19:30"), "Where is it")
    await world.tg(worker, lambda: worker.send_text("Buurthuis De Schakel"), "maximum")
    await world.tg(worker, lambda: worker.press("No"), "Saved")
    anouk = world.server.user(901, "Anouk", language_code="en")
    await world.tg_onboard(anouk)
    async with world.app.database.transaction() as session:
        activity = await session.get(Activity, second)
        people = await invitations.select_audience(
            session, invitations.Audience.of(["kerkelanden"]), activity_id=second
        )
        await invitations.queue_invitations(session, world.app.parts, activity, people)
    start = len(world.server.calls)
    await world.deliver()
    assert "Filmavond" in world.tg_since(anouk, start)

    # A third idea that no one answers yet.
    await propose_on_signal(world, samira, THIRD, None)
    await world.deliver()
    assert "graffitimuur" in world.tg_since(worker, 0)

    # /forget, one confirmation.
    reply = await world.sg(samira, "/forget")
    assert "delete" in reply.lower()
    reply = await world.sg(samira, "yes")
    assert "We deleted everything" in reply

    stored = await everything_stored(world)
    for word in WORDS:
        assert word not in stored, word
    if world.app.database.is_sqlite:
        raw = world.raw_database()
        for word in WORDS:
            assert word.encode() not in raw, f"{word} is still in the database file"

    # The activities stay, with a neutral title the worker can change.
    async with world.app.database.transaction() as session:
        activity, planned = (
            await session.execute(select(Activity).order_by(Activity.id))
        ).scalars()
    assert activity.title["en"] == f"Activity {activity.id}" and activity.place == ""
    assert planned.title["en"] == f"Activity {planned.id}"
    assert planned.place == "Buurthuis De Schakel"  # the worker's words stay
    # The unreviewed idea left /proposals, and the worker is told.
    start = len(world.server.calls)
    await world.deliver()
    told = world.tg_since(worker, start)
    assert "A young person deleted their data" in told and "is gone" in told
    listed = await world.tg(worker, lambda: worker.send_command("proposals"), "no open ideas")
    assert "Filmavond" not in listed
    renamed = await world.tg(
        worker, lambda: worker.send_command("newactivity", str(activity.id)), "another name"
    )
    assert f"Activity {activity.id}" in renamed
    # Bad input at the new steps: a short answer and the question again.
    again = await world.tg(worker, lambda: worker.send_text("misschien"), "another name")
    assert "Please answer yes or no." in again
    await world.tg(worker, lambda: worker.press("Yes"), "What is the new name?")
    again = await world.tg(worker, lambda: worker.send_text("x"), "What is the new name?")
    await world.tg(worker, lambda: worker.send_text("Voetbaldag"), "On which day is it?")


async def test_no_worker_for_the_neighbourhood_is_said_honestly(world: World) -> None:
    young = world.server.user(910, "Noah", language_code="en")
    await world.tg_onboard(young, place="Schelfhorst", age="12 to 17")
    await world.tg(young, lambda: young.send_command("propose"), "What do you want to organise")
    await world.tg(young, lambda: young.send_text("Een skatebaan"), "Who is it for")
    await world.tg(young, lambda: young.press("Young people"), "Done")
    await world.tg(young, lambda: young.press("Done"), "Where could it be")
    await world.tg(young, lambda: young.press("Rather not say"), "On which day")
    await world.tg(young, lambda: young.press("Rather not say"), "What do you need")
    await world.tg(young, lambda: young.press("Done"), "help organise")
    await world.tg(young, lambda: young.press("No"), "How do you want to hear")
    said = await world.tg(young, lambda: young.press("Here in this chat"), "coordinators")
    assert "within a week" not in said
    assert "Right now no community worker works in your neighbourhood" in said
    assert "Welzijn Almelo" in said
    assert "A community worker calls me" not in said  # that option is gone
    mine = await world.tg(young, lambda: young.send_command("myproposals"), "Your ideas")
    assert "Een skatebaan" in mine and "waiting for an answer" in mine
