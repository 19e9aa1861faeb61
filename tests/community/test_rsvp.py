"""Going, maybe, can't; changing an answer; a waiting list that moves up and says so;
/activities for workers (who comes) and residents (what is near)."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import App
from bot.storage.models import Participant
from bot.storage.models.community import Rsvp
from tests.community.helpers import (
    activity_id,
    deliver,
    invite,
    make_worker,
    new_activity,
    onboard,
    participant,
    queued,
)
from tests.helpers import Person


async def answers(app: App) -> dict[str, tuple[str, bool]]:
    async with app.database.transaction() as session:
        rows = (await session.execute(select(Rsvp))).scalars().all()
        found = {}
        for row in rows:
            person = await session.get(Participant, row.participant_id)
            assert person is not None
            found[person.channel_user_id] = (row.answer, row.waiting)
    return found


async def invited(app: App, count: int = 3, languages=("en", "en", "en")) -> list[Person]:
    people = []
    for number, language in enumerate(languages[:count]):
        person = Person(app.service, user_id=f"r{number}")
        await onboard(person, language=language)
        people.append(person)
    return people


async def test_waiting_list_with_one_place(app: App) -> None:
    worker = await make_worker(app)
    first, second, third = await invited(app)
    await new_activity(worker, capacity=1)
    await invite(worker)
    for person in (first, second, third):
        await deliver(app, person)

    reply = await first.pick("going")
    assert 'Great! See you at "Buurtbarbecue"' in reply
    # After answering, the person is back in their own conversation.
    assert "What is good about your neighbourhood?" in reply
    reply = await second.pick("going")
    assert "waiting list" in reply
    await third.pick("maybe")
    assert await answers(app) == {
        "r0": ("going", False),
        "r1": ("going", True),
        "r2": ("maybe", False),
    }
    reply = await worker.say("/activities")
    assert "going: 1 of 1 · maybe: 1 · can't: 0 · waiting list: 1 · invited: 3" in reply

    # The first one cannot come after all: the second gets the place, and is told.
    reply = await first.say("/activities")
    assert "you said: I will come" in reply
    await first.pick((await activity_options(first))[0])
    reply = await first.pick("no")
    assert "Thank you for letting us know" in reply
    assert await answers(app) == {
        "r0": ("no", False),
        "r1": ("going", False),
        "r2": ("maybe", False),
    }
    [notice] = await queued(app, second)
    assert notice.kind == "notice"
    [told] = await deliver(app, second)
    assert "A place came free" in told.text and "Buurtbarbecue" in told.text

    # Changing back: the place is gone now, so the first one waits.
    await first.say("/activities")
    await first.pick((await activity_options(first))[0])
    reply = await first.pick("going")
    assert "waiting list" in reply
    reply = await worker.say("/activities")
    assert "going: 1 of 1 · maybe: 1 · can't: 0 · waiting list: 1 · invited: 3" in reply


async def activity_options(person: Person) -> list[str]:
    return [o.value for o in person.question().options if o.value != "close"]


async def test_the_same_answer_twice_changes_nothing_and_maybe_takes_no_place(app: App) -> None:
    worker = await make_worker(app)
    first, second = await invited(app, 2)
    await new_activity(worker, capacity=1)
    await invite(worker)
    await deliver(app, first)
    await deliver(app, second)
    await first.pick("maybe")
    reply = await second.pick("going")
    assert "Great!" in reply  # maybe does not take the place
    await second.say("/activities")
    await second.pick((await activity_options(second))[0])
    reply = await second.pick("going")
    assert "Great!" in reply
    assert await answers(app) == {"r0": ("maybe", False), "r1": ("going", False)}


async def test_residents_see_the_activities_of_their_neighbourhood(app: App) -> None:
    worker = await make_worker(app)
    [near] = await invited(app, 1)
    far = Person(app.service, user_id="far")
    await onboard(far, neighbourhood="centrum")
    reply = await near.say("/activities")
    assert "no activities planned in your neighbourhood" in reply
    await new_activity(worker)
    reply = await near.say("/activities")
    assert "Activities near you:" in reply and "Buurtbarbecue" in reply
    assert near.question().step == "activity"
    reply = await near.pick("close")
    assert "What is good about your neighbourhood?" in reply  # back where they were
    assert "no activities planned" in await far.say("/activities")
    assert await answers(app) == {}
    # Answering from the list works without an invitation, for their own neighbourhood.
    await near.say("/activities")
    await near.pick(str(await activity_id(app)))
    assert "Great!" in await near.pick("going")
    assert (await participant(app, near)).neighbourhood == "kerkelanden"


async def test_worker_activities_lists_nothing_before_the_first(app: App) -> None:
    worker = await make_worker(app)
    reply = await worker.say("/activities")
    assert "There are no upcoming activities" in reply


async def test_a_place_freed_by_forget_goes_to_the_waiting_list(app: App) -> None:
    worker = await make_worker(app)
    first, second = await invited(app, 2)
    await new_activity(worker, capacity=1)
    await invite(worker)
    for person in (first, second):
        await deliver(app, person)
    await first.pick("going")
    await second.pick("going")
    assert await answers(app) == {"r0": ("going", False), "r1": ("going", True)}

    await first.say("/forget")
    await first.pick("yes")
    assert await answers(app) == {"r1": ("going", False)}
    [told] = await deliver(app, second)
    assert "A place came free" in told.text
