"""Polls: a resident flow sent to a chosen group, like an invitation to an activity.

`buurtbot broadcast --flow F` (and later the dashboard) queue one outbox row a person,
of kind `broadcast`, that starts flow F when it is sent, in the person's language at
that moment. The audience is chosen as for invitations (`invitations.select_audience`:
consented, not stopped, reachable, not a worker). Broadcasts count towards the weekly
limit and wait for the end of quiet hours.

Which flows may be sent (`flow_refusal`, the one rule): resident flows that stand on
their own. Not worker flows; not the flows the bot itself runs (onboarding, language,
forget, resume); not flows that need what only the bot fills in when it starts them
(an invitation's `{title}`, a check-in's `{activity_title}`).

A worker may also write a poll (a question and its options, with their translations) in
the dashboard: `poll_problems` is the one rule of what a poll must be, `create_poll`
checks it and stores it (nothing when anything is wrong) and records it in the audit
log. A stored poll is the flow `poll-<id>` (`bot.flows.polls`), found by every process
through `bot.storage.polls`, and sent like any other flow.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.community import audit
from bot.community.common import log, quiet_hours
from bot.deployment import Deployment
from bot.flows import polls as poll_flows
from bot.flows.library import REQUIRED, FlowLibrary
from bot.flows.model import Flow
from bot.i18n.placeholders import placeholders
from bot.i18n.translator import Translator
from bot.i18n.typed import fold
from bot.reports.protection import MIN_GROUP
from bot.settings import Settings
from bot.storage import polls as stored_flows
from bot.storage.models import Answer, Participant, utcnow
from bot.storage.models.polls import Poll

# What every flow can use without being given it (`FlowContext.values`, the service).
ALWAYS_THERE = frozenset(
    {
        "organisation",
        "town",
        "website",
        "privacy_url",
        "contact",
        "retention_days",
        "retention_period",
        "neighbourhood_update",
    }
)

NO_SUCH_FLOW, WORKER_FLOW, BOT_FLOW, NEEDS = (
    "no such flow",
    "it is a flow for community workers",
    "the bot runs it itself",
    "it needs {names}, which only the bot fills in",
)


def flow_refusal(library: FlowLibrary, flow_id: str) -> str | None:
    """Why flow `flow_id` may not be sent as a poll, or None when it may."""
    flow = library.get(flow_id)
    if flow is None:
        return NO_SUCH_FLOW
    if flow.role != "resident":
        return WORKER_FLOW
    if flow.id in REQUIRED:
        return BOT_FLOW
    if flow.written:
        return None  # a worker's own texts: nothing is filled into them
    known = ALWAYS_THERE | {step.answer_as for step in flow.steps}
    missing = [name for step in flow.steps for name in placeholders(step.text) if name not in known]
    if missing:
        return NEEDS.format(names=", ".join("{" + name + "}" for name in dict.fromkeys(missing)))
    return None


async def queue_poll(
    session: AsyncSession,
    settings: Settings,
    library: FlowLibrary,
    flow_id: str,
    people: Sequence[Participant],
    *,
    due_at: datetime | None = None,
) -> tuple[int, str]:
    """Queue flow `flow_id` for `people`; (how many were queued, the batch id)."""
    await stored_flows.find(session, library, flow_id)  # a poll written in any process
    refusal = flow_refusal(library, flow_id)
    if refusal is not None:
        raise ValueError(f"flow {flow_id!r} cannot be sent: {refusal}")
    batch_id = uuid.uuid4().hex
    items = [
        outbox.Item(
            participant_id=person.id,
            kind="broadcast",
            content=outbox.flow(flow_id),
            due_at=due_at or utcnow(),
            batch_id=batch_id,
            dedupe_key=f"poll:{batch_id}:{person.id}",
        )
        for person in people
    ]
    queued = await outbox.enqueue_many(session, items, quiet=quiet_hours(settings))
    log.info("flow %s: %d queued as a poll (batch %s)", flow_id, queued, batch_id)
    return queued, batch_id


# ---- polls a worker writes -------------------------------------------------------------

MIN_OPTIONS = 2
# More buttons than this do not fit a phone's screen, nor a person's attention.
MAX_OPTIONS = 10
QUESTION_LENGTH = 1000
# An option is a button: a few words.
OPTION_LENGTH = 100


@dataclass
class PollDraft:
    """A poll as a worker wrote it: each text by language code (the deployment's default
    language is the original; the others are its translations, any may be empty), and
    the neighbourhoods it is for. Option rows are as written, empty ones included, so
    that a problem names the row the worker sees."""

    question: dict[str, str] = field(default_factory=dict)
    options: list[dict[str, str]] = field(default_factory=list)
    neighbourhoods: list[str] = field(default_factory=list)


def _clean(text: str | None, keep_lines: bool = False) -> str:
    text = (text or "").strip()
    if keep_lines:
        return "\n".join(" ".join(line.split()) for line in text.splitlines()).strip()
    return " ".join(text.split())


def _written(
    settings: Settings, texts: Mapping[str, str], keep_lines: bool = False
) -> dict[str, str]:
    """`{"_": original, "tr": ...}` from texts by language (the default one the original)."""
    default = settings.default_language
    found = {"_": _clean(texts.get(default), keep_lines)}
    for code in settings.language_list:
        text = _clean(texts.get(code), keep_lines)
        if code != default and text:
            found[code] = text
    return found


def _filled(row: Mapping[str, str]) -> bool:
    return any(_clean(text) for text in row.values())


def poll_problems(
    t: Translator,
    settings: Settings,
    deployment: Deployment,
    draft: PollDraft,
    allowed: frozenset[str] | None,
) -> dict[str, str]:
    """What is wrong with a poll, by field: `question-<code>`, `option-<n>-<code>` (n from
    1, as the rows are written), `options`, `neighbourhoods`; empty when it may be saved.

    `allowed` are the neighbourhoods the worker works in (None: the whole town).
    """
    problems: dict[str, str] = {}
    default = settings.default_language
    codes = [default, *(c for c in settings.language_list if c != default)]

    def too_long(limit: int) -> str:
        return t.gettext("This is too long: at most {n} characters.").format(n=limit)

    if not _clean(draft.question.get(default), keep_lines=True):
        problems[f"question-{default}"] = t.gettext("Write the question.")
    for code in codes:
        if len(_clean(draft.question.get(code), keep_lines=True)) > QUESTION_LENGTH:
            problems.setdefault(f"question-{code}", too_long(QUESTION_LENGTH))

    seen: dict[str, set[str]] = {code: set() for code in codes}
    written = 0
    for number, row in enumerate(draft.options, start=1):
        if not _filled(row):
            continue
        if not _clean(row.get(default)):
            problems[f"option-{number}-{default}"] = t.gettext(
                "Write this answer here too, or empty the whole row."
            )
        else:
            written += 1
        for code in codes:
            text = _clean(row.get(code))
            name = f"option-{number}-{code}"
            if len(text) > OPTION_LENGTH:
                problems.setdefault(name, too_long(OPTION_LENGTH))
            elif text and fold(text) in seen[code]:
                problems.setdefault(name, t.gettext("This answer is there twice."))
            if text:
                seen[code].add(fold(text))
    if written > MAX_OPTIONS:
        problems["options"] = t.gettext("A poll can have at most {n} answers.").format(
            n=MAX_OPTIONS
        )
    elif written < MIN_OPTIONS and not any(key.startswith("option-") for key in problems):
        problems["options"] = t.gettext("A poll needs at least {n} answers.").format(n=MIN_OPTIONS)

    if not draft.neighbourhoods:
        problems["neighbourhoods"] = t.gettext("Choose at least one neighbourhood.")
    elif any(
        deployment.neighbourhood(key) is None or (allowed is not None and key not in allowed)
        for key in draft.neighbourhoods
    ):
        problems["neighbourhoods"] = t.gettext("You cannot choose this neighbourhood.")
    return problems


# What a resident reads after answering; written down with the poll, in every language.
def thanks_text(t: Translator) -> str:
    return t.gettext("Thank you for your answer!")


async def create_poll(
    session: AsyncSession,
    settings: Settings,
    deployment: Deployment,
    translators: Callable[[str], Translator],
    actor: audit.Actor,
    draft: PollDraft,
    allowed: frozenset[str] | None,
    t: Translator,
) -> tuple[Poll | None, dict[str, str]]:
    """Store a poll, or nothing and what is wrong (`poll_problems`); audited once."""
    problems = poll_problems(t, settings, deployment, draft, allowed)
    if problems:
        return None, problems
    options = [_written(settings, row) for row in draft.options if _filled(row)]
    thanks = {"_": thanks_text(translators(settings.default_language))}
    for code in settings.language_list:
        if code != settings.default_language:
            thanks[code] = thanks_text(translators(code))
    poll = Poll(
        question=_written(settings, draft.question, keep_lines=True),
        options=options,
        thanks=thanks,
        language=settings.default_language,
        neighbourhoods=sorted(dict.fromkeys(draft.neighbourhoods)),
        created_by=actor.participant_id,
    )
    session.add(poll)
    await session.flush()
    await audit.record(session, actor, audit.POLL_CREATED, audit.flow(poll_flows.flow_id(poll.id)))
    log.info("poll %s written (%d options)", poll_flows.flow_id(poll.id), len(options))
    return poll, {}


@dataclass(frozen=True)
class PollSummary:
    """A poll as the list shows it: how many answered in the reader's neighbourhoods,
    None when they are fewer than 5 (never a small number, as in the reports)."""

    poll: Poll
    flow_id: str
    answered: int | None


async def list_polls(
    session: AsyncSession, library: FlowLibrary, neighbourhoods: frozenset[str] | None
) -> list[PollSummary]:
    """The polls for these neighbourhoods (None: all), newest first, with their answers
    so far; their flows are kept in `library` on the way (for the results page)."""
    await stored_flows.load_all(session, library)
    polls = (await session.scalars(select(Poll).order_by(Poll.id.desc()))).all()
    if neighbourhoods is not None:
        polls = [p for p in polls if set(p.neighbourhoods) & neighbourhoods]
    ids = [poll_flows.flow_id(p.id) for p in polls]
    counted: dict[str, int] = {}
    if ids:
        stmt = (
            select(Answer.flow_id, func.count(func.distinct(Answer.participant_id)))
            .where(Answer.flow_id.in_(ids), Answer.step_key == poll_flows.QUESTION)
            .group_by(Answer.flow_id)
        )
        if neighbourhoods is not None:
            stmt = stmt.where(Answer.neighbourhood.in_(sorted(neighbourhoods)))
        counted = {flow_id: n for flow_id, n in (await session.execute(stmt)).all()}
    summaries = []
    for poll, flow_id in zip(polls, ids, strict=True):
        n = counted.get(flow_id, 0)
        summaries.append(PollSummary(poll, flow_id, n if n == 0 or n >= MIN_GROUP else None))
    return summaries


async def poll_flows_for(
    session: AsyncSession, library: FlowLibrary, neighbourhoods: frozenset[str] | None
) -> list[Flow]:
    """The flows of the polls a reader of these neighbourhoods (None: all) sees, newest
    first; every stored poll is kept in `library` on the way."""
    await stored_flows.load_all(session, library)
    stmt = select(Poll.id, Poll.neighbourhoods).order_by(Poll.id.desc())
    flows = []
    for number, places in (await session.execute(stmt)).all():
        if neighbourhoods is None or set(places or []) & neighbourhoods:
            found = library.get(poll_flows.flow_id(number))
            if found is not None:
                flows.append(found)
    return flows


async def poll_flow_refusal(
    session: AsyncSession, library: FlowLibrary, flow_id: str
) -> str | None:
    """`flow_refusal`, for a flow that may be a poll written in another process."""
    await stored_flows.find(session, library, flow_id)
    return flow_refusal(library, flow_id)
