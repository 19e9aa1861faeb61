"""Polls a worker writes: the one rule of what a poll must be, storing it (all or
nothing, audited), its flow in the resident's language, and finding it in a process that
did not write it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.app import App, build
from bot.community import audit, polls
from bot.flows import polls as poll_flows
from bot.flows.check import check_paths
from bot.flows.labels import Labels
from bot.flows.library import FlowLibrary
from bot.i18n import bidi
from bot.i18n.catalogs import Catalogs
from bot.privacy import mydata
from bot.reports.aggregate import Scope, aggregate
from bot.reports.export import Filter, export_bytes
from bot.storage import polls as stored
from bot.storage.models.community import AuditEntry
from bot.storage.models.polls import Poll
from tests.community.helpers import deliver, make_worker, onboard, participant
from tests.helpers import Person

pytestmark = pytest.mark.postgres

QUESTION = {
    "nl": "Wat wil je op het nieuwe speelveld?",
    "tr": "Yeni oyun alanında ne istersin?",
    "ar": "ماذا تريد في الملعب الجديد؟",
}
OPTIONS = [
    {"nl": "Schommels", "tr": "Salıncaklar", "ar": "أراجيح"},
    {"nl": "Een voetbalveld", "tr": "Futbol sahası", "ar": "ملعب كرة قدم"},
    {"nl": "Bankjes", "ar": "مقاعد"},
]


def draft(**changes: object) -> polls.PollDraft:
    values: dict[str, object] = {
        "question": dict(QUESTION),
        "options": [dict(o) for o in OPTIONS],
        "neighbourhoods": ["kerkelanden"],
    }
    values.update(changes)
    return polls.PollDraft(**values)  # type: ignore[arg-type]


def problems(app: App, made: polls.PollDraft, allowed: frozenset[str] | None = None):
    t = Catalogs(default="nl")("en")
    return polls.poll_problems(t, app.settings, app.deployment, made, allowed)


async def write(app: App, made: polls.PollDraft | None = None) -> tuple[Poll | None, dict]:
    async with app.database.transaction() as session:
        return await polls.create_poll(
            session,
            app.settings,
            app.deployment,
            app.parts.catalogs,
            audit.Actor.operator(audit.DASHBOARD),
            made or draft(),
            None,
            Catalogs(default="nl")("en"),
        )


async def test_a_good_poll_has_no_problems(app: App) -> None:
    assert problems(app, draft()) == {}


@pytest.mark.parametrize(
    ("made", "field", "words"),
    [
        (draft(question={"tr": "Ne?"}), "question-nl", "Write the question"),
        (draft(question={"nl": "   "}), "question-nl", "Write the question"),
        (draft(question={"nl": "x" * 10_000}), "question-nl", "too long"),
        (draft(options=[{"nl": "Ja"}]), "options", "at least 2"),
        (draft(options=[]), "options", "at least 2"),
        (draft(options=[{"nl": "Ja"}, {"nl": ""}, {"nl": ""}]), "options", "at least 2"),
        (draft(options=[{"nl": "Ja"}, {"nl": "Nee"}, {"tr": "Belki"}]), "option-3-nl", "Write"),
        (draft(options=[{"nl": "Ja"}, {"nl": "ja!"}]), "option-2-nl", "twice"),
        (
            draft(options=[{"nl": "Ja", "ar": "نعم"}, {"nl": "Nee", "ar": "نعم"}]),
            "option-2-ar",
            "twice",
        ),
        (draft(options=[{"nl": f"Keuze {n}"} for n in range(11)]), "options", "at most 10"),
        (draft(options=[{"nl": "y" * 10_000}, {"nl": "Nee"}]), "option-1-nl", "too long"),
        (draft(neighbourhoods=[]), "neighbourhoods", "at least one"),
        (draft(neighbourhoods=["atlantis"]), "neighbourhoods", "cannot choose"),
    ],
)
async def test_each_problem_is_named_beside_its_field(
    app: App, made: polls.PollDraft, field: str, words: str
) -> None:
    found = problems(app, made)
    assert field in found, found
    assert words in found[field]


async def test_a_worker_may_only_choose_their_own_neighbourhoods(app: App) -> None:
    found = problems(app, draft(neighbourhoods=["centrum"]), allowed=frozenset({"kerkelanden"}))
    assert "neighbourhoods" in found
    assert problems(app, draft(), allowed=frozenset({"kerkelanden"})) == {}


async def test_emoji_and_right_to_left_text_are_fine(app: App) -> None:
    made = draft(options=[{"nl": "🌳 Bomen", "ar": "أشجار 🌳"}, {"nl": "⚽"}])
    assert problems(app, made) == {}


async def test_a_bad_poll_saves_nothing_and_a_good_one_is_audited_once(app: App) -> None:
    poll, found = await write(app, draft(options=[{"nl": "Ja"}]))
    assert poll is None and "options" in found
    async with app.database.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Poll)) == 0
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    poll, found = await write(app)
    assert poll is not None and found == {}
    async with app.database.transaction() as session:
        row = await session.get(Poll, poll.id)
        assert row is not None
        assert row.question == {"_": QUESTION["nl"], "tr": QUESTION["tr"], "ar": QUESTION["ar"]}
        assert row.options[2] == {"_": "Bankjes", "ar": "مقاعد"}
        assert row.thanks["_"] and row.thanks["tr"] != row.thanks["_"]
        [entry] = (await session.scalars(select(AuditEntry))).all()
    assert (entry.action, entry.subject) == (audit.POLL_CREATED, f"flow poll-{poll.id}")


def test_the_flow_of_a_poll_is_a_choice_and_a_thanks() -> None:
    flow = poll_flows.poll_flow(
        7,
        {"_": "Wat?", "tr": "Ne?"},
        [{"_": "Ja", "tr": "Evet"}, {"_": "Nee"}],
        {"_": "Dank je!", "tr": "Teşekkürler!"},
        "nl",
    )
    assert flow.id == "poll-7" and [s.kind for s in flow.steps] == ["choice", "message"]
    assert flow.step("answer").option_values() == ["o1", "o2"]
    assert poll_flows.poll_id("poll-7") == 7
    assert poll_flows.poll_id("poll-07") is None and poll_flows.poll_id("what-matters") is None
    assert polls.flow_refusal(FlowLibrary(stored={flow.id: flow}), flow.id) is None


async def test_a_resident_answers_in_turkish_and_arabic_and_the_report_reads_it(app: App) -> None:
    poll, _ = await write(app)
    assert poll is not None
    people = {}
    for code in ("tr", "ar", "pl"):
        people[code] = Person(app.service, user_id=f"r-{code}")
        await onboard(people[code], language=code)
    other = build(app.settings)  # another process: it has never seen this poll
    try:
        async with other.database.transaction() as session:
            everyone = [await participant(app, p) for p in people.values()]
            queued, _ = await polls.queue_poll(
                session, other.settings, other.library, f"poll-{poll.id}", everyone
            )
        assert queued == 3
    finally:
        await other.close()
    [tr] = await deliver(app, people["tr"])
    assert QUESTION["tr"] in tr.text
    assert [o.label for o in people["tr"].question().options] == [
        "Salıncaklar",
        "Futbol sahası",
        "Bankjes",  # no Turkish: the Dutch original
    ]
    thanks = await people["tr"].pick("o2")
    assert "Cevabın için teşekkürler!" in thanks
    [ar] = await deliver(app, people["ar"])
    assert QUESTION["ar"] in ar.text
    labels = [o.label for o in people["ar"].question().options]
    assert [bidi.strip_marks(label) for label in labels] == ["أراجيح", "ملعب كرة قدم", "مقاعد"]
    await people["ar"].say("ملعب كرة قدم")  # typed, not pressed
    [pl] = await deliver(app, people["pl"])
    assert QUESTION["nl"] in pl.text  # no Polish at all: the Dutch original
    await people["pl"].say("1")

    async with app.database.engine.connect() as connection:
        results = await connection.run_sync(
            lambda sync: aggregate(
                sync,
                library=app.library,
                deployment=app.deployment,
                translator=Catalogs(default="nl")("tr"),
                scope=Scope(flow=f"poll-{poll.id}"),
            )
        )
    [flow] = results.flows
    table = flow.question("answer")
    assert table is not None and "yeni oyun alanında" in table.title.casefold()
    labels_tr = [line.label for line in table.lines]
    assert "Futbol sahası" in labels_tr and "Salıncaklar" in labels_tr


async def test_another_process_finds_a_poll_written_after_it_started(app: App) -> None:
    other = build(app.settings)
    try:
        assert other.library.get("poll-1") is None
        poll, _ = await write(app)
        assert poll is not None
        async with other.database.transaction() as session:
            flow = await stored.find(session, other.library, f"poll-{poll.id}")
            assert flow is not None and other.library.get(flow.id) is flow
            assert await stored.find(session, other.library, "poll-999999") is None
            assert await stored.find(session, other.library, "poll-x") is None
        labels = Labels(other.library, other.deployment, Catalogs(default="nl")("ar"))
        assert bidi.strip_marks(labels.option(flow.id, "answer", "o3")) == "مقاعد"
        assert labels.flow_title(flow.id).endswith("الجديد؟")
    finally:
        await other.close()


async def test_mydata_in_another_process_names_a_polls_answer(app: App) -> None:
    poll, _ = await write(app)
    assert poll is not None
    person = Person(app.service, user_id="r-nl")
    await onboard(person, language="nl")
    async with app.database.transaction() as session:
        queued, _ = await polls.queue_poll(
            session, app.settings, app.library, f"poll-{poll.id}", [await participant(app, person)]
        )
    assert queued == 1
    await deliver(app, person)
    await person.pick("o3")
    other = build(app.settings)
    try:
        async with other.database.transaction() as session:
            row = await participant(app, person)
            said = await mydata.messages(
                session,
                row,
                other.deployment,
                Catalogs(default="nl")("nl"),
                library=other.library,
                secret=other.settings.secret,
            )
        text = said[0].text
        assert "Bankjes" in text and QUESTION["nl"] in text, text
    finally:
        await other.close()


async def test_a_poll_stays_when_the_worker_who_wrote_it_is_erased(app: App) -> None:
    worker = await make_worker(app)
    row = await participant(app, worker)
    async with app.database.transaction() as session:
        actor = await audit.actor_of(session, app.settings, row.id, audit.DASHBOARD)
        poll, _ = await polls.create_poll(
            session,
            app.settings,
            app.deployment,
            app.parts.catalogs,
            actor,
            draft(),
            frozenset({"kerkelanden"}),
            Catalogs(default="nl")("en"),
        )
    assert poll is not None and poll.created_by == row.id
    await worker.say("/forget")
    await worker.pick("yes")
    async with app.database.transaction() as session:
        kept = await session.get(Poll, poll.id)
        assert kept is not None and kept.created_by is None


async def test_an_export_keeps_a_polls_answers_and_names_them(app: App) -> None:
    poll, _ = await write(app)
    assert poll is not None
    person = Person(app.service, user_id="r-tr")
    await onboard(person, language="tr")
    async with app.database.transaction() as session:
        await polls.queue_poll(
            session, app.settings, app.library, f"poll-{poll.id}", [await participant(app, person)]
        )
    await deliver(app, person)
    await person.pick("o2")
    other = build(app.settings)  # the answers are exported by a process that wrote nothing
    try:
        async with other.database.transaction() as session:
            await stored.load_all(session, other.library)
        flt = Filter(flow=f"poll-{poll.id}")
        labels = Labels(other.library, other.deployment, Catalogs(default="nl")("tr"))
        async with other.database.engine.connect() as connection:
            plain, named = [
                await connection.run_sync(
                    lambda sync, by=by: export_bytes(
                        sync,
                        fmt="csv",
                        library=other.library,
                        secret=other.settings.secret,
                        flt=flt,
                        free_text=False,
                        labels=by,
                    )
                )
                for by in (None, labels)
            ]
        # Not taken for free text (and left out without it); by name with labels.
        assert plain.decode("utf-8-sig").splitlines()[1].endswith(",o2"), plain
        assert named.decode("utf-8-sig").splitlines()[1].endswith(",Futbol sahası"), named
    finally:
        await other.close()


def test_a_flow_file_cannot_take_a_polls_id(tmp_path) -> None:
    path = tmp_path / "poll-3.yaml"
    path.write_text(
        "id: poll-3\nversion: 1\ntitle: Poll\nsteps:\n"
        "  - {key: q, kind: choice, text: Sure?, options: [{value: y, label: Sure}]}\n",
        encoding="utf-8",
    )
    _, problems = check_paths([path])
    assert [p.message for p in problems] == [
        "flow id 'poll-3' is kept for the polls written in the dashboard (poll-<number>); "
        "choose another id"
    ]
