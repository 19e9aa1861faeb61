"""Whole conversations in Turkish and Arabic: nothing of the English source shows through.

Runs the real conversation service on a real (SQLite) database, as a channel would.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App, build
from bot.conversation.turns import Reply
from bot.flows.events import Ask, Say
from bot.i18n import workflow
from bot.i18n.bidi import FSI, RLM, strip_marks
from bot.storage.models import Participant
from tests.conftest import make_settings
from tests.helpers import Person

# Texts that are never shown: words people may type.
HIDDEN_CONTEXTS = ("keywords for /", "words that mean ", "date word", "time words")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    built = build(make_settings(f"sqlite:///{tmp_path}/buurtbot.db", tmp_path))
    try:
        yield built
    finally:
        await built.close()


class Recorder(Person):
    """A person who keeps every text and button the bot showed them."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.shown: list[str] = []

    async def send(self, event: object) -> Reply:
        reply = await super().send(event)  # type: ignore[arg-type]
        for message in reply.messages:
            if isinstance(message, Say):
                self.shown.append(message.text)
            elif isinstance(message, Ask):
                self.shown.append(message.text)
                self.shown.extend(option.label for option in message.options)
                if message.done_label:
                    self.shown.append(message.done_label)
        return reply


def english_leftovers(shown: list[str], language: str) -> list[str]:
    """Source texts of the catalog (that have another translation) found in `shown`."""
    catalog = workflow._read(workflow.Project().po(language), language)
    texts = [strip_marks(text) for text in shown]
    whole = {text.strip() for text in texts}
    found = []
    for message in catalog:
        if not message.id or (message.context or "").startswith(HIDDEN_CONTEXTS):
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if set(ids) <= set(strings):
            continue  # translated as itself (an emoji, a name)
        for msgid in ids:
            if msgid.strip() in whole:
                found.append(msgid)
                continue
            for line in msgid.split("\n"):
                for piece in PLACEHOLDER.split(line):
                    piece = piece.strip(" .:!?")
                    if len(piece) >= 12 and " " in piece and any(piece in t for t in texts):
                        found.append(piece)
    return sorted(set(found))


async def walk_through_everything(person: Recorder, language: str) -> None:
    """Onboarding, what-matters, commands, a few wrong answers, stop and resume."""
    await person.say("/start")
    await person.pick(language)
    await person.pick("yes")  # consent
    await person.say("9999")  # a postcode we do not know
    await person.pick("kerkelanden")
    await person.pick("18-27")
    await person.toggle("green", "sport")  # then what-matters begins
    await person.say("👍👍")  # not an answer
    await person.say("Het park, de markt")
    await person.say("/help")
    await person.say("/privacy")
    await person.toggle("green", "other")
    await person.say("Minder auto's")
    await person.say("/mydata")
    await person.say("Meer bankjes")
    await person.say("/stop")
    await person.say("hello?")
    await person.say("/start")  # offers to go on or start again
    await person.pick("no")  # go on
    await person.pick("_skip")  # rather not say
    await person.say("1, 2, 3, 4, 5")  # "rather not say" with answers: asked again
    await person.say("1, 2")
    await person.say("maybe")  # not yes or no
    await person.pick("yes")  # the end of what-matters
    await person.say("/unknown")
    assert person.last is not None


@pytest.mark.parametrize("language", ["tr", "ar"])
async def test_no_english_in_a_whole_conversation(app: App, language: str) -> None:
    person = Recorder(app.service)
    await walk_through_everything(person, language)
    assert len(person.shown) > 60
    assert english_leftovers(person.shown, language) == []


async def test_the_check_itself_finds_english(app: App) -> None:
    """The same walk in English finds the source texts (the check is not blind)."""
    person = Recorder(app.service)
    await walk_through_everything(person, "en")
    found = english_leftovers(person.shown, "tr")
    assert any("What is good about your neighbourhood" in text for text in found)
    assert "Rather not say" in found  # a button
    assert "Yes, I agree" in found


async def test_arabic_with_latin_names_is_right_to_left(app: App) -> None:
    person = Recorder(app.service)
    await person.say("/start")
    await person.pick("ar")
    intro = next(text for text in person.shown if "Welzijn Almelo" in text)
    assert f"{FSI}Welzijn Almelo\u2069" in intro
    for line in intro.split("\n"):
        if line and not line.startswith(RLM):
            assert strip_marks(line)[0] not in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@pytest.mark.parametrize(
    ("language", "word"),
    [
        ("nl", "stoppen"),
        ("nl", "Afmelden"),
        ("tr", "dur"),
        ("tr", "Durdur!"),
        ("ar", "توقف"),
        ("uk", "стоп"),
        ("pl", "zatrzymaj"),
        ("tr", "stop"),
    ],
)
async def test_stop_words_in_each_language(app: App, language: str, word: str) -> None:
    person = Person(app.service)
    await person.say("/start")
    await person.pick(language)
    await person.pick("yes")
    reply = await person.say(word)
    t = app.service.catalogs(language)
    assert reply == t.gettext(
        "OK. You will get no more messages from us. Type /start to begin again."
    )
    async with app.database.transaction() as session:
        participant = (await session.execute(select(Participant))).scalar_one()
    assert participant.opted_out_at is not None


@pytest.mark.parametrize(
    ("language", "word", "shows"),
    [("nl", "hulp", "/language"), ("tr", "yardım", "/language"), ("ar", "مساعدة", "/language")],
)
async def test_help_words(app: App, language: str, word: str, shows: str) -> None:
    person = Person(app.service)
    await person.say("/start")
    await person.pick(language)
    reply = await person.say(word)
    assert shows in reply
    assert app.service.catalogs(language).gettext("You can type these words at any time:") in reply


@pytest.mark.parametrize(
    ("language", "yes", "no"),
    [("nl", "jawel", "nee"), ("tr", "tamam", "hayır"), ("ar", "نعم", "لا"), ("uk", "так", "ні")],
)
async def test_typed_yes_and_no(app: App, language: str, yes: str, no: str) -> None:
    person = Person(app.service)
    await person.say("/start")
    await person.pick(language)
    await person.say(yes)  # consent, typed
    assert person.question().step == "neighbourhood"
    other = Person(app.service, user_id="2002")
    await other.say("/start")
    await other.pick(language)
    await other.say(no)
    async with app.database.transaction() as session:
        people = (await session.execute(select(Participant))).scalars().all()
    assert len(people) == 1  # no consent: nothing kept
