"""The one check of an activity's fields (chat, command line and dashboard): each bad
field gets its own message in the worker's language, a good form gives the fields to
store, and the audit log gets each activity made, changed or cancelled — wherever."""

from __future__ import annotations

import gettext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app import App
from bot.community import activities, audit, changes
from bot.community.activity_fields import (
    check_activity,
    missing_translations,
    profile_options,
)
from bot.community.manage import update_activity
from bot.deployment import load_deployment
from bot.flows.library import FlowLibrary
from bot.i18n.catalogs import Catalogs
from bot.settings import Settings
from bot.storage.models.community import Activity
from tests.community.helpers import cli, make_worker, new_activity, participant
from tests.conftest import ROOT, make_settings

ENGLISH = gettext.NullTranslations()
NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)  # 12:00 in Amsterdam


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings("sqlite://", Path(tmp_path_factory.mktemp("fields")))


@pytest.fixture(scope="module")
def library() -> FlowLibrary:
    return FlowLibrary.load(ROOT / "conversations")


def check(settings: Settings, library: FlowLibrary | None = None, t=ENGLISH, **given):
    values = {
        "title": {"nl": "Buurtbarbecue", "tr": "Mahalle barbeküsü"},
        "day": "2026-06-12",
        "at": "14:00",
        "place": "Buurthuis",
        "neighbourhoods": ["centrum"],
        "allowed": frozenset({"centrum"}),
    }
    values.update(given)
    return check_activity(
        t,
        settings=settings,
        deployment=load_deployment(ROOT / "buurtbot.yaml"),
        library=library,
        now=NOW,
        **values,
    )


def test_a_good_activity_gives_its_fields(plain: Settings, library: FlowLibrary) -> None:
    checked = check(
        plain,
        library,
        description={"nl": "Samen eten", "ar": "نأكل معًا"},
        capacity="25",
        age_groups=["12-17", "65+"],
        interests=["cooking"],
    )
    assert checked.ok and checked.problems == {}
    fields = checked.fields
    assert fields is not None
    assert fields.title == {"_": "Buurtbarbecue", "tr": "Mahalle barbeküsü"}
    assert fields.description == {"_": "Samen eten", "ar": "نأكل معًا"}
    assert fields.starts_at == datetime(2026, 6, 12, 12, 0, tzinfo=UTC)  # 14:00 CEST
    assert (fields.capacity, fields.neighbourhoods) == (25, ["centrum"])
    assert (fields.age_groups, fields.interests) == (["12-17", "65+"], ["cooking"])
    # Typed by hand, as in the chat: 12-06-2026 and 14.00; the chat's original in "_".
    typed = check(plain, title={"_": "BBQ", "pl": "Grill"}, day="12-06-2026", at="14.00")
    assert typed.fields is not None and typed.fields.title == {"_": "BBQ", "pl": "Grill"}
    assert typed.fields.starts_at == fields.starts_at


BAD = [
    ({"title": {"nl": "   "}}, "title", "Write a title."),
    ({"title": {"tr": "Sadece çeviri"}}, "title", "Write a title."),
    ({"title": {"nl": "x" * 10_000}}, "title", "at most 120 characters"),
    ({"title": {"nl": "BBQ", "ar": "ب" * 121}}, "title_ar", "at most 120 characters"),
    ({"title": {"nl": "🎉🔥"}}, "title", "only signs or emoji"),
    ({"description": {"nl": "d" * 1001}}, "description", "at most 1000 characters"),
    ({"description": {"tr": "Birlikte"}}, "description", "first language too"),
    ({"day": "2026-05-31"}, "date", "in the past"),
    ({"day": "2026-06-01", "at": "11:59"}, "time", "in the past"),
    ({"day": ""}, "date", "Choose a day."),
    ({"day": "31-02-2026"}, "date", "not a date"),
    ({"day": "volgende week"}, "date", "not a date"),
    ({"at": "25:00"}, "time", "not a time"),
    ({"at": ""}, "time", "Choose a time."),
    ({"starts": "next week"}, "starts", "not an ISO date and time"),
    ({"starts": "2026-05-01T10:00"}, "starts", "in the past"),
    ({"place": "p" * 201}, "place", "at most 200 characters"),
    ({"capacity": "0"}, "capacity", "whole number"),
    ({"capacity": "-4"}, "capacity", "whole number"),
    ({"capacity": "veel"}, "capacity", "whole number"),
    ({"capacity": "10001"}, "capacity", "whole number"),
    ({"capacity": "99999999999999999999"}, "capacity", "whole number"),
    ({"neighbourhoods": ["de-riet"]}, "neighbourhoods", "neighbourhoods you work in"),
    ({"neighbourhoods": ["atlantis"], "allowed": None}, "neighbourhoods", "you work in"),
    ({"neighbourhoods": []}, "neighbourhoods", "at least one"),
    ({"age_groups": ["teens"]}, "age_groups", "Choose from the list."),
    ({"interests": ["other"]}, "interests", "Choose from the list."),
]


@pytest.mark.parametrize(("given", "field", "says"), BAD, ids=lambda v: str(v)[:30])
def test_each_bad_field_gets_its_own_message(
    plain: Settings, library: FlowLibrary, given: dict, field: str, says: str
) -> None:
    checked = check(plain, library, **given)
    assert checked.fields is None and not checked.ok
    assert list(checked.problems) == [field], checked.problems
    assert says in checked.problems[field]


def test_every_problem_at_once_each_in_the_workers_language(plain: Settings) -> None:
    dutch = Catalogs()("nl")
    checked = check(
        plain, t=dutch, title={"nl": ""}, day="2020-01-01", capacity="0", place="p" * 300
    )
    assert set(checked.problems) == {"title", "date", "capacity", "place"}
    assert checked.problems["title"] == dutch.gettext("Write a title.")
    assert checked.problems["title"] != "Write a title."  # translated, not English


def test_a_town_wide_worker_may_leave_the_neighbourhoods_empty_and_kept_ones_stay(
    plain: Settings,
) -> None:
    town = check(plain, allowed=None, neighbourhoods=[])
    assert town.fields is not None and town.fields.neighbourhoods == []
    kept = check(plain, kept_neighbourhoods=["de-riet"])
    assert kept.fields is not None and kept.fields.neighbourhoods == ["centrum", "de-riet"]
    only_kept = check(plain, neighbourhoods=[], kept_neighbourhoods=["de-riet"])
    assert "neighbourhoods" in only_kept.problems


def test_the_audience_is_what_residents_choose_in_the_onboarding(library: FlowLibrary) -> None:
    assert profile_options(library, "age_group") == ["12-17", "18-27", "28-64", "65+"]
    assert "green" in profile_options(library, "interests")
    assert "other" not in profile_options(library, "interests")


def test_missing_translations(plain: Settings) -> None:
    assert missing_translations({"_": "BBQ", "tr": "Mangal", "en": " "}, plain) == [
        "en",
        "ar",
        "pl",
        "uk",
    ]
    assert missing_translations("BBQ", plain) == ["en", "tr", "ar", "pl", "uk"]


# ---- the audit log, wherever an activity is made, changed or cancelled -------------------


async def entries(app: App) -> list[tuple[str, str, str]]:
    """The activity entries, oldest first (making a worker is an entry of its own)."""
    async with app.database.transaction() as session:
        found = [(e.action, e.via, e.subject) for e in await audit.entries(session)][::-1]
    return [entry for entry in found if entry[0].startswith("activity.")]


@pytest.mark.postgres
async def test_the_chat_and_the_command_line_write_the_audit_log(app: App) -> None:
    worker = await make_worker(app)
    await new_activity(worker)
    async with app.database.transaction() as session:
        [made] = (await session.execute(select(Activity))).scalars().all()
    me = await participant(app, worker)
    result = await cli(
        app,
        "activities",
        "add",
        "--title",
        "Buurtfeest",
        "--starts",
        "2099-06-12T14:00",
        "--place",
        "Plein",
    )
    assert result.exit_code == 0, result.output
    second = int(result.output.strip().splitlines()[-1])
    result = await cli(app, "activities", "cancel", str(second))
    assert result.exit_code == 0, result.output
    assert await entries(app) == [
        ("activity.created", "chat", f"activity {made.id}"),
        ("activity.created", "cli", f"activity {second}"),
        ("activity.cancelled", "cli", f"activity {second}"),
    ]
    async with app.database.transaction() as session:
        newest_first = [e for e in await audit.entries(session) if e.action.startswith("activity.")]
    assert newest_first[-1].actor_id == me.id  # the chat: the worker
    assert newest_first[0].actor_pseudonym == audit.OPERATOR  # the command line


@pytest.mark.postgres
async def test_an_empty_title_from_the_command_line_is_the_same_check(app: App) -> None:
    result = await cli(
        app, "activities", "add", "--title", " ", "--starts", "2099-06-12T14:00", "--place", "P"
    )
    assert result.exit_code == 2 and "--title: Write a title." in result.output
    result = await cli(
        app,
        "activities",
        "add",
        "--title",
        "T",
        "--starts",
        "2099-06-12T14:00",
        "--place",
        "p" * 300,
    )
    assert result.exit_code == 2 and "--place: This is too long" in result.output
    assert await entries(app) == []


@pytest.mark.postgres
async def test_a_change_and_a_cancellation_are_logged_once_by_the_community_function(
    app: App,
) -> None:
    zone = ZoneInfo(app.settings.timezone)
    async with app.database.transaction() as session:
        made = await activities.create_activity(
            session, title="Feest", starts_at=datetime.now(zone) + timedelta(days=3)
        )
        actor = audit.Actor.operator(audit.DASHBOARD)
        await update_activity(session, app.parts, made, actor=actor, place="Elders")
        done = await changes.cancel_activity(session, app.parts, made, actor=actor)
        again = await changes.cancel_activity(session, app.parts, made, actor=actor)
        assert (done.told, again.told) == (0, 0)
        with pytest.raises(ValueError):
            await update_activity(session, app.parts, made, actor=actor, place="Nog eens")
    assert await entries(app) == [
        ("activity.changed", "dashboard", f"activity {made.id}"),
        ("activity.cancelled", "dashboard", f"activity {made.id}"),
    ]
