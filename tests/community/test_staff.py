"""Coordinators' work on workers and the news: one check for chat and dashboard, invites
by name, revoking ends dashboard sessions at once, and every change in the audit log,
from the command line, the chat and the dashboard alike."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import App
from bot.community import audit, logins, news, staff
from bot.i18n.catalogs import Catalogs
from bot.storage import participants
from bot.storage.models import Participant
from bot.storage.models.community import AuditEntry
from bot.storage.models.dashboard import DashboardSession
from tests.community.helpers import cli, make_worker, participant

pytestmark = pytest.mark.postgres


async def entries(app: App, action: str) -> list[AuditEntry]:
    async with app.database.transaction() as session:
        found = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
        return list(found)


def test_news_is_checked_by_one_rule() -> None:
    from bot.deployment import load_deployment
    from tests.conftest import ROOT

    t = Catalogs(default="nl")("en")
    deployment = load_deployment(ROOT / "buurtbot.yaml")
    languages = ["nl", "en", "tr"]

    def check(where: str, text: str, allowed=None, **translations: str) -> dict[str, str]:
        return news.problems(t, deployment, languages, allowed, where, text, translations)

    assert check("kerkelanden", "Er komt een moestuin.") == {}
    assert check("kerkelanden", "Er komt een moestuin 🌱", tr="Bahçe 🌱") == {}
    assert list(check("kerkelanden", "")) == ["text"]
    assert list(check("kerkelanden", "x" * 10_000)) == ["text"]
    assert list(check("kerkelanden", "Goed.", tr="x" * 601)) == ["text-tr"]
    assert list(check("kerkelanden", "Goed.", xx="Iets")) == ["text"]
    assert list(check("nowhere", "Goed.")) == ["neighbourhood"]
    assert list(check("centrum", "Goed.", frozenset({"kerkelanden"}))) == ["neighbourhood"]
    assert check("centrum", "Goed.", frozenset({"centrum"})) == {}


async def test_news_in_the_chat_is_recorded_and_bad_news_is_refused(app: App) -> None:
    worker = await make_worker(app)
    await worker.say("/news")
    await worker.say("Veel mensen willen een moestuin. We beginnen in mei.")
    reply = await worker.pick("no")
    assert "Saved." in reply
    [entry] = await entries(app, audit.NEWS_WRITTEN)
    person = await participant(app, worker)
    assert (entry.actor_id, entry.via, entry.subject) == (person.id, audit.CHAT, "kerkelanden")
    # A translation into a language that is not offered is refused, nothing saved.
    await worker.say("/news")
    await worker.say("Het park krijgt nieuwe banken.")
    await worker.pick("yes")
    reply = await worker.say("xx: Iets anders")
    async with app.database.transaction() as session:
        kept = await news.update_for(session, "kerkelanden")
    assert kept == {"_": "Veel mensen willen een moestuin. We beginnen in mei."}
    assert len(await entries(app, audit.NEWS_WRITTEN)) == 1, reply


async def test_the_command_line_invites_by_name_grants_and_revokes_on_the_record(
    app: App,
) -> None:
    result = await cli(app, "workers", "invite", "-n", "centrum", "--name", "Fatima")
    assert result.exit_code == 0, result.output
    code = result.output.strip().splitlines()[-1]
    assert len(code) == 14 and code.count("-") == 2, "the code alone on the last line"
    bad = await cli(app, "workers", "invite", "--name", " ")
    assert bad.exit_code == 2 and "--name" in bad.output

    worker = await make_worker(app, user_id="w-cli", neighbourhoods=())
    async with app.database.transaction() as session:
        person = await session.get(Participant, (await participant(app, worker)).id)
        assert person is not None
        assert await roles_redeem(app, session, person, code) == ["centrum"]
        assert person.worker_name == "Fatima"
    granted = await cli(
        app, "workers", "grant", "--channel", "telegram", "--user-id", "77", "--name", "Sam"
    )
    assert granted.exit_code == 0, granted.output
    listed = (await cli(app, "workers", "list")).output
    assert "\tFatima" in listed and "\tSam" in listed
    revoked = await cli(app, "workers", "revoke", "--channel", "telegram", "--user-id", "77")
    assert revoked.exit_code == 0, revoked.output

    [invited] = await entries(app, audit.WORKER_INVITED)
    [made] = await entries(app, audit.WORKER_GRANTED)
    [taken] = await entries(app, audit.WORKER_REVOKED)
    for entry in (invited, made, taken):
        assert (entry.actor_pseudonym, entry.via) == (audit.OPERATOR, audit.CLI)
    assert invited.subject == "centrum"
    assert made.subject == taken.subject + ": *" and made.subject.startswith("P-")
    assert "77" not in made.subject and "Sam" not in made.subject
    joined = await entries(app, audit.WORKER_JOINED)
    assert [e.actor_name for e in joined][-1] == "Fatima" and joined[-1].via == audit.CHAT


async def roles_redeem(app: App, session, person: Participant, code: str) -> list[str] | None:
    from bot.community import roles

    return await roles.redeem(session, person, code, app.settings.secret, settings=app.settings)


async def test_revoking_a_worker_ends_their_dashboard_sessions_at_once(app: App) -> None:
    worker = await make_worker(app)
    person = await participant(app, worker)
    async with app.database.transaction() as session:
        found = await session.get(Participant, person.id)
        assert found is not None
        link = await logins.create_link(session, app.settings.secret, found)
        assert link is not None
        token = await logins.redeem_link(session, app.settings.secret, link)
        assert token is not None
    async with app.database.transaction() as session:
        found = await session.get(Participant, person.id)
        assert found is not None
        actor = audit.Actor.operator(audit.DASHBOARD)
        assert await staff.revoke(session, app.settings, actor, found)
        # Ended in the same transaction: not only refused at the next request.
        ended = (await session.scalars(select(DashboardSession.ended_at))).all()
        assert ended and all(ended)
        assert found.role == "resident" and found.worker_since is None
        assert not await staff.revoke(session, app.settings, actor, found)
    async with app.database.transaction() as session:
        assert await logins.check_session(session, app.settings.secret, token) is None
    [entry] = await entries(app, audit.WORKER_REVOKED)
    assert entry.via == audit.DASHBOARD


async def test_an_erased_worker_leaves_no_pseudonym_in_entries_about_them(app: App) -> None:
    worker = await make_worker(app, user_id="w-gone")
    async with app.database.transaction() as session:
        person = await participants.get(session, "terminal", "w-gone")
        assert person is not None
        await staff.grant(session, app.settings, audit.Actor.operator(), person, ["centrum"])
    [entry] = await entries(app, audit.WORKER_GRANTED)
    assert entry.subject.startswith("P-")
    await worker.say("/forget")
    await worker.pick("yes")
    [entry] = await entries(app, audit.WORKER_GRANTED)
    assert entry.subject.startswith(audit.ERASED) and "P-" not in entry.subject


async def test_the_name_on_an_unused_code_goes_when_the_code_is_too_old(app: App) -> None:
    from datetime import timedelta

    from bot.community import roles
    from bot.storage.models import utcnow
    from bot.storage.models.community import WorkerInvite

    async with app.database.transaction() as session:
        await roles.create_invite(
            session, app.settings.secret, name="Old", now=utcnow() - timedelta(days=8)
        )
        await staff.invite(session, app.settings, audit.Actor.operator(), "New", ["centrum"])
    async with app.database.transaction() as session:
        names = {i.worker_name for i in (await session.scalars(select(WorkerInvite))).all()}
    assert names == {None, "New"}
