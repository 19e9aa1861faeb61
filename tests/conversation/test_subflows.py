"""A `subflow` step through the conversation service and a real database: the other
flow runs where the step stands, and the flow goes on after it, also when something
interrupts the subflow."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App
from bot.storage.models import Answer, Conversation
from tests.conversation.conftest import app_with_flows
from tests.conversation.test_service import onboard
from tests.helpers import Person

PARENT = """\
id: visit
version: 1
title: Visit
command: visit
steps:
  - key: hello
    kind: message
    text: Hello from the visit.
  - key: register
    kind: subflow
    flow: details
  - key: last
    kind: text
    text: Anything else?
  - key: bye
    kind: message
    text: Bye from the visit.
"""

CHILD = """\
id: details
version: 1
title: Details
steps:
  - key: pets
    kind: number
    text: How many pets do you have?
  - key: thanks
    kind: message
    text: Thanks from the details.
"""


@pytest.fixture
async def app(database_url: str, tmp_path: Path) -> AsyncIterator[App]:
    async with app_with_flows(database_url, tmp_path, visit=PARENT, details=CHILD) as built:
        yield built


async def statuses(app: App) -> dict[str, str]:
    async with app.database.transaction() as session:
        rows = await session.execute(select(Conversation.flow_id, Conversation.status))
        return dict(rows.all())


async def test_the_subflow_runs_in_the_middle_and_the_flow_goes_on(app: App) -> None:
    person = Person(app.service)
    await onboard(person)  # what-matters is asked now
    reply = await person.say("/visit")
    assert reply.index("Hello from the visit.") < reply.index("How many pets do you have?")
    assert (await statuses(app))["visit"] == "paused"
    # A command in the subflow: it waits, and comes back after.
    await person.say("/language")
    reply = await person.pick("en")
    assert reply.endswith("How many pets do you have?")
    reply = await person.say("3")
    assert reply.index("Thanks from the details.") < reply.index("Anything else?")
    assert "What is good" not in reply  # what-matters waits until the visit is done
    reply = await person.say("No")
    assert reply.index("Bye from the visit.") < reply.index("What is good about")
    found = await statuses(app)
    assert found["visit"] == found["details"] == "finished"
    assert found["what-matters"] == "active"
    async with app.database.transaction() as session:
        rows = await session.execute(select(Answer.flow_id, Answer.step_key, Answer.value))
        stored = {(flow, step): value for flow, step, value in rows.all()}
    assert stored[("details", "pets")] == 3 and stored[("visit", "last")] == "No"
    assert ("visit", "register") not in stored
