"""`buurtbot outbox status`."""

from __future__ import annotations

import asyncio

from typer.testing import CliRunner

from bot import outbox
from bot.app import App
from bot.cli import app as cli
from bot.delivery.sender import Delivery, Status
from tests.delivery.conftest import RecordingSender, add_people, dispatcher_for


async def test_outbox_status_command(app: App, clock, monkeypatch) -> None:
    ada, bo = await add_people(app, 2)
    async with app.database.transaction() as session:
        for person in (ada, bo):
            await outbox.enqueue(
                session,
                person.id,
                "invitation",
                outbox.text("x"),
                batch_id="act-7",
                now=clock.now(),
            )
        await outbox.enqueue(session, ada.id, "notice", outbox.text("y"), now=clock.now())
    sender = RecordingSender(clock)
    sender.answer("u1", Delivery(Status.UNREACHABLE, error="Forbidden: bot was blocked"))
    await dispatcher_for(app, sender, clock).run_once()
    async with app.database.transaction() as session:
        progress = await outbox.broadcast_progress(session, "act-7")
    assert (progress.total, progress.sent, progress.unreachable, progress.done) == (2, 1, 1, True)

    monkeypatch.setenv("BUURTBOT_DATABASE_URL", app.settings.database_url)
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["outbox", "status", "--batch", "act-7"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "invitation" in result.output and "notice" not in result.output
    assert "Broadcast act-7: 1 of 2 sent; done" in result.output
    assert "Forbidden: bot was blocked" in result.output
    overall = await asyncio.to_thread(
        CliRunner().invoke, cli, ["outbox", "status"], env={"COLUMNS": "200"}
    )
    assert overall.exit_code == 0 and "notice" in overall.output
