"""Helpers for the community tests: people in roles, and the outbox delivered by hand
the way the dispatcher does it (a flow row starts its flow with `start_flow_for`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from bot.app import App
from bot.community import roles
from bot.conversation.turns import Reply
from bot.flows.events import Ask, Say
from bot.storage.models import OutboxMessage, Participant
from tests.helpers import Person

ALL = object()


async def onboard(
    person: Person,
    language: str = "en",
    neighbourhood: str = "kerkelanden",
    age: str = "18-27",
    interests: tuple[str, ...] = ("green",),
) -> str:
    """Through the onboarding: language, consent, neighbourhood, age group, interests."""
    await person.say("/start")
    await person.pick(language)
    await person.pick("yes")
    await person.pick(neighbourhood)
    await person.pick(age)
    return await person.toggle(*interests)


async def participant(app: App, person: Person) -> Participant:
    async with app.database.transaction() as session:
        found = (
            await session.execute(
                select(Participant).where(
                    Participant.channel == person.channel,
                    Participant.channel_user_id == person.user_id,
                )
            )
        ).scalar_one()
    return found


async def invite_code(app: App, neighbourhoods: tuple[str, ...] = ("kerkelanden",)) -> str:
    async with app.database.transaction() as session:
        return await roles.create_invite(session, app.settings.secret, neighbourhoods)


async def make_worker(
    app: App, user_id: str = "w1", neighbourhoods: tuple[str, ...] = ("kerkelanden",)
) -> Person:
    """A worker made the real way: onboarding, then `/worker CODE`."""
    worker = Person(app.service, user_id=user_id, channel="terminal")
    await onboard(worker, neighbourhood=(neighbourhoods or ("centrum",))[0])
    reply = await worker.say(f"/worker {await invite_code(app, neighbourhoods)}")
    assert "You are now a community worker" in reply, reply
    return worker


@dataclass
class Delivered:
    row: OutboxMessage
    reply: Reply

    @property
    def text(self) -> str:
        return Person.text(self.reply)


async def queued(app: App, person: Person | None = None, kind: Any = ALL) -> list[OutboxMessage]:
    async with app.database.transaction() as session:
        statement = select(OutboxMessage).where(OutboxMessage.status == "queued")
        if person is not None:
            found = await participant(app, person)
            statement = statement.where(OutboxMessage.participant_id == found.id)
        if kind is not ALL:
            statement = statement.where(OutboxMessage.kind == kind)
        return list((await session.execute(statement.order_by(OutboxMessage.id))).scalars())


async def deliver(app: App, person: Person) -> list[Delivered]:
    """Send this person's queued messages as the dispatcher would; the last reply with a
    question becomes `person.last`, so the person can answer it."""
    done = []
    for row in await queued(app, person):
        content = row.content
        if content["type"] == "flow":
            reply = await app.service.start_flow_for(
                row.participant_id, content["flow"], content.get("variables") or {}
            )
        else:
            reply = Reply(messages=[Say(str(content["text"]))])
        async with app.database.transaction() as session:
            stored = await session.get(OutboxMessage, row.id)
            assert stored is not None
            stored.status = "sent"
            stored.conversation_id = reply.conversation_id
        if any(isinstance(m, Ask) for m in reply.messages):
            person.last = reply
        done.append(Delivered(row, reply))
    return done


def cli_env(app: App) -> dict[str, str]:
    """The environment that points the command line at the test's database."""
    settings = app.settings
    return {
        "BUURTBOT_DATABASE_URL": settings.database_url,
        "BUURTBOT_DEPLOYMENT_FILE": str(settings.deployment_file),
        "BUURTBOT_CONVERSATIONS_DIR": str(settings.conversations_dir),
        "BUURTBOT_SECRET_KEY": settings.secret_key or "",
        "BUURTBOT_DATA_DIR": str(settings.data_dir),
        "BUURTBOT_QUIET_HOURS": settings.quiet_hours,
        "BUURTBOT_TIMEZONE": settings.timezone,
    }


async def cli(app: App, *args: str) -> Any:
    """Run `buurtbot ARGS` against the test's database (in a thread: it has its own loop)."""
    import asyncio

    from typer.testing import CliRunner

    from bot.cli import app as cli_app

    result = await asyncio.to_thread(CliRunner().invoke, cli_app, list(args), env=cli_env(app))
    return result


def future_day(days: int = 30) -> str:
    """A day to type, `dd-mm-yyyy`, some days from now."""
    from datetime import timedelta

    from tests.helpers import town_today

    return (town_today() + timedelta(days=days)).strftime("%d-%m-%Y")


async def new_activity(
    worker: Person,
    title: str = "Buurtbarbecue",
    description: str = "Samen eten op het plein.",
    capacity: int | None = None,
    translations: dict[str, str] | None = None,
    day: str | None = None,
    at: str = "14:00",
    ages: tuple[str, ...] = (),
) -> str:
    """`/newactivity` by a worker of one neighbourhood (it is filled in for them)."""
    reply = await worker.say("/newactivity")
    assert worker.question().step == "title", reply
    await worker.say(title)
    await worker.say(description)
    await worker.say(day or future_day())
    await worker.say(at)
    await worker.say("Buurthuis De Schakel")
    assert worker.question().step == "ages"
    await worker.toggle(*ages)
    await worker.toggle()  # interests: everyone
    await worker.toggle()  # languages: all
    if capacity is None:
        await worker.pick("no")
    else:
        await worker.pick("yes")
        await worker.say(str(capacity))
    if not translations:
        return await worker.pick("no")
    await worker.pick("yes")
    await worker.say("\n".join(f"{code}: {text}" for code, text in translations.items()))
    return await worker.pick("_skip")


async def invite(worker: Person, argument: str = "", send: str = "now") -> str:
    """`/invite` to everyone of the worker's neighbourhood, then confirm."""
    await worker.say(f"/invite {argument}".strip())
    assert worker.question().step == "ages", worker.last
    await worker.toggle()
    await worker.toggle()
    await worker.toggle()
    preview = await worker.pick("everyone")
    assert worker.question().step == "send", preview
    return preview + "\n" + await worker.pick(send)


async def activity_id(app: App, title: str = "Buurtbarbecue") -> int:
    from bot.storage.models.community import Activity

    async with app.database.transaction() as session:
        for found in (await session.execute(select(Activity))).scalars():
            if found.title.get("_") == title:
                return found.id
    raise AssertionError(f"no activity {title!r}")
