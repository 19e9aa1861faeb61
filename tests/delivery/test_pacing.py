"""The pacer on its own: spacing, message cost, the window guard, pauses."""

from __future__ import annotations

import pytest

from bot.delivery.clock import ManualClock
from bot.delivery.pacing import Pacer


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


async def test_slots_are_evenly_spaced(clock: ManualClock) -> None:
    pacer = Pacer(rate=4, per_chat_interval=0, clock=clock)
    start = clock.monotonic()
    times = []
    for n in range(4):
        pacer.done(await pacer.acquire(f"chat{n}"))
        times.append(clock.monotonic() - start)
    assert times == [0, 0.25, 0.5, 0.75]


async def test_a_reply_of_several_messages_takes_a_slot_each(clock: ManualClock) -> None:
    pacer = Pacer(rate=4, per_chat_interval=0, clock=clock)
    start = clock.monotonic()
    pacer.done(await pacer.acquire("ada", cost=3))
    pacer.done(await pacer.acquire("bo"))
    assert clock.monotonic() - start == 0.75


async def test_window_guard_waits_a_second_after_the_answer(clock: ManualClock) -> None:
    """Slow answers: message n+rate waits until one second after message n was answered."""
    pacer = Pacer(rate=4, per_chat_interval=0, clock=clock)
    start = clock.monotonic()
    tickets = [await pacer.acquire(f"chat{n}") for n in range(4)]  # sent at 0 .. 0.75
    clock.advance(0.5)  # the first answer comes at 1.25
    pacer.done(tickets[0])
    fifth = await pacer.acquire("chat4")
    assert clock.monotonic() - start == pytest.approx(2.25)
    for ticket in [*tickets[1:], fifth]:
        pacer.done(ticket)


async def test_pause_holds_the_whole_channel(clock: ManualClock) -> None:
    pacer = Pacer(rate=100, per_chat_interval=0, clock=clock)
    start = clock.monotonic()
    pacer.done(await pacer.acquire("ada"))
    pacer.pause(7)
    assert pacer.paused_for == 7
    pacer.done(await pacer.acquire("bo"))
    assert clock.monotonic() - start == pytest.approx(7)
    assert pacer.pauses == 1


async def test_per_chat_gap(clock: ManualClock) -> None:
    pacer = Pacer(rate=100, per_chat_interval=1.0, clock=clock)
    start = clock.monotonic()
    pacer.done(await pacer.acquire("ada"))
    assert pacer.chat_wait("ada") == 1.0
    assert pacer.chat_wait("bo") == 0
    pacer.done(await pacer.acquire("ada"))
    assert clock.monotonic() - start == pytest.approx(1.0)
