"""The audit log: an entry a worker action, who by pseudonym and name, blanked on erasure."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import App
from bot.community import audit
from bot.i18n.catalogs import Catalogs
from bot.storage.models import Participant
from bot.storage.models.community import AuditEntry
from tests.community.helpers import make_worker, participant

pytestmark = pytest.mark.postgres


async def test_an_entry_names_the_worker_by_pseudonym_and_name_never_their_platform_id(
    app: App,
) -> None:
    worker = await make_worker(app, user_id="555123")
    async with app.database.transaction() as session:
        row = await session.get(Participant, (await participant(app, worker)).id)
        assert row is not None
        row.worker_name = "Fatima"
        actor = await audit.actor_of(session, app.settings, row.id, audit.DASHBOARD)
        await audit.record(session, actor, audit.ACTIVITY_CANCELLED, "activity 12")
        await audit.record(session, audit.Actor.operator(), audit.WORKER_INVITED, "centrum")
    async with app.database.transaction() as session:
        newest, first, joined = await audit.entries(session)
    assert joined.action == audit.WORKER_JOINED  # `/worker CODE` in make_worker
    assert (newest.action, newest.actor_pseudonym, newest.via) == (
        audit.WORKER_INVITED,
        audit.OPERATOR,
        audit.CLI,
    )
    assert first.actor_name == "Fatima" and first.subject == "activity 12"
    assert first.actor_pseudonym and "555123" not in first.actor_pseudonym
    async with app.database.transaction() as session:
        assert [e.id for e in await audit.entries(session, before=newest.id, limit=1)] == [first.id]


async def test_an_erased_workers_entries_keep_the_action_not_the_person(app: App) -> None:
    worker = await make_worker(app)
    async with app.database.transaction() as session:
        row = await session.get(Participant, (await participant(app, worker)).id)
        assert row is not None
        row.worker_name = "Fatima"
        actor = audit.Actor.worker(app.settings, row, audit.CHAT)
        await audit.record(session, actor, audit.NEWS_WRITTEN, "kerkelanden")
    await worker.say("/forget")
    await worker.pick("yes")
    async with app.database.transaction() as session:
        joined, entry = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    assert (entry.action, entry.actor_id, entry.actor_name) == (audit.NEWS_WRITTEN, None, None)
    assert entry.actor_pseudonym == audit.ERASED
    assert (joined.action, joined.actor_pseudonym) == (audit.WORKER_JOINED, audit.ERASED)


def test_every_action_has_a_label_in_every_language() -> None:
    catalogs = Catalogs(default="nl")
    for action in audit.LABELS:
        assert audit.label(catalogs("en"), action) != action
    assert audit.label(catalogs("en"), "no.such") == "no.such"
