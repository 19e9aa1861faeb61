"""Neighbourhood news: the words a worker sets for the check-in's `{neighbourhood_update}`.

Two weeks after "what matters", the check-in tells people what happened with their
answers. `/news` in the chat and the dashboard's News page let a worker write that for a
neighbourhood (with translations), through one check (`problems`) and one save (`write`,
which records it in the audit log);
`update_for` gives it, in the `{"_": ..., "tr": ...}` form flows localise, to whoever
starts the check-in (`variables={"neighbourhood_update": ...}`). Without news, the
check-in uses its general text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.community import audit, roles
from bot.community.activities import neighbourhood_options, places_text
from bot.community.common import log, worker_text
from bot.conversation.extensions import Actions, Extensions
from bot.conversation.parts import Parts
from bot.deployment import Deployment
from bot.flows import engine
from bot.flows.engine import PREFILL
from bot.flows.events import Ask, Say
from bot.flows.state import State
from bot.i18n import bidi
from bot.i18n.translator import Translator
from bot.storage.models import Conversation, Participant, utcnow
from bot.storage.models.community import NeighbourhoodNews

NEWS_FLOW = "news"
# Characters a text (or a translation) may have: the chat's /news asks for no more, and
# the check-in shows it in one message.
LONGEST = 600


async def update_for(session: AsyncSession, neighbourhood: str | None) -> dict[str, Any] | None:
    """The news of a neighbourhood as a worker text with translations, or None."""
    if not neighbourhood:
        return None
    found = await session.get(NeighbourhoodNews, neighbourhood)
    return dict(found.text) if found is not None else None


def problems(
    t: Translator,
    deployment: Deployment,
    languages: Iterable[str],
    allowed: frozenset[str] | None,
    neighbourhood: str,
    original: str,
    translations: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """What is wrong with news, by field: `neighbourhood`, `text` (the original, in the
    default language on the dashboard) and `text-<code>` (a translation); empty: fine.

    The one rule for the chat's `/news` and the dashboard: a neighbourhood of the deployment
    where the worker works (`allowed`, None: all), a text that is there and not longer than
    the check-in can show, translations only into offered languages.
    """
    found: dict[str, str] = {}
    if deployment.neighbourhood(neighbourhood) is None or not roles.covers(
        allowed, [neighbourhood]
    ):
        found["neighbourhood"] = t.gettext("Sorry, you cannot write news for this neighbourhood.")
    too_long = t.gettext("This is too long: at most {n} characters.").format(n=LONGEST)
    if not original.strip():
        found["text"] = t.gettext("Write what happened with the answers. This text is needed.")
    elif len(original.strip()) > LONGEST:
        found["text"] = too_long
    offered = set(languages)
    for code, text in (translations or {}).items():
        if code not in offered:
            found.setdefault(
                "text", t.gettext("This language is not offered: {code}").format(code=code)
            )
        elif len(text.strip()) > LONGEST:
            found[f"text-{code}"] = too_long
    return found


async def write(
    session: AsyncSession,
    actor: audit.Actor,
    neighbourhood: str,
    original: str,
    translations: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Save a neighbourhood's news (checked first with `problems`) and record it."""
    text = worker_text(original, translations)
    await set_news(session, neighbourhood, text, actor.participant_id)
    await audit.record(session, actor, audit.NEWS_WRITTEN, neighbourhood)
    return text


@dataclass(frozen=True)
class Written:
    """A neighbourhood's news as it stands: its text by language and when it was written."""

    neighbourhood: str
    text: dict[str, str]
    updated_at: datetime


async def all_news(session: AsyncSession, neighbourhoods: Iterable[str]) -> dict[str, Written]:
    """The news of these neighbourhoods that have any, by neighbourhood."""
    keys = list(neighbourhoods)
    rows = await session.scalars(
        select(NeighbourhoodNews).where(NeighbourhoodNews.neighbourhood.in_(keys))
    )
    return {r.neighbourhood: Written(r.neighbourhood, dict(r.text), r.updated_at) for r in rows}


CHECKIN_FLOW = "checkin"


def preview(
    parts: Parts, language: str, text: Mapping[str, str] | None
) -> list[tuple[str, list[str]]]:
    """The start of the check-in as a resident with `language` reads it with this news
    (None: the general text): each message with its buttons, made by the flow engine."""
    flow = parts.library.get(CHECKIN_FLOW)
    if flow is None:
        return []
    person = Participant(language=language)
    context = parts.context(person)
    variables: dict[str, Any] = {"neighbourhood_update": dict(text)} if text else {}
    turn, _ = engine.start(flow, context, variables)
    shown: list[tuple[str, list[str]]] = []
    for message in turn.messages:
        if isinstance(message, Ask):
            shown.append((message.text, [o.label for o in message.options]))
        elif isinstance(message, Say):
            shown.append((message.text, []))
    return shown


async def set_news(
    session: AsyncSession, neighbourhood: str, text: dict[str, str], by: int | None
) -> None:
    found = await session.get(NeighbourhoodNews, neighbourhood)
    if found is None:
        session.add(
            NeighbourhoodNews(
                neighbourhood=neighbourhood, text=text, updated_by=by, updated_at=utcnow()
            )
        )
    else:
        found.text = text
        found.updated_by = by
        found.updated_at = utcnow()
    await session.flush()


async def start_news(actions: Actions, argument: str) -> None:
    allowed = await roles.require_worker(actions, "/news")
    places = neighbourhood_options(actions.parts.deployment, allowed)
    variables: dict[str, Any] = {"neighbourhoods": places}
    if len(places) == 1:
        variables[PREFILL] = {"where": places[0]["value"]}
    await actions.start_flow(NEWS_FLOW, variables)


async def news_finished(actions: Actions, conversation: Conversation, state: State) -> None:
    t = actions.t
    parts = actions.parts
    where = str(state.values.get("where") or "")
    try:
        allowed = await roles.require_worker(actions, "news")
    except roles.Refused:
        actions.say(t.gettext("Sorry, you cannot write news for this neighbourhood."))
        return
    original = str(state.values.get("text") or "")
    raw = state.values.get("translations")
    translations = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}
    wrong = problems(
        t, parts.deployment, parts.settings.language_list, allowed, where, original, translations
    )
    if wrong:
        log.warning("news refused for participant %s: %s", actions.participant.id, list(wrong))
        actions.say(next(iter(wrong.values())))
        return
    actor = audit.Actor.worker(parts.settings, actions.participant, audit.CHAT)
    await write(actions.session, actor, where, original, translations)
    log.info("news for %s set by participant %s", where, actions.participant.id)
    actions.say(
        bidi.fill(
            t.gettext("Saved. Residents of {place} read this in their next check-in."),
            actions.participant.language,
            place=places_text(actions.parts.deployment, [where]),
        )
    )


async def news_variables(session: AsyncSession, participant: Participant) -> dict[str, Any]:
    """The worker's news for the person's neighbourhood as `{neighbourhood_update}`."""
    news = await update_for(session, participant.neighbourhood)
    return {"neighbourhood_update": news} if news else {}


def register(extensions: Extensions) -> None:
    extensions.variables(news_variables)
    extensions.command(
        "news",
        role="worker",
        help=lambda t: t.gettext("/news – what residents of a neighbourhood hear in the check-in"),
        listed="worker",
        order=150,
    )(start_news)
    extensions.on_finish(NEWS_FLOW)(news_finished)
