"""`buurtbot broadcast`: when, to whom, and an unknown activity."""

from __future__ import annotations

from bot.app import App
from bot.i18n.format import local
from bot.storage.models.community import Activity
from tests.community.helpers import (
    cli,
    queued,
)
from tests.community.test_invitations import residents


async def test_broadcast_command_line_with_time_and_unknown_activity(app: App) -> None:
    await residents(app)
    result = await cli(
        app,
        "activities",
        "add",
        "--title",
        "Voetbal",
        "--starts",
        "2031-05-01T15:00",
        "--place",
        "Veldje",
        "--neighbourhood",
        "kerkelanden",
        "--capacity",
        "12",
    )
    assert result.exit_code == 0, result.output
    activity = int(result.output.strip().splitlines()[-1])
    async with app.database.transaction() as session:
        found = await session.get(Activity, activity)
        assert found is not None and found.capacity == 12
        assert local(found.starts_at, app.settings.timezone).hour == 15

    # Without criteria: everyone who may get it, here and elsewhere.
    result = await cli(app, "broadcast", "--activity", str(activity), "--dry-run")
    assert result.exit_code == 0 and result.output.strip().endswith("4")
    assert not await queued(app)
    result = await cli(
        app,
        "broadcast",
        "--activity",
        str(activity),
        "-n",
        "kerkelanden",
        "--at",
        "2031-04-30T10:00",
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "3"
    rows = await queued(app, kind="invitation")
    assert {local(r.due_at, app.settings.timezone).isoformat()[:16] for r in rows} == {
        "2031-04-30T10:00"
    }
    result = await cli(app, "broadcast", "--activity", "999")
    assert result.exit_code == 1
