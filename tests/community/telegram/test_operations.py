"""A worker's tools under real use, over the Telegram test server: cancelling an activity
reaches everyone who said going or maybe in their own language and stops what is
queued; a cancelled activity is refused in the chat and on the command line alike; a
scheduled invitation is stopped before it goes out; a new worker is not pushed into the
residents' survey; absurd numbers get the usual answer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import App
from bot.channels.telegram import TelegramChannel
from bot.community import activities, audit
from bot.storage.models import Answer, OutboxMessage, utcnow
from bot.storage.models.community import Activity, Rsvp
from tests.community.helpers import cli, invite_code
from tests.community.telegram.test_end_to_end import act, deliver, onboard, press_nth
from tests.fakes.telegram_api import FakeTelegramServer, FakeUser


async def make_activity(app: App, days: int = 10) -> int:
    async with app.database.transaction() as session:
        made = await activities.create_activity(
            session,
            title={"_": "Buurtbarbecue", "tr": "Mahalle barbeküsü", "pl": "Grill sąsiedzki"},
            starts_at=utcnow() + timedelta(days=days),
            place="De Schakel",
            neighbourhoods=["kerkelanden"],
        )
        return made.id


async def worker_of(app: App, server: FakeTelegramServer) -> FakeUser:
    worker = server.user(500, "Wijkwerker", language_code="en")
    await onboard(server, worker, "en", "Kerkelanden")
    code = await invite_code(app)
    await act(server, worker, lambda: worker.send_command("worker", code), "community worker for")
    return worker


def sent_to(server: FakeTelegramServer, user: FakeUser, since: int) -> list[str]:
    return [
        call.text or ""
        for call in server.calls[since:]
        if call.chat_id == user.chat_id and call.ok and call.text
    ]


@pytest.mark.usefixtures("channel")
async def test_cancelling_reaches_everyone_going_in_their_language(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    worker = await worker_of(app, server)
    anouk = server.user(601, "Anouk", language_code="nl")
    emre = server.user(602, "Emre", language_code="tr")
    kasia = server.user(603, "Kasia", language_code="pl")
    for user, language in ((anouk, "nl"), (emre, "tr"), (kasia, "pl")):
        await onboard(server, user, language, "Kerkelanden")
    activity_id = await make_activity(app)
    result = await cli(app, "broadcast", "--activity", str(activity_id))
    assert result.output.strip().splitlines()[-1] == "3"
    assert await deliver(app, channel) == 3
    # Anouk comes, Emre maybe, Kasia cannot: by the invitation's buttons.
    for user, position in ((anouk, 0), (emre, 1), (kasia, 2)):
        await act(server, user, press_nth(user, server, position), ":good:")

    # Meanwhile a second round is planned for next week; it must not go out either.
    at = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT10:00")
    late = server.user(604, "Bram", language_code="nl")
    await onboard(server, late, "nl", "Kerkelanden")
    result = await cli(app, "broadcast", "--activity", str(activity_id), "--at", at)
    assert result.output.strip().splitlines()[-1] == "1"

    # The worker cancels it in the chat: /activities, the activity, cancel, yes.
    await act(server, worker, lambda: worker.send_command("activities"), "change or cancel")
    await act(server, worker, press_nth(worker, server, 0), "What do you want to do?")
    await act(server, worker, lambda: worker.press("Cancel the activity"), "cannot be undone")
    text = await act(server, worker, lambda: worker.press("Yes"), "is cancelled")
    assert "2 people who said they would come or maybe get a message" in text

    start = len(server.calls)
    assert await deliver(app, channel) == 2
    dutch = " ".join(sent_to(server, anouk, start))
    turkish = " ".join(sent_to(server, emre, start))
    assert "“Buurtbarbecue” op" in dutch and "gaat niet door" in dutch
    assert "“Mahalle barbeküsü”" in turkish and "iptal edildi" in turkish
    assert sent_to(server, kasia, start) == [] and sent_to(server, late, start) == []
    async with app.database.transaction() as session:
        rows = (await session.execute(select(OutboxMessage))).scalars().all()
        found = await session.get(Activity, activity_id)
    assert found is not None and found.status == "cancelled"
    stopped = [r for r in rows if r.kind == "invitation" and r.status == "cancelled"]
    assert len(stopped) == 1 and stopped[0].last_error == "the activity was cancelled"

    # Refused everywhere now: the command line, and /invite in the chat.
    refused = await cli(app, "broadcast", "--activity", str(activity_id))
    assert refused.exit_code == 1 and "it is cancelled" in refused.output
    await act(
        server,
        worker,
        lambda: worker.send_command("invite", str(activity_id)),
        "no upcoming activities to invite people to",
    )


@pytest.mark.usefixtures("channel")
async def test_an_invitation_round_cancelled_midway_is_refused_in_the_chat(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    """The worker is at "Do you want to send it?" when an operator cancels it."""
    worker = await worker_of(app, server)
    resident = server.user(601, "Anouk", language_code="nl")
    await onboard(server, resident, "nl", "Kerkelanden")
    activity_id = await make_activity(app)
    await act(server, worker, lambda: worker.send_command("invite"), "Which ages")
    await act(server, worker, lambda: worker.press("Done"), "interests")
    await act(server, worker, lambda: worker.press("Done"), "languages")
    await act(server, worker, lambda: worker.press("Done"), "Who of them")
    await act(server, worker, lambda: worker.press("Everyone who matches"), "send it?")
    result = await cli(app, "activities", "cancel", str(activity_id))
    assert result.exit_code == 0, result.output
    # The reason, and that nothing went.
    await act(server, worker, lambda: worker.press("Send now"), "This activity is cancelled.")
    assert any("Nothing was sent" in text for text in sent_to(server, worker, 0))
    async with app.database.transaction() as session:
        assert not (await session.execute(select(OutboxMessage))).first()


@pytest.mark.usefixtures("channel")
async def test_a_scheduled_invitation_is_stopped_before_it_goes_out(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    worker = await worker_of(app, server)
    people = [server.user(601 + n, f"R{n}", language_code="nl") for n in range(2)]
    for user in people:
        await onboard(server, user, "nl", "Kerkelanden")
    activity_id = await make_activity(app)
    at = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT10:00")
    await cli(app, "broadcast", "--activity", str(activity_id), "--at", at)
    await act(server, worker, lambda: worker.send_command("activities"), "change or cancel")
    await act(server, worker, press_nth(worker, server, 0), "What do you want to do?")
    await act(
        server, worker, lambda: worker.press("Stop invitations that were not sent yet"), "keep it"
    )
    await act(server, worker, lambda: worker.press("Yes"), "2 invitations were stopped")
    async with app.database.transaction() as session:
        rows = (await session.execute(select(OutboxMessage))).scalars().all()
        found = await session.get(Activity, activity_id)
    assert {r.status for r in rows} == {"cancelled"} and found.status == "planned"
    async with app.database.transaction() as session:
        [entry, *_] = await audit.entries(session)
    assert (entry.action, entry.via, entry.subject) == (
        audit.INVITATION_STOPPED,
        audit.CHAT,
        f"activity {activity_id}: 2 stopped",
    )
    # They can be invited again, now.
    result = await cli(app, "broadcast", "--activity", str(activity_id))
    assert result.output.strip().splitlines()[-1] == "2"


@pytest.mark.usefixtures("channel")
async def test_changing_the_time_tells_who_comes(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    worker = await worker_of(app, server)
    emre = server.user(602, "Emre", language_code="tr")
    await onboard(server, emre, "tr", "Kerkelanden")
    activity_id = await make_activity(app)
    await cli(app, "broadcast", "--activity", str(activity_id))
    await deliver(app, channel)
    await act(server, emre, press_nth(emre, server, 0), ":good:")
    await act(server, worker, lambda: worker.send_command("activities"), "change or cancel")
    await act(server, worker, press_nth(worker, server, 0), "What do you want to do?")
    await act(server, worker, lambda: worker.press("Change the place"), "Where is it now")
    text = await act(server, worker, lambda: worker.send_text("Sporthal Noord"), "Saved")
    await server.wait_idle()
    assert "(number" in text
    start = len(server.calls)
    assert await deliver(app, channel) == 1
    (told,) = sent_to(server, emre, start)
    assert "Mahalle barbeküsü" in told and "Sporthal Noord" in told and "değişti" in told


@pytest.mark.usefixtures("channel")
async def test_a_new_worker_is_not_pushed_into_the_survey(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    """`/worker CODE` as the very first message: onboarding, then no survey; after a
    worker flow the survey does not come back; asked for, it is answered and counted."""
    worker = server.user(700, "Nieuw", language_code="en")
    code = await invite_code(app)
    await act(server, worker, lambda: worker.send_command("worker", code), "Nederlands")
    await act(server, worker, lambda: worker.press("English"), ":consent:")
    await act(server, worker, press_nth(worker, server, 0), ":neighbourhood:")
    await act(server, worker, lambda: worker.press("Kerkelanden"), ":age_group:")
    await act(server, worker, press_nth(worker, server, 2), ":interests:")
    await act(server, worker, press_nth(worker, server, 0), "✅")
    start = len(server.calls)
    await act(server, worker, press_nth(worker, server, -1), "Type /help")
    await server.wait_idle()
    assert not any("What is good" in t for t in sent_to(server, worker, start))

    # A worker flow ends: nothing of the residents' survey follows.
    await make_activity(app)
    start = len(server.calls)
    await act(server, worker, lambda: worker.send_command("activities"), "change or cancel")
    await act(server, worker, lambda: worker.press("No, thank you"), "")
    await server.wait_idle()
    assert not any("What is good" in t for t in sent_to(server, worker, start))
    help_text = await act(server, worker, lambda: worker.send_command("help"), "/results")
    assert "/export" in help_text and "/newactivity" in help_text

    # Asked for, the survey runs, and the answer counts like a resident's.
    await act(server, worker, lambda: worker.send_command("matters"), ":good:")
    await act(server, worker, press_nth(worker, server, 0), "")
    async with app.database.transaction() as session:
        answers = (await session.execute(select(Answer))).scalars().all()
    assert any(a.flow_id == "what-matters" for a in answers)


@pytest.mark.usefixtures("channel")
async def test_absurd_numbers_get_the_usual_answer(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    worker = await worker_of(app, server)
    for number in ("99999999999999999999", "0", "-3", "12abc"):
        await act(
            server,
            worker,
            lambda n=number: worker.send_command("newactivity", n),
            "There is no draft activity with that number.",
        )
    await act(
        server,
        worker,
        lambda: worker.send_command("invite", "99999999999999999999"),
        "no upcoming activities",
    )
    async with app.database.transaction() as session:
        assert not (await session.execute(select(Rsvp))).first()


@pytest.mark.usefixtures("channel")
async def test_skip_buttons_say_what_they_mean_for_the_worker(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    worker = await worker_of(app, server)
    await act(server, worker, lambda: worker.send_command("newactivity"), "called")
    await act(server, worker, lambda: worker.send_text("Buurtbarbecue"), "Describe")
    message = server.last_message(worker.chat_id)
    assert message is not None
    labels = [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["No description"]
    # Typed, the words work as well as the button.
    await act(server, worker, lambda: worker.send_text("no description"), "which day")


@pytest.mark.usefixtures("channel")
async def test_a_new_text_in_the_chat_says_which_translations_went(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    """The chat takes the new text in one language: the old Turkish and Polish
    translations no longer fit and go, and the worker is told so, not left to find out."""
    worker = await worker_of(app, server)
    activity_id = await make_activity(app)
    await act(server, worker, lambda: worker.send_command("activities"), "change or cancel")
    await act(server, worker, press_nth(worker, server, 0), "What do you want to do?")
    await act(server, worker, lambda: worker.press("Change the title and description"), "new title")
    await act(server, worker, lambda: worker.send_text("Soup evening"), "new description")
    start = len(server.calls)
    await act(server, worker, lambda: worker.press("No description"), "Saved")
    await server.wait_idle()
    text = "\n".join(sent_to(server, worker, start))
    assert "The translations of the old text are removed: Polski, Türkçe." in text
    assert "(Activities, Change)" in text
    async with app.database.transaction() as session:
        activity = await session.get(Activity, activity_id)
        assert activity is not None and activity.title == {"_": "Soup evening"}
