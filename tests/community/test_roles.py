"""Workers are made by a single-use, expiring, hashed invite code or by an operator;
residents cannot use worker commands, and every refusal is logged."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import update

from bot.app import App
from bot.community import roles
from bot.storage.models import utcnow
from bot.storage.models.community import WorkerInvite
from tests.community.helpers import invite_code, onboard, participant
from tests.helpers import Person


async def test_expired_and_wrong_codes_are_refused_and_logged(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    code = await invite_code(app)
    async with app.database.transaction() as session:
        await session.execute(
            update(WorkerInvite).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    person = Person(app.service, user_id="r1")
    await onboard(person)
    caplog.set_level(logging.WARNING)
    for attempt in (code, "AAAA-BBBB-CCCC", "short", ""):
        reply = await person.say(f"/worker {attempt}".strip())
        assert "community worker for" not in reply
    assert (await participant(app, person)).role == "resident"
    assert sum("/worker refused" in r.getMessage() for r in caplog.records) == 3


async def test_a_new_person_with_a_code_is_asked_to_consent_first(app: App) -> None:
    code = await invite_code(app, ())
    person = Person(app.service, user_id="w9", hint="en")
    reply = await person.say(f"/worker {code}")
    assert "for the whole town" in reply
    assert "get to know each other" in reply
    assert person.question().step == "language"
    p = await participant(app, person)
    async with app.database.transaction() as session:
        assert await roles.scope(session, p) is None  # the whole town


async def test_an_invite_link_works_as_the_code(app: App) -> None:
    """`t.me/<bot>?start=w-CODE` (the dashboard's invite link) sends `/start w-CODE`."""
    code = await invite_code(app, ("centrum",))
    person = Person(app.service, user_id="w8", hint="en")
    reply = await person.say(f"/start w-{code}")
    assert "community worker for Centrum" in reply and "get to know each other" in reply
    assert person.question().step == "language"
    again = Person(app.service, user_id="w7", hint="en")
    assert "does not work" in await again.say(f"/start w-{code}"), "a code works once"
    # Any other payload is a deep link as before, not a command.
    other = Person(app.service, user_id="w6", hint="en")
    await other.say("/start n-centrum")
    assert other.question().step == "language"
    assert not roles.is_worker(await participant(app, other))


@pytest.mark.parametrize("command", ["/newactivity", "/invite", "/proposals", "/news"])
async def test_residents_cannot_use_worker_commands(
    app: App, command: str, caplog: pytest.LogCaptureFixture
) -> None:
    person = Person(app.service, user_id="r1")
    await onboard(person)
    caplog.set_level(logging.INFO)
    reply = await person.say(command)
    assert "only community workers can do that" in reply
    assert any(f"{command} refused" in r.getMessage() for r in caplog.records)
    # Nothing was started: the next answer lands in their own conversation.
    await person.say("The park")
    assert person.question().step == "change"
    assert any(f"{command} refused" in r.getMessage() for r in caplog.records)


async def test_help_shows_worker_commands_to_workers_only(app: App) -> None:
    from tests.community.helpers import make_worker, onboard
    from tests.helpers import Person

    worker = await make_worker(app)
    resident = Person(app.service, user_id="r-help")
    await onboard(resident)
    helped = await worker.say("/help")
    for command in ("/newactivity", "/invite", "/activities", "/proposals", "/news"):
        assert command in helped
    assert "/results" in helped and "/export" in helped
    menu = await worker.say("/worker")
    assert "/results" in menu and "/export" in menu
    shown = await resident.say("/help")
    assert "/worker" not in shown and "/propose" in shown
    assert "/newactivity" not in shown
