"""`/results` and `/export` in chat: workers only, their neighbourhoods only."""

from __future__ import annotations

from bot.app import App
from bot.flows.events import Document
from tests.community.helpers import make_worker, onboard
from tests.helpers import Person


async def test_worker_gets_results_and_an_export_of_their_neighbourhood(app: App) -> None:
    for n in range(6):
        resident = Person(app.service, user_id=f"r{n}")
        await onboard(resident, neighbourhood="kerkelanden")
        await resident.say(f"Het park nummer {n}")
    elsewhere = Person(app.service, user_id="x1")
    await onboard(elsewhere, neighbourhood="centrum")
    await elsewhere.say("Centrum-antwoord-ZZZ")
    worker = await make_worker(app, neighbourhoods=("kerkelanden",))

    reply = await worker.send("/results")
    charts = [m for m in reply.messages if isinstance(m, Document)]
    assert charts and all(c.data.startswith(b"\x89PNG") for c in charts)

    reply = await worker.send("/export csv")
    documents = [m for m in reply.messages if isinstance(m, Document)]
    assert len(documents) == 1
    text = documents[0].data.decode("utf-8-sig")
    assert "Het park nummer 3" in text
    assert "Centrum-antwoord-ZZZ" not in text  # another neighbourhood
    assert "r3" not in text.split(",")  # no chat ids


async def test_a_resident_cannot_ask_for_results_or_exports(app: App) -> None:
    resident = Person(app.service, user_id="r1")
    await onboard(resident)
    for command in ("/results", "/export"):
        reply = await resident.send(command)
        assert not any(isinstance(m, Document) for m in reply.messages)
