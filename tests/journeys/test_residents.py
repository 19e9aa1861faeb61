"""A resident's journey from their own seat, over Telegram and Signal: what they are told
is what then happens.

* "No" to hearing back: nothing is queued; "yes": the check-in comes two weeks later,
  and its "yes, I want to join" makes them count for invitations (and /mydata says so).
* "Going" to an activity: the day after, the feedback flow comes (only to those still
  going, not for a cancelled activity); its answers are stored like any resident flow's.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.community import activities, invitations, rsvp
from bot.storage.models import Answer, utcnow
from bot.storage.models.community import CANCELLED, NOT_GOING, Activity, Rsvp
from tests.channels.signal.conftest import option
from tests.journeys.conftest import World

pytestmark = pytest.mark.postgres

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


async def what_matters_on_telegram(world: World, user, hear_back: str) -> str:
    """The seven questions of what-matters, with buttons and typed answers."""
    await world.tg(user, lambda: user.send_text("The park"), "What would you like to change")
    await world.tg(user, lambda: user.press("Sport and play"), "Done")
    await world.tg(user, lambda: user.press("Done"), "Tell us a bit more")
    await world.tg(user, lambda: user.send_text("More benches"), "What would you like to do")
    await world.tg(user, lambda: user.send_text("A garden"), "What could you give")
    await world.tg(user, lambda: user.press("Some of my time"), "Done")
    await world.tg(user, lambda: user.press("Done"), "hear what happens")
    return await world.tg(user, lambda: user.press(hear_back), "Thank you! 🙏")


async def what_matters_on_signal(world: World, person, hear_back: str) -> str:
    reply = await world.sg(person, "The park")
    await world.sg(person, option(reply, "Sport and play"))  # typed numbers: in one go
    await world.sg(person, "More benches")
    reply = await world.sg(person, "A garden")
    reply = await world.sg(person, option(reply, "Some of my time"))
    assert "hear what happens" in reply
    return await world.sg(person, hear_back)


async def test_no_means_no_and_yes_gets_the_checkin(world: World) -> None:
    anouk = world.server.user(801, "Anouk", language_code="en")
    emre = world.daemon.person("Emre")
    await world.tg_onboard(anouk)
    await world.sg_onboard(emre)

    await what_matters_on_telegram(world, anouk, "No")
    said = await what_matters_on_signal(world, emre, "yes")
    assert "Thank you! 🙏" in said
    anouk_row = await world.participant("telegram", str(anouk.user_id))
    emre_row = await world.participant("signal", emre.uuid)
    assert await world.outbox(anouk_row) == []  # "no": nothing queued
    [checkin] = await world.outbox(emre_row)
    assert checkin.content["flow"] == "checkin" and checkin.status == "queued"

    # /mydata shows what is planned for the one who said yes, nothing for the other.
    mydata = await world.tg(anouk, lambda: anouk.send_command("mydata"), "what we know")
    assert "We will send you" not in mydata and "We also keep" not in mydata
    planned = await world.sg(emre, "/mydata")
    assert "We will send you:" in planned and "What happened with your answers" in planned

    # Two weeks later the check-in comes, to Emre only.
    before = len(world.server.sent_messages(anouk.chat_id))
    assert await world.later(timedelta(days=14, minutes=5)) == 1
    assert len(world.server.sent_messages(anouk.chat_id)) == before
    got = emre.text()
    assert "Two weeks ago you told us what matters to you" in got
    assert "Do you want to join an activity" in got

    # "Yes" to joining counts: an invitation for other interests reaches Emre too.
    reply = await world.sg(emre, "yes")
    assert "we will invite you" in reply
    assert (await world.participant("signal", emre.uuid)).wants_activities
    assert "You want invitations to activities in your neighbourhood." in await world.sg(
        emre, "/mydata"
    )
    async with world.app.database.transaction() as session:
        audience = invitations.Audience.of(["kerkelanden"], interests=["cooking"])
        reached = await invitations.select_audience(session, audience)
    assert [p.channel for p in reached] == ["signal"]


async def test_no_to_joining_changes_nothing(world: World) -> None:
    emre = world.daemon.person("Emre")
    await world.sg_onboard(emre)
    await what_matters_on_signal(world, emre, "yes")
    assert await world.later(timedelta(days=14, minutes=5)) == 1
    emre.take()
    reply = await world.sg(emre, "no")
    assert "That is fine" in reply
    assert not (await world.participant("signal", emre.uuid)).wants_activities
    assert "You want invitations" not in await world.sg(emre, "/mydata")


def day_after_at(starts: datetime, hour: int, minute: int = 0) -> datetime:
    day = starts.astimezone(AMSTERDAM).date() + timedelta(days=1)
    return datetime.combine(day, time(hour, minute), tzinfo=AMSTERDAM).astimezone(UTC)


async def test_an_earlier_invitation_can_still_be_answered(world: World) -> None:
    """Two invitations in a row: the first one's buttons still count, and the second
    invitation is asked again after it; a press on an ended conversation stays stale."""
    anouk = world.server.user(821, "Anouk", language_code="en")
    await world.tg_onboard(anouk)
    starts = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    async with world.app.database.transaction() as session:
        made = [
            await activities.create_activity(
                session,
                title={"en": title},
                starts_at=starts + timedelta(hours=hours),
                place="De Schakel",
                neighbourhoods=["kerkelanden"],
            )
            for title, hours in (("Soup evening", 0), ("Bike repair", 2))
        ]
        people = await invitations.select_audience(
            session, invitations.Audience.of(["kerkelanden"])
        )
        for activity in made:
            await invitations.queue_invitations(session, world.app.parts, activity, people)
    assert await world.deliver() == 2

    sent = world.server.sent_messages(anouk.chat_id)
    first, second = sorted(
        (c for c in sent if "Soup evening" in (c.text or "") or "Bike repair" in (c.text or "")),
        key=lambda c: c.result["message_id"],
    )
    earlier = next(a for a in made if a.title["en"] in (first.text or ""))
    keyboard = first.params["reply_markup"]["inline_keyboard"]
    can_not = next(
        b["callback_data"] for row in keyboard for b in row if b["text"] == "I can't come"
    )
    later = next(a for a in made if a.title["en"] in (second.text or ""))
    start = len(world.server.calls)
    await world.tg(
        anouk,
        lambda: anouk.press("Yes, I will come", message_id=first.result["message_id"]),
        "See you",
    )
    await world.server.wait_for(
        lambda: later.title["en"] in world.tg_since(anouk, start) or None, timeout=15
    )
    async with world.app.database.transaction() as session:
        answers = {r.activity_id: r.answer for r in (await session.execute(select(Rsvp))).scalars()}
    assert answers == {earlier.id: "going"}

    # The later invitation, asked again, is answered as usual.
    await world.tg(anouk, lambda: anouk.press("Maybe"), "")
    # The first invitation's buttons once more: that conversation has ended.
    answered = len(world.server.calls_to("answerCallbackQuery"))
    anouk.press_data(can_not, message_id=first.result["message_id"])
    await world.server.wait_for_calls("answerCallbackQuery", answered + 1)
    await world.server.wait_idle()
    assert (
        world.server.calls_to("answerCallbackQuery")[-1].params["text"]
        == "This button is from an earlier question."
    )
    async with world.app.database.transaction() as session:
        answers = {r.activity_id: r.answer for r in (await session.execute(select(Rsvp))).scalars()}
    assert answers == {earlier.id: "going", later.id: "maybe"}


async def test_going_gets_feedback_the_day_after(world: World) -> None:
    anouk = world.server.user(811, "Anouk", language_code="en")  # going
    bram = world.server.user(812, "Bram", language_code="en")  # maybe
    emre = world.daemon.person("Emre")  # going, then can't
    await world.tg_onboard(anouk)
    await world.tg_onboard(bram)
    await world.sg_onboard(emre)
    emre.take()

    starts = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    async with world.app.database.transaction() as session:
        barbecue = await activities.create_activity(
            session,
            title={"en": "Neighbourhood barbecue", "nl": "Buurtbarbecue"},
            starts_at=starts,
            place="De Schakel",
            neighbourhoods=["kerkelanden"],
        )
        cancelled = await activities.create_activity(
            session,
            title={"en": "Walk in the park"},
            starts_at=starts + timedelta(hours=2),
            place="Het park",
            neighbourhoods=["kerkelanden"],
        )
        people = await invitations.select_audience(
            session, invitations.Audience.of(["kerkelanden"])
        )
        for activity in (barbecue, cancelled):
            await invitations.queue_invitations(session, world.app.parts, activity, people)
    assert await world.deliver() == 6

    # Anouk is going to both, Bram maybe; Emre first going, then not.
    # Each invitation's own buttons (not "the latest message": under load the end of the
    # onboarding may be the newest one).
    first = world.server.sent_messages(anouk.chat_id)
    walk_message = next(c for c in first if "Walk in the park" in (c.text or ""))
    barbecue_message = next(c for c in first if "Neighbourhood barbecue" in (c.text or ""))
    await world.tg(
        anouk,
        lambda: anouk.press("Yes, I will come", message_id=walk_message.result["message_id"]),
        "See you",
    )
    await world.tg(
        anouk,
        lambda: anouk.press("Yes, I will come", message_id=barbecue_message.result["message_id"]),
        "See you",
    )
    await world.tg(bram, lambda: bram.press("Maybe"), "")
    invitation = emre.last_question("Neighbourhood barbecue")
    reply = await world.sg(emre, option(invitation.message, "Yes, I will come"))
    assert "See you" in reply
    async with world.app.database.transaction() as session:
        activity = await session.get(Activity, barbecue.id)
        emre_row = await world.participant("signal", emre.uuid)
        await rsvp.respond(session, world.app.parts, activity, emre_row, NOT_GOING)
        (await session.get(Activity, cancelled.id)).status = CANCELLED

    # The evening of the activity and early next morning: nothing yet.
    world.clock.set(starts + timedelta(hours=4))
    assert await world.later(timedelta(0)) == 0
    world.clock.set(day_after_at(starts, 9, 30))
    assert await world.later(timedelta(0)) == 0
    # From 10:00 the day after: the feedback, to Anouk only, once.
    before_bram = len(world.server.sent_messages(bram.chat_id))
    world.clock.set(day_after_at(starts, 10, 5))
    start = len(world.server.calls)
    assert await world.later(timedelta(0)) == 1
    asked = world.tg_since(anouk, start)
    assert "Did you go?" in asked
    assert await world.later(timedelta(minutes=15)) == 0  # asked once, not again
    assert 'Yesterday was "Neighbourhood barbecue"' in asked
    assert "Walk in the park" not in asked
    assert len(world.server.sent_messages(bram.chat_id)) == before_bram
    assert emre.take() == []
    rows = [r for r in await world.outbox() if r.kind == "feedback"]
    assert len(rows) == 1 and rows[0].status == "sent"

    await world.tg(anouk, lambda: anouk.press("Yes"), "How was it?")
    again = await world.tg(anouk, lambda: anouk.send_text("banana"), "How was it?")
    assert "1 😞 Bad" in again  # bad input: a short answer and the question again
    await world.tg(anouk, lambda: anouk.press("5 😃 Very good"), "What was good")
    await world.tg(anouk, lambda: anouk.send_text("The food!"), "help next time")
    await world.tg(anouk, lambda: anouk.press("Yes"), "We will use your tips")
    async with world.app.database.transaction() as session:
        stored = {
            a.step_key: a.value
            for a in (
                await session.execute(select(Answer).where(Answer.flow_id == "feedback"))
            ).scalars()
        }
    assert stored == {"went": True, "rating": 5, "good": "The food!", "help_next": True}
    # "Yes" to helping next time counts for invitations too.
    assert (await world.participant("telegram", str(anouk.user_id))).wants_activities
