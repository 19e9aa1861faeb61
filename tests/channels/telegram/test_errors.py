"""Telegram failing: flood control, outages, blocked people, and updates that crash."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import pytest

from bot.app import App
from bot.channels.telegram import TelegramChannel, polling
from bot.channels.telegram.errors import RetryPolicy
from bot.health import Health
from tests.channels.telegram.conftest import (
    FAST_RETRIES,
    onboard,
    participant,
    stored_answers,
    texts,
)
from tests.fakes.telegram_api import FakeTelegramServer


async def test_blocking_the_bot_marks_the_person_unreachable(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    ada = server.user(42, language_code="en")
    ada.send_command("start")
    await ada.wait_reply(1)
    assert (await participant(app, ada)).unreachable_at is None
    ada.block()
    await server.wait_for(lambda: not server.pending_updates)
    await server.wait_idle()

    async def marked() -> bool:
        found = await participant(app, ada)
        return found is not None and found.unreachable_at is not None

    await server.wait_for(marked)
    ada.unblock()
    ada.send_text("hello again")
    await ada.wait_reply(1)
    assert (await participant(app, ada)).unreachable_at is None


async def test_403_on_a_reply_marks_the_person_unreachable(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    ada = server.user(42, language_code="en")
    ada.send_command("start")
    await ada.wait_reply(1)
    server.fail_next("editMessageText", 403)
    ada.press("English")
    await server.wait_for_calls("answerCallbackQuery")
    await server.wait_idle()
    assert (await participant(app, ada)).unreachable_at is not None
    # Nothing more was sent after the 403, and the 403 was not retried.
    assert len(server.calls_to("editMessageText")) == 1
    assert [c.text for c in server.sent_messages(42)][-1].startswith("Hello!")


async def test_a_429_storm_delays_replies_in_order(
    server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    ada = server.user(42, language_code="en")
    ada.send_command("start")
    server.fail_next("sendMessage", 429, times=3, retry_after=1)
    began = time.monotonic()
    (question,) = await ada.wait_reply(1, timeout=10)
    assert time.monotonic() - began >= 3  # waited retry_after each time
    assert server.count_429 == 3
    assert "Which language" in (question.text or "")

    server.fail_next("sendMessage", 429, times=2, retry_after=1)
    server.fail_next("editMessageText", 429, times=1, retry_after=1)
    ada.press("English")
    replies = await ada.wait_reply(3, timeout=10)
    assert [c.method for c in replies] == ["editMessageText", "sendMessage", "sendMessage"]
    assert "Welzijn Almelo" in texts(replies)[1] and "Is this OK" in texts(replies)[2]
    assert server.count_429 == 6


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_are_retried_with_backoff(
    server: FakeTelegramServer, channel: TelegramChannel, status: int
) -> None:
    ada = server.user(42, language_code="en")
    server.fail_next("sendMessage", status, times=3)
    ada.send_command("start")
    (question,) = await ada.wait_reply(1, timeout=10)
    assert "Which language" in (question.text or "")
    attempts = server.calls_to("sendMessage")
    assert [c.status for c in attempts] == [status, status, status, 200]
    # Backing off: each wait at least the policy's shortest for that attempt. (A busy
    # machine only makes gaps longer, so lower bounds hold where comparing gaps would not.)
    gaps = [b.time - a.time for a, b in itertools.pairwise(attempts)]
    shortest = [0.8 * FAST_RETRIES.base_delay * 2**n for n in range(3)]
    assert all(gap >= least for gap, least in zip(gaps, shortest, strict=True)), gaps


def test_backoff_grows_to_its_ceiling_with_jitter() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0)
    for attempt, middle in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)]:
        waits = [policy.backoff(attempt) for _ in range(50)]
        assert all(0.8 * middle <= w <= 1.2 * middle for w in waits)
        assert len(set(waits)) > 1  # jittered: chats do not retry at the same instant


async def test_timeouts_are_retried(
    app: App, start_channel: Callable[..., Any], server: FakeTelegramServer
) -> None:
    from bot.channels.telegram.application import builder
    from bot.channels.telegram.request import AiohttpRequest

    application = builder(app.settings).request(AiohttpRequest(read_timeout=0.3)).build()
    await start_channel(application=application)
    ada = server.user(42, language_code="en")
    server.delay("sendMessage", 0.6)
    ada.send_command("start")
    await server.wait_for(lambda: len(server.calls_to("sendMessage")) >= 2, timeout=10)
    server.delay("sendMessage", 0)
    await server.wait_for(
        lambda: any(c.ok and "Which language" in (c.text or "") for c in server.calls), timeout=10
    )
    await server.wait_idle()


async def test_a_bad_request_is_logged_and_the_rest_is_sent(
    server: FakeTelegramServer, channel: TelegramChannel, caplog: pytest.LogCaptureFixture
) -> None:
    ada = server.user(42, language_code="en")
    ada.send_command("start")
    await ada.wait_reply(1)
    server.fail_next("editMessageText", 400, description="Bad Request: message to edit not found")
    ada.press("English")
    _intro, consent = await ada.wait_reply(2)
    assert "Is this OK" in (consent.text or "")
    assert "message to edit not found" in caplog.text.lower()
    assert channel.who(42) in caplog.text  # named by a pseudonym, not the Telegram id
    assert " 42" not in caplog.text and "chat 42" not in caplog.text


async def test_a_crashing_update_does_not_stop_the_bot(
    app: App,
    server: FakeTelegramServer,
    channel: TelegramChannel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ada = server.user(42, language_code="en")
    original = app.service.handle

    async def crash_once(incoming: Any) -> Any:
        monkeypatch.setattr(app.service, "handle", original)
        raise RuntimeError("boom")

    monkeypatch.setattr(app.service, "handle", crash_once)
    ada.send_command("start")
    (sorry,) = await ada.wait_reply(1)
    assert sorry.text == "Sorry, something went wrong. Please try again."
    ada.send_command("start")
    (question,) = await ada.wait_reply(1)
    assert "Which language" in (question.text or "")


async def test_a_crash_in_the_channel_is_logged_and_polling_goes_on(
    server: FakeTelegramServer,
    channel: TelegramChannel,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ada = server.user(42, language_code="en")
    original = channel.writer.write

    async def crash_once(*args: Any, **kwargs: Any) -> None:
        monkeypatch.setattr(channel.writer, "write", original)
        raise RuntimeError("renderer bug")

    monkeypatch.setattr(channel.writer, "write", crash_once)
    ada.send_command("start")
    await server.wait_for(lambda: "renderer bug" in caplog.text)
    ada.send_command("start")  # the first reply was lost; the conversation goes on
    replies = await ada.wait_reply(2)
    assert "Which language" in texts(replies)[-1]


async def test_a_redelivered_update_is_handled_once(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    ada = server.user(42, language_code="en")
    await onboard(ada)
    update = ada.send_text("The park")
    await ada.wait_reply(2)
    again = dict(update)
    del again["update_id"]
    server.queue_update(again)  # Telegram sends the same message again after a restart
    (again_asked,) = await ada.wait_reply(1)  # the current question, in case it was lost
    assert "What would you like to change" in (again_asked.text or "")
    await server.wait_idle()
    assert (await stored_answers(app))["what-matters.good"] == "The park"
    assert "what-matters.change" not in await stored_answers(app)


async def test_a_reply_telegram_will_not_take_goes_to_the_outbox(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    """After every retry, the question is not lost: the outbox sends it once Telegram is back."""
    from bot.delivery.dispatcher import Dispatcher
    from bot.outbox import status_counts

    ada = server.user(42, language_code="en")
    server.fail_next("sendMessage", 502, times=50)
    ada.send_command("start")
    await server.wait_for(lambda: len(server.calls_to("sendMessage")) >= 6, timeout=20)
    await server.wait_idle()
    assert not [c for c in server.calls_to("sendMessage") if c.ok]

    server.clear_faults()
    stats = await Dispatcher(app, [channel.sender]).run_once()
    assert stats.sent == 1
    (question,) = await ada.wait_reply(1)
    assert "Which language" in (question.text or "")
    ada.press("English")
    await ada.wait_reply(3)
    async with app.database.transaction() as session:
        assert await status_counts(session) == {"reply": {"sent": 1}}


async def test_health_says_when_updates_stop_coming(
    server: FakeTelegramServer, channel: TelegramChannel, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert channel.health() == Health(True, "polling")
    server.fail_next("getUpdates", 502, times=1000)
    poller = channel.source
    assert isinstance(poller, polling.Poller)
    await server.wait_for(lambda: poller.failing_since is not None, timeout=10)
    assert channel.health().ok  # a short outage is normal
    monkeypatch.setattr(polling, "FAILING_TOO_LONG", 0.0)
    state = channel.health()
    assert not state.ok and "no updates for" in state.detail and "Bad Gateway" in state.detail
    server.clear_faults()
    await server.wait_for(lambda: poller.failing_since is None, timeout=40)
    assert channel.health() == Health(True, "polling")
