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


NAMES = {"centrum": "Centrum", "de-riet": "De Riet"}


@pytest.mark.parametrize(
    ("subject", "dutch", "english"),
    [
        (audit.activity(12), "activiteit 12", "activity 12"),
        (audit.proposal(7), "voorstel 7", "proposal 7"),
        (audit.flow("checkin"), "gesprek “Check-in”", "conversation “Check-in”"),
        (
            audit.sent(audit.activity(12), 40, "3f2a", ["centrum", "de-riet"]),
            "activiteit 12: 40 mensen in Centrum, De Riet (verzending 3f2a)",
            "activity 12: 40 people in Centrum, De Riet (batch 3f2a)",
        ),
        (
            audit.sent(audit.flow("checkin"), 1, "9c", []),
            "gesprek “Check-in”: 1 persoon in de hele stad (verzending 9c)",
            "conversation “Check-in”: 1 person in the whole town (batch 9c)",
        ),
        (
            audit.stopped(audit.batch("9c"), 3),
            "verzending 9c: 3 berichten gestopt",
            "batch 9c: 3 messages stopped",
        ),
        (
            audit.stopped(audit.activity(12), 1),
            "activiteit 12: 1 bericht gestopt",
            "activity 12: 1 message stopped",
        ),
        (audit.places(["de-riet"]), "De Riet", "De Riet"),
        (audit.places([]), "de hele stad", "the whole town"),
        ("P-7BKCN47PLW: centrum", "P-7BKCN47PLW: Centrum", "P-7BKCN47PLW: Centrum"),
        (f"{audit.ERASED}: *", "Gewiste persoon: de hele stad", "Erased person: the whole town"),
        # As recorded before the builders: a send without neighbourhoods.
        (
            "flow checkin: 5 people, batch 9c",
            "gesprek “Check-in”: 5 mensen in de hele stad (verzending 9c)",
            "conversation “Check-in”: 5 people in the whole town (batch 9c)",
        ),
    ],
)
def test_a_subject_is_read_back_in_the_reader_s_language(
    subject: str, dutch: str, english: str
) -> None:
    catalogs = Catalogs(default="nl")
    titles = {"checkin": "Check-in"}
    for language, expected in (("nl", dutch), ("en", english)):
        described = audit.describe(subject, catalogs(language), NAMES, titles.__getitem__)
        assert described == expected
