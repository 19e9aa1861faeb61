"""Sending over Signal: rate limits, captchas, people who left Signal, resumed replies."""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import select

from bot.channels.signal.client import SignalClient
from bot.channels.signal.sender import SignalSender
from bot.conversation.turns import Reply
from bot.delivery.sender import Sender, Status
from bot.flows.events import Ask, Document, Option, Say
from tests.channels.signal.conftest import Bot
from tests.fakes.signal_daemon import FakeSignalDaemon

pytestmark = pytest.mark.postgres


def hello(*texts: str) -> Reply:
    return Reply(messages=[Say(t) for t in texts or ("Hallo!",)], language="nl")


async def test_the_sender_is_a_sender(bot: Bot) -> None:
    sender: Sender = bot.channel.sender
    assert sender.channel == "signal"
    assert sender.rate == 200  # BUURTBOT_SIGNAL_RATE
    assert sender.per_chat_interval > 0


async def test_rate_limit_answer_is_retry_after_the_time_signal_names(bot: Bot) -> None:
    person = bot.daemon.person()
    bot.daemon.rate_limit(retry_after=30)
    delivery = await bot.channel.sender.deliver(person.uuid, hello())
    assert delivery.status is Status.RETRY
    assert delivery.retry_after == 30
    assert "rate limit" in delivery.error
    # The whole channel waits that long: the next attempt does not even call the daemon.
    sends = sum(c.method == "send" for c in bot.daemon.calls)
    again = await bot.channel.sender.deliver(person.uuid, hello())
    assert again.status is Status.RETRY and 25 < (again.retry_after or 0) <= 30
    assert sum(c.method == "send" for c in bot.daemon.calls) == sends
    assert person.inbox == []


async def test_rate_limit_without_a_time_waits_a_minute(daemon: FakeSignalDaemon) -> None:
    async with SignalClient(daemon.url, daemon.account) as client:
        person = daemon.person()
        daemon.rate_limit(retry_after=None)
        delivery = await SignalSender(client).deliver(person.uuid, hello())
    assert delivery.status is Status.RETRY and delivery.retry_after == 60


async def test_a_rate_limited_direct_reply_arrives_once_after_the_wait(bot: Bot) -> None:
    person = bot.daemon.person()
    bot.daemon.rate_limit(retry_after=1)
    started = time.monotonic()
    ts = person.send_text("Hallo")
    await bot.channel.handled(person.key(ts), timeout=15)
    assert time.monotonic() - started >= 0.9
    assert len(person.take()) == 1


async def test_captcha_required_logs_the_token_and_command_once(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    person = bot.daemon.person()
    bot.daemon.rate_limit(retry_after=86400, token="tok-1234", times=5)
    with caplog.at_level(logging.ERROR, logger="bot.channels.signal"):
        first = await bot.channel.sender.deliver(person.uuid, hello())
        bot.channel.sender.limiter.resume()  # as if the hold were over
        second = await bot.channel.sender.deliver(person.uuid, hello())
    assert first.status is Status.RETRY and second.status is Status.RETRY
    assert first.retry_after == 900  # held, then one send tries whether it was solved
    lines = [r.getMessage() for r in caplog.records if "tok-1234" in r.getMessage()]
    assert len(lines) == 1
    assert "submitRateLimitChallenge --challenge tok-1234" in lines[0]
    assert "signalcaptchas.org" in lines[0]
    assert "\n" not in lines[0]
    # The operator solves it; sending goes on.
    await bot.channel.client.rpc(
        "submitRateLimitChallenge", {"challenge": "tok-1234", "captcha": "signalcaptcha://x"}
    )
    bot.channel.sender.limiter.resume()
    assert (await bot.channel.sender.deliver(person.uuid, hello())).status is Status.SENT


async def test_unregistered_recipient_is_unreachable(bot: Bot) -> None:
    person = bot.daemon.person()
    await bot.say(person, "Hallo")
    bot.daemon.unregister(person.uuid)
    delivery = await bot.channel.sender.deliver(person.uuid, hello())
    assert delivery.status is Status.UNREACHABLE
    [participant] = await bot.participants()
    assert participant.unreachable_at is not None
    error = [c for c in bot.daemon.calls if c.method == "send"][-1]
    assert error.params["recipient"] == [person.uuid]


async def test_a_reply_that_failed_halfway_is_resumed_not_repeated(bot: Bot) -> None:
    person = bot.daemon.person()
    reply = hello("Eerste bericht", "Tweede bericht", "Derde bericht")
    first = await bot.channel.sender.deliver(person.uuid, reply)
    assert first.status is Status.SENT
    assert person.take() == ["Eerste bericht", "Tweede bericht", "Derde bericht"]

    other = hello("Een", "Twee", "Drie")
    bot.daemon.rate_limit(retry_after=1, after=1)  # the second part is refused
    halfway = await bot.channel.sender.deliver(person.uuid, other)
    assert halfway.status is Status.RETRY
    assert person.take() == ["Een"]
    bot.channel.sender.limiter.resume()  # as if the wait were over
    rest = await bot.channel.sender.deliver(person.uuid, other)
    assert rest.status is Status.SENT
    assert person.take() == ["Twee", "Drie"]


async def test_daemon_down_is_retry(daemon: FakeSignalDaemon) -> None:
    async with SignalClient("http://127.0.0.1:9", daemon.account, timeout=2) as client:
        delivery = await SignalSender(client).deliver("someone", hello())
    assert delivery.status is Status.RETRY and delivery.retry_after


async def test_bots_number_gone_from_the_daemon_is_retry_and_logged(
    daemon: FakeSignalDaemon, caplog: pytest.LogCaptureFixture
) -> None:
    async with SignalClient(daemon.url, "+31699999999") as client:
        sender = SignalSender(client)
        with caplog.at_level(logging.ERROR):
            first = await sender.deliver("someone", hello())
            second = await sender.deliver("someone", hello())
    assert first.status is Status.RETRY and second.status is Status.RETRY
    assert sum("register or link it again" in r.getMessage() for r in caplog.records) == 1


async def test_documents_go_as_data_uris_with_the_caption(bot: Bot) -> None:
    person = bot.daemon.person()
    reply = Reply(
        messages=[Document("mijn-gegevens.json", b'{"a": 1}', "Je gegevens", "application/json")]
    )
    assert (await bot.channel.sender.deliver(person.uuid, reply)).status is Status.SENT
    [sent] = person.inbox
    assert sent.message == "Je gegevens"
    assert sent.attachments[0].startswith(
        "data:application/json;filename=mijn-gegevens.json;base64,"
    )


async def test_questions_are_remembered_for_reactions(bot: Bot) -> None:
    person = bot.daemon.person()
    ask = Ask("age", "Hoe oud ben je?", (Option("a", "12 tot 17"), Option("b", "18 tot 27")))
    reply = Reply(messages=[Say("Welkom"), ask], conversation_id=7)
    assert (await bot.channel.sender.deliver(person.uuid, reply)).status is Status.SENT
    welcome, question = person.inbox
    assert question.message == "Hoe oud ben je?\n\n1. 12 tot 17\n2. 18 tot 27"
    remembered = bot.channel.asks.lookup(person.uuid, question.timestamp)
    assert remembered is not None and remembered.step == "age"
    assert remembered.conversation_id == 7
    assert bot.channel.asks.lookup(person.uuid, welcome.timestamp) is None


async def test_a_reply_signal_will_not_take_is_queued_for_later(bot: Bot) -> None:
    from bot.outbox import status_counts
    from bot.storage.models import OutboxMessage

    person = bot.daemon.person()
    ts = person.send_text("Hallo")
    await bot.channel.handled(person.key(ts), timeout=15)
    bot.daemon.rate_limit(retry_after=1, times=5)
    bot.channel.reply_attempts = 1
    await bot.channel.reply(person.uuid, hello("Dank je!"))
    assert not [m for m in person.inbox if "Dank je" in m.message]
    async with bot.app.database.transaction() as session:
        assert await status_counts(session) == {"reply": {"queued": 1}}
        (row,) = (await session.execute(select(OutboxMessage))).scalars().all()
    assert row.content == {"type": "text", "text": "Dank je!"}
    assert row.urgent and row.expires_at is not None
