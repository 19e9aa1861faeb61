"""A worker makes an activity and invites a neighbourhood; the right residents get it,
in their language, each once; nobody else does."""

from __future__ import annotations

import logging

import pytest
from babel.dates import format_date
from sqlalchemy import select

from bot.app import App
from bot.community import invitations
from bot.i18n.format import local
from bot.storage.models.community import Activity, Invitation
from tests.community.helpers import (
    activity_id,
    cli,
    deliver,
    invite,
    make_worker,
    new_activity,
    onboard,
    participant,
    queued,
)
from tests.helpers import Person

TRANSLATED = {"tr": "Mahalle barbeküsü", "pl": "Grill sąsiedzki"}


async def residents(app: App) -> dict[str, Person]:
    """Three languages in Kerkelanden; one elsewhere; one who stopped; one who blocked
    the bot; one who never consented."""
    people = {}
    for language in ("nl", "tr", "pl"):
        people[language] = Person(app.service, user_id=f"r-{language}")
        await onboard(people[language], language=language, interests=("green", "sport"))
    people["elsewhere"] = Person(app.service, user_id="r-centrum")
    await onboard(people["elsewhere"], neighbourhood="centrum")
    people["stopped"] = Person(app.service, user_id="r-stopped")
    await onboard(people["stopped"])
    await people["stopped"].say("/stop")
    people["blocked"] = Person(app.service, user_id="r-blocked")
    await onboard(people["blocked"])
    await app.service.mark_unreachable("test", "r-blocked")
    people["no-consent"] = Person(app.service, user_id="r-new")
    await people["no-consent"].say("/start")
    await people["no-consent"].pick("en")  # ... and never answers the consent question
    return people


async def test_worker_invites_a_neighbourhood_in_three_languages(app: App) -> None:
    worker = await make_worker(app)
    people = await residents(app)
    reply = await new_activity(worker, capacity=20, translations=TRANSLATED)
    assert 'Saved: "Buurtbarbecue"' in reply and "/invite" in reply
    activity = await activity_id(app)

    reply = await invite(worker)
    # Three people: the worker sees "fewer than 5" (`Plan.shown`), and still sends.
    assert "This invitation reaches fewer than 5 people" in reply
    for name in ("Nederlands", "Türkçe", "Polski"):
        assert f"Preview in {name}" in reply
    assert "Mahalle barbeküsü" in reply and "Grill sąsiedzki" in reply
    assert 'Done: 3 invitations to "Buurtbarbecue" are queued.' in reply

    invited = {p for name in ("nl", "tr", "pl") for p in [await participant(app, people[name])]}
    rows = await queued(app, kind="invitation")
    assert sorted(row.participant_id for row in rows) == sorted(p.id for p in invited)
    assert all(row.content["flow"] == "invitation" for row in rows)
    assert len({row.batch_id for row in rows}) == 1
    for name in ("elsewhere", "stopped", "blocked", "no-consent"):
        assert not await queued(app, people[name]), name

    async with app.database.transaction() as session:
        starts_at = (await session.get(Activity, activity)).starts_at
    local_day = local(starts_at, app.settings.timezone)
    for language, title in (("nl", "Buurtbarbecue"), *TRANSLATED.items()):
        person = people[language]
        [delivered] = await deliver(app, person)
        text = delivered.text
        assert title in text, text
        assert format_date(local_day, "MMMM", locale=language) in text  # month in their locale
        assert "Buurthuis De Schakel" in text
        assert [o.value for o in person.question().options] == ["going", "maybe", "no"]
    # The Turkish one has no translated description: the original is shown.
    assert "Samen eten op het plein." in Person.text(people["tr"].last)


async def test_a_second_round_and_several_criteria_invite_each_person_once(app: App) -> None:
    worker = await make_worker(app)
    people = await residents(app)
    await new_activity(worker)
    activity = await activity_id(app)
    # Interests green OR sport: the residents have both, and are invited once.
    result = await cli(
        app,
        "broadcast",
        "--activity",
        str(activity),
        "--neighbourhood",
        "kerkelanden",
        "--interest",
        "green",
        "--interest",
        "sport",
        "--language",
        "nl",
        "--language",
        "tr",
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "2"
    assert "(nl 1, tr 1)" in result.output
    assert len(await queued(app, people["nl"])) == 1
    assert not await queued(app, people["pl"])  # Polish was not chosen

    # A second round to the whole neighbourhood reaches only the one not yet invited.
    reply = await invite(worker)
    assert "This invitation reaches fewer than 5 people" in reply
    assert 'Done: 1 invitation to "Buurtbarbecue" is queued.' in reply
    assert len(await queued(app, kind="invitation")) == 3
    reply = await worker.say("/invite")
    await worker.toggle()
    await worker.toggle()
    await worker.toggle()
    reply = await worker.pick("everyone")
    assert "Nobody matches" in reply
    async with app.database.transaction() as session:
        rows = (await session.execute(select(Invitation))).scalars().all()
    assert len(rows) == len({r.participant_id for r in rows}) == 3


async def test_stop_stops_invitations_and_start_resumes_them(app: App) -> None:
    people = await residents(app)
    audience = invitations.Audience.of(neighbourhoods=["kerkelanden"])

    async def reached() -> set[str]:
        async with app.database.transaction() as session:
            found = await invitations.select_audience(session, audience)
        return {p.channel_user_id for p in found}

    assert await reached() == {"r-nl", "r-tr", "r-pl"}
    await people["nl"].say("/stop")
    assert await reached() == {"r-tr", "r-pl"}
    await people["nl"].say("/start")
    await people["stopped"].say("/start")
    assert await reached() == {"r-nl", "r-tr", "r-pl", "r-stopped"}


async def test_send_later_and_cancel(app: App) -> None:
    worker = await make_worker(app)
    await residents(app)
    await new_activity(worker)
    reply = await invite(worker, send="cancel")
    assert "Nothing was sent" in reply
    assert not await queued(app, kind="invitation")

    await invite(worker, send="later")
    await worker.say("tomorrow")
    reply = await worker.say("10:00")
    assert "3 invitations" in reply and "They go out on" in reply
    rows = await queued(app, kind="invitation")
    due = {local(row.due_at, app.settings.timezone).strftime("%H:%M") for row in rows}
    assert due == {"10:00"}


async def test_invite_confirm_is_asked_once_and_the_survey_is_not_pushed_back(app: App) -> None:
    worker = await make_worker(app)  # what-matters was active; it waits for the worker
    await residents(app)
    await new_activity(worker)
    await worker.say("/invite")
    await worker.toggle()
    await worker.toggle()
    await worker.toggle()
    reply = await worker.pick("everyone")
    assert reply.count("Do you want to send it?") == 1
    reply = await worker.pick("now")
    assert "invitations" in reply
    assert "What is good about your neighbourhood?" not in reply


async def test_a_resident_cannot_answer_for_an_activity_they_were_not_invited_to(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    await residents(app)
    result = await cli(
        app,
        "activities",
        "add",
        "--title",
        "Elders",
        "--starts",
        "2031-05-01T15:00",
        "--place",
        "Centrum",
        "--neighbourhood",
        "centrum",
    )
    activity = int(result.output.strip().splitlines()[-1])
    person = Person(app.service, user_id="r-en")
    await onboard(person)  # English, in Kerkelanden
    p = await participant(app, person)
    caplog.set_level(logging.WARNING)
    person.last = await app.service.start_flow_for(
        p.id, "invitation", {"activity_id": activity, "title": "X", "when": "", "place": ""}
    )
    reply = await person.pick("going")
    assert "no longer open" in reply
    assert any("rsvp refused" in r.getMessage() for r in caplog.records)
