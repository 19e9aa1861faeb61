"""Neighbourhood news: the words a worker sets for the check-in's `{neighbourhood_update}`.

Two weeks after "what matters", the check-in tells people what happened with their
answers. `/news` lets a worker write that for a neighbourhood (with translations);
`update_for` gives it, in the `{"_": ..., "tr": ...}` form flows localise, to whoever
starts the check-in (`variables={"neighbourhood_update": ...}`). Without news, the
check-in uses its general text.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.community import roles
from bot.community.activities import neighbourhood_options, places_text
from bot.community.common import log, worker_text
from bot.conversation.extensions import Actions, Extensions
from bot.flows.engine import PREFILL
from bot.flows.state import State
from bot.i18n import bidi
from bot.storage.models import Conversation, Participant, utcnow
from bot.storage.models.community import NeighbourhoodNews

NEWS_FLOW = "news"


async def update_for(session: AsyncSession, neighbourhood: str | None) -> dict[str, Any] | None:
    """The news of a neighbourhood as a worker text with translations, or None."""
    if not neighbourhood:
        return None
    found = await session.get(NeighbourhoodNews, neighbourhood)
    return dict(found.text) if found is not None else None


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
    where = str(state.values.get("where") or "")
    try:
        await roles.require_worker(actions, "news", [where])
    except roles.Refused:
        actions.say(t.gettext("Sorry, you cannot write news for this neighbourhood."))
        return
    text = worker_text(str(state.values.get("text") or ""), state.values.get("translations"))
    await set_news(actions.session, where, text, actions.participant.id)
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
