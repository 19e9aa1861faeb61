"""The channel base: per-person order, duplicates, the apology, what goes out again.

Telegram, Signal and the terminal all go through `bot.channels.turns`; their own tests
show it over the real platforms' fakes. These check the base itself, and the terminal
(which has no fake platform) with the real service.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from rich.console import Console

from bot.app import App
from bot.channels.terminal import TerminalChannel
from bot.channels.turns import InOrder, Recent, Turns, worth_sending
from bot.conversation.turns import Incoming, Reply
from bot.flows.events import Say, Text


async def test_one_persons_turns_go_in_order_and_peoples_at_once() -> None:
    order = InOrder()
    seen: dict[str, list[int]] = {"ada": [], "bo": []}
    running = most = 0

    async def turn(person: str, number: int) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.03 - 0.005 * number)  # later ones would finish first
        seen[person].append(number)
        running -= 1
        return number

    tasks = [
        asyncio.create_task(order.run(person, turn(person, number)))
        for number in range(5)
        for person in ("ada", "bo")
    ]
    assert order.busy == 0  # nothing has started yet
    results = await asyncio.gather(*tasks)
    assert seen == {"ada": [0, 1, 2, 3, 4], "bo": [0, 1, 2, 3, 4]}
    assert results == [n for n in range(5) for _ in range(2)]
    assert most == 2  # Ada's and Bo's at once, never two of one person
    assert order.busy == 0


async def test_a_failed_turn_lets_the_next_go_and_a_cancelled_one_is_not_run() -> None:
    order = InOrder()
    done: list[str] = []
    gate = asyncio.Event()

    async def fail() -> None:
        await gate.wait()
        raise RuntimeError("boom")

    async def note(text: str) -> None:
        done.append(text)

    failing = asyncio.create_task(order.run("ada", fail()))
    waiting = asyncio.create_task(order.run("ada", note("never")))
    after = asyncio.create_task(order.run("ada", note("after")))
    await asyncio.sleep(0)
    waiting.cancel()
    gate.set()
    results = await asyncio.gather(failing, waiting, after, return_exceptions=True)
    assert isinstance(results[0], RuntimeError)
    assert isinstance(results[1], asyncio.CancelledError)
    assert done == ["after"]
    assert order.busy == 0


def test_recent_skips_a_key_seen_before_and_forgets_the_oldest() -> None:
    recent = Recent(size=2)
    assert recent.first(("uuid-1", 1700000000000))
    assert not recent.first(("uuid-1", 1700000000000))
    assert recent.first(("uuid-1", 1700000000001))
    assert recent.first(3)  # the first key is forgotten now
    assert recent.first(("uuid-1", 1700000000000))


def test_what_goes_out_again() -> None:
    fresh = Reply(messages=[Say("Hi")])
    again = Reply(messages=[Say("Which neighbourhood?")], duplicate=True)
    silent = Reply(duplicate=True)
    assert worth_sending(fresh) and worth_sending(fresh, maybe_unanswered=False)
    assert worth_sending(again)  # the platform sent it again: the reply may be lost
    assert not worth_sending(again, maybe_unanswered=False)  # a replay of what was answered
    assert not worth_sending(silent)


async def test_a_crashed_turn_is_apologised_for_in_the_language_last_seen(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    turns = Turns(app, "test", slots=1)
    told: list[str] = []

    async def apologise(text: str) -> None:
        told.append(text)

    hello = Incoming("test", "ada", Text("Hallo"), key="1")
    reply = await turns.serve(hello, "ada", apologise)
    assert reply is not None and reply.language == "nl"  # the default, until chosen
    assert turns.language("ada") == "nl"

    async def crash(incoming: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(app.service, "handle", crash)
    again = Incoming("test", "ada", Text("Hallo?"), key="2", language_hint="en")
    assert await turns.serve(again, "ada", apologise, hint="en") is None
    # Ada's language as last seen, whatever her app says.
    assert told == ["Sorry, er ging iets mis. Probeer het nog een keer."]
    # Someone never seen: what their app says, when it is offered.
    assert await turns.serve(again, "new", apologise, hint="en-GB") is None
    assert told[-1] == "Sorry, something went wrong. Please try again."


async def test_the_terminal_apologises_and_goes_on(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = io.StringIO()
    terminal = TerminalChannel(app, user="ada", language="en", console=Console(file=out, width=200))
    original = app.service.handle

    async def crash_once(incoming: Any) -> Any:
        monkeypatch.setattr(app.service, "handle", original)
        raise RuntimeError("boom")

    monkeypatch.setattr(app.service, "handle", crash_once)
    await terminal.send("/start")
    assert "Sorry, something went wrong. Please try again." in out.getvalue()
    await terminal.send("/start")
    assert "English" in out.getvalue()  # the first question, the chat goes on
