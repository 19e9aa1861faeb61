"""Over the Telegram test server: a proposal through question, approval and decline,
and the waiting list of a full activity, each person in their own language."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import App
from bot.channels.telegram import TelegramChannel
from bot.storage.models.community import Proposal, Rsvp
from tests.community.helpers import cli, future_day, invite_code
from tests.community.telegram.test_end_to_end import act, deliver, onboard, press_nth
from tests.fakes.telegram_api import FakeTelegramServer, FakeUser


async def make_worker(app: App, server: FakeTelegramServer) -> FakeUser:
    worker = server.user(500, "Wijkwerker", language_code="en")
    await onboard(server, worker, "en", "Kerkelanden")
    code = await invite_code(app)
    await act(server, worker, lambda: worker.send_command("worker", code), "community worker for")
    return worker


async def propose(server: FakeTelegramServer, young: FakeUser, idea: str) -> None:
    # Typed questions have no buttons to recognise them by: wait for any answer.
    await act(server, young, lambda: young.send_command("propose"), "")
    await act(server, young, lambda: young.send_text(idea), ":for_whom:")
    await act(server, young, press_nth(young, server, 0), "✅")
    await act(server, young, press_nth(young, server, -1), "")  # done; where?
    await act(server, young, lambda: young.send_text("Het veldje"), "")  # when?
    await act(server, young, lambda: young.send_text(future_day(40)), ":needs:")
    await act(server, young, press_nth(young, server, 0), "✅")
    await act(server, young, press_nth(young, server, -1), ":organise:")
    await act(server, young, press_nth(young, server, 0), ":hear_back:")
    await act(server, young, press_nth(young, server, 0), ":good:")  # back where they were


def recent(server: FakeTelegramServer, user: FakeUser, count: int = 3) -> str:
    """The texts of the last messages the bot sent to someone."""
    return "\n".join(call.text or "" for call in server.sent_messages(user.chat_id)[-count:])


async def proposals(app: App) -> list[tuple[str, str]]:
    async with app.database.transaction() as session:
        rows = (await session.execute(select(Proposal).order_by(Proposal.id))).scalars()
        return [(p.status, p.details.get("what", "")) for p in rows]


@pytest.mark.usefixtures("channel")
async def test_a_proposal_through_question_approval_and_decline(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    worker = await make_worker(app, server)
    emre = server.user(602, "Emre", language_code="tr")
    kasia = server.user(603, "Kasia", language_code="pl")
    await onboard(server, emre, "tr", "Kerkelanden")
    await onboard(server, kasia, "pl", "Kerkelanden")

    await propose(server, emre, "Sportdag met barbecue")
    assert await deliver(app, channel) == 1  # the review reaches the worker at once
    review = recent(server, worker)
    assert "Sportdag met barbecue" in review
    assert "602" not in review  # no platform ids for workers
    await act(server, worker, lambda: worker.press("Ask a question"), "Type your question")
    await act(server, worker, lambda: worker.send_text("Welke zaterdag?"), "question is sent")

    assert await deliver(app, channel) == 1
    assert "Welke zaterdag?" in recent(server, emre)
    turkish = app.service.catalogs("tr").pgettext(
        "proposal-question:thanks", "Thank you! Your answer goes to the community worker."
    )
    await act(server, emre, lambda: emre.send_text("Zaterdag 6 juni"), turkish[:20])

    assert await deliver(app, channel) == 1  # the answer comes back to the worker
    assert "Zaterdag 6 juni" in recent(server, worker)
    await act(server, worker, lambda: worker.press("Approve it"), "Draft activity")
    assert await deliver(app, channel) == 1  # Emre hears it, in Turkish
    assert "Sportdag met barbecue" in recent(server, emre)

    await propose(server, kasia, "Filmavond")
    assert await deliver(app, channel) == 1
    await act(server, worker, lambda: worker.press("Decline it"), "Why not?")
    await act(server, worker, lambda: worker.send_text("Het buurthuis is dicht."), "is told")
    assert await deliver(app, channel) == 1
    assert "Het buurthuis is dicht." in recent(server, kasia)
    assert await proposals(app) == [
        ("approved", "Sportdag met barbecue"),
        ("declined", "Filmavond"),
    ]


async def rsvps(app: App) -> dict[str, tuple[str, bool]]:
    async with app.database.transaction() as session:
        rows = (await session.execute(select(Rsvp))).scalars().all()
        from bot.storage.models import Participant

        ids = {
            p.id: p.channel_user_id for p in (await session.execute(select(Participant))).scalars()
        }
    return {ids[r.participant_id]: (r.answer, r.waiting) for r in rows}


@pytest.mark.usefixtures("channel")
async def test_waiting_list_over_telegram(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    people = [
        server.user(701, "Anouk", language_code="nl"),
        server.user(702, "Emre", language_code="tr"),
    ]
    for person, language in zip(people, ("nl", "tr"), strict=True):
        await onboard(server, person, language, "Kerkelanden")
    result = await cli(
        app,
        "activities", "add", "--title", "Buurtbarbecue", "--starts", f"{future_day(20)[6:]}-"
        f"{future_day(20)[3:5]}-{future_day(20)[:2]}T14:00", "--place", "De Schakel",
        "--neighbourhood", "kerkelanden", "--capacity", "1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    activity = result.output.strip().splitlines()[-1]
    result = await cli(app, "broadcast", "--activity", activity)
    assert result.exit_code == 0 and result.output.strip().splitlines()[-1] == "2"
    assert await deliver(app, channel) == 2

    anouk, emre = people
    await act(server, anouk, press_nth(anouk, server, 0), ":good:")  # going
    await act(server, emre, press_nth(emre, server, 0), ":good:")  # going: waits
    assert await rsvps(app) == {"701": ("going", False), "702": ("going", True)}

    # Anouk cannot come after all: through /activities she changes her answer.
    await act(server, anouk, lambda: anouk.send_command("activities"), "Buurtbarbecue")
    await act(server, anouk, press_nth(anouk, server, 0), ":answer:")
    await act(server, anouk, press_nth(anouk, server, 2), ":good:")  # I can't come
    assert await rsvps(app) == {"701": ("no", False), "702": ("going", False)}
    assert await deliver(app, channel) == 1  # Emre is told, in Turkish
    assert "Buurtbarbecue" in recent(server, emre)
