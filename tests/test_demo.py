"""`buurtbot demo seed` / `demo clear`: made-up data that reports can be tried with, and
that goes again without touching a real row."""

from __future__ import annotations

from datetime import UTC, datetime
from gettext import NullTranslations
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select
from typer.testing import CliRunner

from bot import demo
from bot.cli import app
from bot.deployment import Deployment, load_deployment
from bot.flows.library import FlowLibrary
from bot.reports.aggregate import TOTAL, aggregate
from bot.storage.migrate import upgrade
from bot.storage.models import Answer, Conversation, OutboxMessage, Participant
from bot.storage.models.community import Activity, Invitation, Proposal, Rsvp
from tests.conftest import ROOT
from tests.reports.seed import engine_for
from tests.reports.test_protection import every_leak

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str):
    upgrade(database_url)
    made = engine_for(database_url)
    yield made
    made.dispose()


@pytest.fixture
def library() -> FlowLibrary:
    return FlowLibrary.load(ROOT / "conversations")


@pytest.fixture
def deployment() -> Deployment:
    return load_deployment(ROOT / "buurtbot.yaml")


def seeded(engine: Engine, library: FlowLibrary, deployment: Deployment, **options) -> demo.Seeded:
    with engine.begin() as connection:
        return demo.seed(
            connection,
            library=library,
            deployment=deployment,
            languages=["nl", "en", "tr", "ar", "pl", "uk"],
            now=NOW,
            **options,
        )


def count(engine: Engine, model, *where) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(model).where(*where)
        ).scalar_one()


@pytest.mark.parametrize("seed_value", [1, 2])
def test_a_demo_report_is_readable_and_gives_nothing_away(
    seed_value: int, engine: Engine, library: FlowLibrary, deployment: Deployment
) -> None:
    made = seeded(engine, library, deployment, people=250, months=4, seed_value=seed_value)
    assert made.people == 250 and made.answers > 1000
    assert min(made.per_neighbourhood.values()) <= 4  # a tiny neighbourhood, on purpose
    with engine.connect() as connection:
        languages = set(connection.scalars(select(Participant.language)))
        months = {at.strftime("%Y-%m") for at in connection.scalars(select(Answer.created_at))}
        answers = {(bool(w), a) for a, w in connection.execute(select(Rsvp.answer, Rsvp.waiting))}
        states = set(connection.scalars(select(Proposal.status)))
        results = aggregate(
            connection,
            library=library,
            deployment=deployment,
            translator=NullTranslations(),
        )
    assert languages == {"nl", "en", "tr", "ar", "pl", "uk"}
    assert len(months) >= 4
    assert (True, "going") in answers and (False, "going") in answers  # a waiting list
    assert states == {"open", "asking", "approved", "declined"}
    # About residents: no worker's planning flow; titles without placeholders.
    flows = {f.flow_id for f in results.flows}
    assert flows and not flows & {"invite", "invite-confirm", "new-activity", "plan-activity"}
    for table in results.tables():
        assert "{" not in table.title, table.title
        for line in table.lines:
            assert "{" not in line.label, line.label
    feedback = results.flow("feedback")
    assert feedback is not None
    went = feedback.question("went")
    assert went is not None and went.title == "Did you go?"
    # The attacks find nothing, in the report of the town and of one neighbourhood.
    found = every_leak(results)
    assert found == [], "\n".join(found)
    assert results.sections and all(t.base is not None for t in results.sections)
    invited = sum(
        t.base.cells[t.column(TOTAL)].value or 0
        for t in results.sections
        if t.base is not None and t.base.cells[t.column(TOTAL)].shown
    )
    assert 0 < invited <= made.invitations + made.rsvps


def test_demo_seed_refuses_a_database_with_real_people(
    engine: Engine, library: FlowLibrary, deployment: Deployment
) -> None:
    with engine.begin() as connection:
        connection.execute(insert(Participant), {"channel": "telegram", "channel_user_id": "1234"})
    with pytest.raises(demo.RealParticipants):
        seeded(engine, library, deployment, people=20)
    assert count(engine, Participant) == 1


def test_demo_clear_removes_exactly_the_demo_rows(
    engine: Engine, library: FlowLibrary, deployment: Deployment
) -> None:
    seeded(engine, library, deployment, people=60, months=2)
    # A real person and activity come in after the demo was seeded.
    with engine.begin() as connection:
        real = connection.execute(
            insert(Participant).returning(Participant.id),
            {"channel": "telegram", "channel_user_id": "777", "consented_at": NOW},
        ).scalar_one()
        connection.execute(
            insert(Answer),
            {
                "participant_id": real,
                "flow_id": "what-matters",
                "flow_version": 1,
                "step_key": "change",
                "value": ["green"],
            },
        )
        activity = connection.execute(
            insert(Activity).returning(Activity.id),
            {"title": {"_": "Echt"}, "description": {"_": ""}, "starts_at": NOW},
        ).scalar_one()
        connection.execute(
            insert(Invitation), {"activity_id": activity, "participant_id": real, "batch_id": "x"}
        )
    with engine.begin() as connection:
        people, activities = demo.clear(connection)
    assert people == 62 and activities > 0
    assert count(engine, Participant) == 1 and count(engine, Answer) == 1
    assert count(engine, Activity) == 1 and count(engine, Invitation) == 1
    for model in (Conversation, Rsvp, Proposal, OutboxMessage):
        assert count(engine, model) == 0


def test_the_commands(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for key, value in {
        "BUURTBOT_DATABASE_URL": database_url,
        "BUURTBOT_SECRET_KEY": "demo-secret",
        "BUURTBOT_DEPLOYMENT_FILE": str(ROOT / "buurtbot.yaml"),
        "BUURTBOT_CONVERSATIONS_DIR": str(ROOT / "conversations"),
        "BUURTBOT_DATA_DIR": str(tmp_path / "data"),
    }.items():
        monkeypatch.setenv(key, value)
    upgrade(database_url)
    runner = CliRunner()
    assert runner.invoke(app, ["demo", "seed", "--people", "0"]).exit_code == 2
    made = runner.invoke(app, ["demo", "seed", "--people", "80", "--months", "3"])
    assert made.exit_code == 0, made.output
    assert "80 residents" in made.stdout
    again = runner.invoke(app, ["demo", "seed"])
    assert again.exit_code == 1 and "demo clear" in again.stderr
    report = runner.invoke(app, ["report", "--output", str(tmp_path / "report")])
    assert report.exit_code == 0, report.output
    text = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "| Totaal |" in text and "minder dan 5" in text
    cleared = runner.invoke(app, ["demo", "clear"])
    assert cleared.exit_code == 0 and "82 demo people" in cleared.stdout


def test_demo_workers_have_the_names_a_real_invite_gives(
    engine: Engine, library: FlowLibrary, deployment: Deployment
) -> None:
    """The workers page and the audit log show who a worker is; the demo's show a name."""
    seeded(engine, library, deployment, people=50)
    with engine.connect() as connection:
        names = connection.execute(
            select(Participant.worker_name, Participant.worker_since).where(
                Participant.role == "worker"
            )
        ).all()
    assert len(names) == 2
    assert all(name and since for name, since in names)
