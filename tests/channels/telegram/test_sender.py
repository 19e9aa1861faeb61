"""The outbox's sender: one attempt a reply, Telegram's answer as a delivery status."""

from __future__ import annotations

import inspect

from bot.app import App
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram.errors import RetryPolicy
from bot.channels.telegram.sender import within_a_send
from bot.conversation.turns import Reply
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.sender import Status
from bot.flows.events import Ask, Document, Option, Say
from tests.channels.telegram.conftest import FAST_RETRIES, participant
from tests.fakes.telegram_api import FakeTelegramServer

INVITATION = Reply(
    messages=[
        Say("Sports day with a barbecue on Saturday at the Kerkelanden field."),
        Ask("rsvp", "Will you come?", options=(Option("yes", "Yes"), Option("no", "No"))),
    ],
    language="en",
    conversation_id=12,
)


async def test_deliver_sends_a_whole_reply(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    sender = channel.sender
    assert sender.channel == "telegram"
    assert sender.rate == app.settings.telegram_rate and sender.per_chat_interval == 1.0
    server.user(42)
    result = await sender.deliver("42", INVITATION)
    assert result.status is Status.SENT
    say, question = server.sent_messages(42)
    assert say.text.startswith("Sports day") and question.text == "Will you come?"
    data = question.reply_markup["inline_keyboard"][0][0]["callback_data"]
    press = channel.signer.decode("42", data)
    assert press is not None and press.conversation_id == 12 and press.step == "rsvp"


async def test_deliver_maps_telegram_errors(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    sender = channel.sender
    ada = server.user(42, language_code="en")
    ada.send_command("start")
    await ada.wait_reply(1)

    server.fail_next("sendMessage", 429, retry_after=7)
    result = await sender.deliver("42", INVITATION)
    assert (result.status, result.retry_after) == (Status.RETRY, 7.0)

    server.fail_next("sendMessage", 502)
    assert (await sender.deliver("42", INVITATION)).status is Status.RETRY

    server.fail_next("sendMessage", 400, description="Bad Request: message is too long")
    failed = await sender.deliver("42", INVITATION)
    assert failed.status is Status.FAILED and "too long" in failed.error

    assert (await participant(app, ada)).unreachable_at is None
    server.block_chat(42)
    assert (await sender.deliver("42", INVITATION)).status is Status.UNREACHABLE
    assert (await participant(app, ada)).unreachable_at is not None
    assert (await sender.deliver("not-a-number", INVITATION)).status is Status.FAILED
    # One attempt each: no retries inside the sender.
    assert len(server.calls_to("sendMessage")) == 1 + 4


async def test_deliver_documents_and_long_texts(
    server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    server.user(42)
    long = "\n".join(f"Line {n}: " + " ".join(["words"] * 15) for n in range(100))
    reply = Reply(
        messages=[
            Say(long),
            Document("mydata.json", b'{"language": "en"}', "Your data", "application/json"),
            Document("report.png", b"\x89PNG....", "c" * 1500, "image/png"),
        ]
    )
    assert (await channel.sender.deliver("42", reply)).status is Status.SENT
    calls = [c for c in server.calls if c.method in ("sendMessage", "sendDocument")]
    assert [c.method for c in calls] == [
        "sendMessage",
        "sendMessage",
        "sendMessage",
        "sendDocument",
        "sendDocument",
        "sendMessage",
    ]
    assert "\n".join(c.text for c in calls[:3]) == long.strip()
    assert calls[3].files["document"].filename == "mydata.json"
    assert calls[3].text == "Your data"
    assert calls[4].text is None and calls[5].text == "c" * 1500
    assert server.violations == []


async def test_a_reply_begun_is_finished_not_sent_again(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    """The invitation's text went out; its question hits errors: the question is retried
    in place, so the person does not get the text twice."""
    server.user(42)
    server.fail_next("sendMessage", 502, after=1)
    server.fail_next("sendMessage", 429, retry_after=1)
    result = await channel.sender.deliver("42", INVITATION)
    assert result.status is Status.SENT
    assert [c.status for c in server.calls_to("sendMessage")] == [200, 502, 429, 200]
    say, question = server.sent_messages(42)
    assert say.text.startswith("Sports day") and question.text == "Will you come?"


async def test_a_reply_that_cannot_be_finished_goes_back_to_the_dispatcher(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    ada = server.user(42, language_code="en")
    ada.send_command("start")
    await ada.wait_reply(1)
    before = len(server.calls_to("sendMessage"))

    server.fail_next("sendMessage", 502, times=20, after=1)
    result = await channel.sender.deliver("42", INVITATION)
    assert result.status is Status.RETRY and "sent in part" in result.error
    tries = len(server.calls_to("sendMessage")) - before
    assert tries == 1 + within_a_send(FAST_RETRIES).network_attempts
    server.clear_faults()

    server.fail_next("sendMessage", 403, after=1)
    result = await channel.sender.deliver("42", INVITATION)
    assert result.status is Status.UNREACHABLE
    assert (await participant(app, ada)).unreachable_at is not None


def test_finishing_in_place_ends_within_the_dispatcher_s_send_timeout() -> None:
    policy = within_a_send(RetryPolicy())
    longest_waits = sum(
        1.2 * min(policy.max_delay, policy.base_delay * 2 ** (n - 1))
        for n in range(1, policy.network_attempts)
    )
    send_timeout = inspect.signature(Dispatcher).parameters["send_timeout"].default
    assert longest_waits + policy.max_flood_wait < send_timeout - 10  # 10 s for the calls
