"""`/results` and `/export` in chat: what people in a worker's neighbourhoods said.

The reports and exports themselves live in `bot/reports`; here the worker's scope is
checked on the server, and only their neighbourhoods are shown (the whole town for a
town-wide worker). Groups of fewer than five people stay hidden, as everywhere.
"""

from __future__ import annotations

from bot.community.roles import Refused, require_worker
from bot.conversation.extensions import Actions, Extensions
from bot.reports.export import export_document
from bot.reports.report import results_messages
from bot.storage import polls as stored_polls


async def _scope(actions: Actions, what: str) -> list[str] | bool | None:
    try:
        allowed = await require_worker(actions, what)
    except Refused:
        actions.say(actions.t.gettext("Sorry, only community workers can do that."))
        return False
    return sorted(allowed) if allowed is not None else None


async def _flow(actions: Actions, argument: str) -> str | None:
    # The polls workers wrote, so that their answers are named (and `/results poll-7`).
    await stored_polls.load_all(actions.session, actions.parts.library)
    name = argument.strip().split(" ")[0] if argument.strip() else ""
    return name if name and actions.parts.library.get(name) else None


async def results(actions: Actions, argument: str) -> None:
    """`/results [flow]`: counts and charts for the worker's neighbourhoods."""
    scope = await _scope(actions, "/results")
    if scope is False:
        return
    parts = actions.parts
    for message in await results_messages(
        parts.db,
        library=parts.library,
        deployment=parts.deployment,
        translator=actions.t,
        neighbourhoods=scope or None,
        flow=await _flow(actions, argument),
        compare="this-month",
        timezone=parts.settings.timezone,
    ):
        actions.send(message)


async def export(actions: Actions, argument: str) -> None:
    """`/export [flow] [csv]`: the answers of the worker's neighbourhoods as a file."""
    scope = await _scope(actions, "/export")
    if scope is False:
        return
    parts = actions.parts
    fmt = "csv" if "csv" in argument.lower().split() else "xlsx"
    actions.send(
        await export_document(
            parts.db,
            library=parts.library,
            deployment=parts.deployment,
            secret=parts.settings.secret,
            translator=actions.t,
            neighbourhoods=scope or None,
            flow=await _flow(actions, argument),
            fmt=fmt,
            timezone=parts.settings.timezone,
        )
    )


def register(extensions: Extensions) -> None:
    extensions.command(
        "results",
        role="worker",
        help=lambda t: t.gettext("/results – what residents in your neighbourhoods answered"),
        listed="worker",
        order=160,
    )(results)
    extensions.command(
        "export",
        role="worker",
        help=lambda t: t.gettext("/export – the answers as a spreadsheet"),
        listed="worker",
        order=170,
    )(export)
