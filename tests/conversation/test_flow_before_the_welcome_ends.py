"""A flow that runs right after consent (a poster's, `buurtbot chat --flow`), before the
rest of the welcome: what it put in the profile is not asked again when the welcome
goes on. Through the conversation service and a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App
from bot.storage.models import Participant
from tests.conversation.conftest import app_with_flows
from tests.helpers import Person

# As `buurtbot flows import` makes a RapidPro poster flow that files people under a
# neighbourhood (`set_contact_field` → a `set` step with `store_as`).
POSTER = """\
id: poster
version: 1
title: Poster
steps:
  - {key: hello, kind: message, text: Hello from the poster.}
  - {key: hood, kind: set, value: centrum, store_as: neighbourhood}
  - {key: idea, kind: text, text: What would you change here?}
"""

# A poster flow that asks the age group itself, with labels of its own (as imported).
AGES = """\
id: ages
version: 1
title: Ages
steps:
  - key: age
    kind: choice
    store_as: age_group
    text: How old are you, for this poster?
    options:
      - {value: 12-17, label: 12-17}
      - {value: 18-27, label: 18-27}
"""


@pytest.fixture
async def app(database_url: str, tmp_path: Path) -> AsyncIterator[App]:
    async with app_with_flows(database_url, tmp_path, poster=POSTER, ages=AGES) as built:
        yield built


async def consented(app: App, flow_id: str) -> Person:
    """Someone new who consents, then gets `flow_id` at once (as `chat --flow` does)."""
    person = Person(app.service)
    await person.say("/start")
    await person.pick("en")
    reply = await person.pick("yes")
    assert "Which neighbourhood do you live in?" in reply  # the welcome's next question
    person.last = await app.service.start_chosen_flow(person.channel, person.user_id, flow_id)
    return person


async def profile(app: App) -> Participant:
    async with app.database.transaction() as session:
        return (await session.scalars(select(Participant))).one()


async def test_a_neighbourhood_a_flow_set_is_not_asked_again(app: App) -> None:
    person = await consented(app, "poster")
    assert "What would you change here?" in person.text(person.last)
    reply = await person.say("More trees")
    # The welcome goes on with the age group: the neighbourhood is known.
    assert "How old are you?" in reply, reply
    assert "Which neighbourhood" not in reply
    await person.say("2")  # 18 to 27
    reply = await person.toggle("green")
    assert "What is good about your neighbourhood?" in reply  # the welcome has ended
    assert (await profile(app)).neighbourhood == "centrum"


async def test_an_age_group_a_flow_asked_is_not_asked_again(app: App) -> None:
    person = await consented(app, "ages")
    await person.pick("12-17")
    # Back in the welcome: the neighbourhood is still asked, the age group not.
    assert "Which neighbourhood do you live in?" in person.text(person.last)
    reply = await person.pick("kerkelanden")
    assert "What do you care about?" in reply and "How old are you?" not in reply, reply
    found = await profile(app)
    assert (found.neighbourhood, found.age_group) == ("kerkelanden", "12-17")
    # /mydata shows the age group as the welcome words it (not the poster's "12-17").
    await person.toggle("green")
    assert "Age group: 12 to 17" in await person.say("/mydata")


async def test_nothing_known_the_welcome_asks_as_before(app: App) -> None:
    person = Person(app.service)
    await person.say("/start")
    await person.pick("en")
    await person.pick("yes")
    reply = await person.say("/help")  # a command in between, nothing in the profile
    assert "Which neighbourhood do you live in?" in reply
