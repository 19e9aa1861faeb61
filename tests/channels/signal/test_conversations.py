"""Whole conversations over Signal: the real channel and service, the fake daemon, real HTTP.

Each test runs on SQLite and on PostgreSQL (when configured).
"""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import text

from bot.channels.signal.render import MAX_BODY_BYTES
from tests.channels.signal.conftest import Bot, option

pytestmark = pytest.mark.postgres

KEYCAPS = ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟"]


async def onboard_by_numbers(bot: Bot, person) -> str:
    reply = await bot.say(person, "Hallo")
    assert "English" in reply and "Türkçe" in reply
    reply = await bot.say(person, option(reply, "English"))
    assert "Is this OK for you?" in reply
    reply = await bot.say(person, option(reply, "Yes, I agree"))
    assert "Which neighbourhood" in reply
    reply = await bot.say(person, option(reply, "Kerkelanden"))
    assert "How old are you?" in reply
    reply = await bot.say(person, option(reply, "18 to 27"))
    assert "What do you care about?" in reply
    assert "Type the numbers of your choice, for example: 1, 3" in reply
    return reply


async def test_complete_onboarding_by_numbers(bot: Bot) -> None:
    person = bot.daemon.person("Ayşe")
    reply = await onboard_by_numbers(bot, person)
    green, sport = option(reply, "Green spaces and gardens"), option(reply, "Sport and play")
    reply = await bot.say(person, f"{green}, {sport}")
    assert "What is good about your neighbourhood?" in reply  # the next flow begins

    assert await bot.answers() == {
        "onboarding.neighbourhood": "kerkelanden",
        "onboarding.age_group": "18-27",
        "onboarding.interests": ["green", "sport"],
    }
    [participant] = await bot.participants()
    assert participant.channel == "signal"
    assert participant.channel_user_id == person.uuid
    assert participant.language == "en"
    assert participant.consented_at is not None
    # The phone number is nowhere in the database: people are keyed by their UUID.
    assert person.number
    async with bot.app.database.transaction() as session:
        for table in ("participants", "answers", "conversations", "inbound_receipts"):
            rows = (await session.execute(text(f"SELECT * FROM {table}"))).all()
            assert person.number not in json.dumps([list(map(str, r)) for r in rows]), table
    # Every handled message got a read receipt, one string recipient and number stamps.
    assert len(bot.daemon.receipts) == 6
    assert all(r["recipient"] == person.uuid for r in bot.daemon.receipts)


async def test_multiple_choice_by_typing_numbers_with_or_without_commas(bot: Bot) -> None:
    person = bot.daemon.person()
    await onboard_by_numbers(bot, person)
    await bot.say(person, "1 3")
    reply = await bot.say(person, "Het park")  # what-matters: what is good
    assert "What would you like to change?" in reply
    reply = await bot.say(person, "2, 9")
    assert "What else would you like to change?" in reply
    stored = await bot.answers()
    assert stored["onboarding.interests"] == ["green", "sport"]
    assert stored["what-matters.change"] == ["cooking", "other"]


async def test_answers_by_reaction(bot: Bot) -> None:
    person = bot.daemon.person()
    reply = await bot.say(person, "Hoi")
    languages = person.last_question()
    english = int(option(reply, "English"))
    reply = await bot.react(person, KEYCAPS[english - 1], languages.timestamp)
    assert "Is this OK for you?" in reply
    consent = person.last_question()
    reply = await bot.react(person, "👍🏽", consent.timestamp)  # yes, in any skin tone
    assert "Which neighbourhood" in reply

    # A reaction on an earlier question changes nothing and says so.
    reply = await bot.react(person, KEYCAPS[0], languages.timestamp)
    assert reply == "This button is from an earlier question."
    # A removed reaction, or an emoji that is no answer, gets no answer at all.
    await bot.react(person, "👍", consent.timestamp, remove=True)
    await bot.react(person, "❤️", person.last_question().timestamp)
    assert person.take() == []

    neighbourhoods = person.last_question()
    number = int(option(neighbourhoods.message, "Kerkelanden"))
    reply = await bot.react(person, KEYCAPS[number - 1], neighbourhoods.timestamp)
    assert "How old are you?" in reply
    await bot.react(person, KEYCAPS[1], person.last_question().timestamp)  # 18 to 27
    # On the current multiple-choice question one reaction is the whole answer.
    interests = person.last_question()
    reply = await bot.react(person, KEYCAPS[2], interests.timestamp)
    assert "What is good about your neighbourhood?" in reply
    assert await bot.answers() == {
        "onboarding.neighbourhood": "kerkelanden",
        "onboarding.age_group": "18-27",
        "onboarding.interests": ["sport"],
    }
    # Reactions are not read: no receipts for them.
    assert len(bot.daemon.receipts) == 1


async def test_reaction_on_an_unknown_message_asks_again(bot: Bot) -> None:
    person = bot.daemon.person()
    await bot.say(person, "Hoi")
    reply = await bot.react(person, KEYCAPS[1], 1_600_000_000_000)  # not one we remember
    assert "1. " in reply  # the question again, with its options
    assert await bot.participants()


async def test_dropped_event_stream_reconnects_and_loses_nothing(bot: Bot) -> None:
    person = bot.daemon.person()
    reply = await bot.say(person, "Hallo")
    first = person.inbox[-1].timestamp
    bot.daemon.drop_streams(abrupt=True)
    # Messages sent while the bot is away wait at the daemon (--receive-mode=on-connection),
    # and the next connection first replays the last events it had already delivered.
    ts = person.send_text(option(reply, "English"))
    bot.daemon.replay_on_reconnect(2)
    await bot.daemon.wait_connections(2)
    await bot.channel.handled(person.key(ts))
    reply = person.text()
    assert reply.count("Is this OK for you?") == 1
    assert bot.channel.stream.connections == 2

    # A clean end of the stream too; the replayed "Hallo" and English are not answered again.
    bot.daemon.replay_on_reconnect(5)
    bot.daemon.drop_streams(abrupt=False)
    await bot.daemon.wait_connections(3)
    reply = await bot.say(person, "1")
    assert "Which neighbourhood" in reply
    await asyncio.sleep(0.2)
    assert person.take() == []
    language_questions = [m for m in person.inbox if "English" in m.message]
    assert len(language_questions) == 1 and language_questions[0].timestamp == first
    [participant] = await bot.participants()
    assert participant.consented_at is not None


async def test_redelivered_message_is_handled_once(bot: Bot) -> None:
    person = bot.daemon.person()
    ts = person.send_text("Hallo")
    await bot.channel.handled(person.key(ts))
    # The same envelope again (after a crash the daemon and the server redeliver).
    bot.daemon.deliver(bot.daemon._delivered[-1]["envelope"])
    help_ts = person.send_text("/help")
    await bot.channel.handled(person.key(help_ts))  # one person's messages go in order
    redelivered = await bot.channel.handled(person.key(ts))
    assert redelivered is not None and redelivered.duplicate
    texts = [m.message for m in person.inbox]
    assert sum("English" in t for t in texts) == 2  # once for Hallo, once after /help
    assert sum("/forget" in t for t in texts) == 1


async def test_receipts_typing_and_sync_messages_are_no_messages(bot: Bot) -> None:
    person = bot.daemon.person()
    person.typing()
    person.send_receipt(12345)
    ts = person.send_text("Hallo")
    await bot.channel.handled(person.key(ts))
    assert len(person.take()) == 1


async def test_group_message_gets_the_private_answer(bot: Bot) -> None:
    person = bot.daemon.person()
    reply = await bot.say(person, "Hallo @Buurtbot", group_id="Z3JvZXAtaWQ=")
    assert "English" in reply
    # "@Buurtbot 2" arrives with signal-cli's mention placeholder in front.
    reply = await bot.say(person, "\ufffc " + option(reply, "English"), group_id="Z3JvZXAtaWQ=")
    assert "Is this OK for you?" in reply
    sends = [c for c in bot.daemon.calls if c.method == "send"]
    assert sends and all(c.params["recipient"] == [person.uuid] for c in sends)
    assert all("groupId" not in c.params for c in sends)


async def test_photo_and_voice_note_as_answers(bot: Bot) -> None:
    person = bot.daemon.person()
    reply = await onboard_by_numbers(bot, person)
    await bot.say(person, "1")
    reply = await bot.say(person, "/photo")
    assert "Send a photo or a voice message" in reply
    ts = person.send_attachment("application/pdf", filename="flyer.pdf")
    await bot.channel.handled(person.key(ts))
    assert "Please send a photo or a voice message." in person.text()
    ts = person.send_attachment("image/jpeg", caption="Onze straat")
    await bot.channel.handled(person.key(ts))
    assert "Thank you!" in person.text()
    stored = await bot.answers()
    assert stored["photo.picture"]["kind"] == "photo"
    assert stored["photo.picture"]["ref"].endswith(".jpeg")

    await bot.say(person, "/photo")
    ts = person.send_attachment("audio/aac")
    await bot.channel.handled(person.key(ts))
    assert "Thank you!" in person.text()
    async with bot.app.database.transaction() as session:
        rows = (
            await session.execute(
                text("SELECT value FROM answers WHERE step_key = 'picture' ORDER BY id")
            )
        ).all()
    kinds = [(json.loads(v) if isinstance(v, str) else v)["kind"] for (v,) in rows]
    assert kinds == ["photo", "voice"]


async def test_stop_typed_without_slash(bot: Bot) -> None:
    person = bot.daemon.person()
    await onboard_by_numbers(bot, person)
    reply = await bot.say(person, "stop")
    assert "You will get no more messages" in reply
    [participant] = await bot.participants()
    assert participant.opted_out_at is not None


async def test_long_texts_are_split_under_the_byte_limit(bot: Bot) -> None:
    person = bot.daemon.person()
    await onboard_by_numbers(bot, person)
    await bot.say(person, "1")
    await bot.say(person, "/language")
    reply = await bot.say(person, "4")  # العربية
    assert reply
    await bot.say(person, "/help")
    for sent in bot.daemon.sent:
        assert len(sent.message.encode()) < MAX_BODY_BYTES


async def test_stopping_answers_what_was_already_received(bot: Bot) -> None:
    person = bot.daemon.person()
    await bot.channel.stream.stop()  # nothing more comes in
    ts = bot.daemon.now()
    data = {"timestamp": ts, "message": "Hallo", "expiresInSeconds": 0}
    await bot.channel._on_payload(
        {"account": bot.daemon.account, "envelope": person._envelope(ts, dataMessage=data)}
    )
    await bot.channel.stop()
    assert "English" in person.text()
