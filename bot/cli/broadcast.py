"""`buurtbot broadcast`: queue an activity's invitation, or a flow (a poll), for a group."""

from __future__ import annotations

import asyncio

import typer

from bot.app import build
from bot.cli import preflight
from bot.community import audit, broadcasts, invitations, polls


def broadcast_command(
    activity: int = typer.Option(None, "--activity", help="The activity's id."),
    flow: str = typer.Option(None, "--flow", help="A resident flow to send as a poll."),
    neighbourhood: list[str] = typer.Option(None, "--neighbourhood", "-n", help="Repeatable."),
    age_group: list[str] = typer.Option(None, "--age-group", help="e.g. 12-17; repeatable."),
    interest: list[str] = typer.Option(None, "--interest", help="e.g. sport; repeatable."),
    language: list[str] = typer.Option(None, "--language", help="e.g. tr; repeatable."),
    past: bool = typer.Option(False, "--past-participants", help="Only people who came before."),
    at: str = typer.Option(None, "--at", help="Send at this ISO time (local) instead of now."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count only; queue nothing."),
) -> None:
    """Queue an invitation (--activity) or a flow (--flow) for matching, consenting,
    not opted-out participants.

    Each person is invited once per activity. Prints the count and the batch id (for
    `buurtbot outbox status --batch ID`); the count alone on the last line. The running
    `buurtbot run` sends them (after quiet hours).
    """
    if (activity is None) == (flow is None):
        preflight.refuse("give either --activity ID or --flow F")
    preflight.record(activity, "--activity")
    settings = preflight.settings()
    deployment = preflight.deployment(settings)
    library = preflight.library_with_polls(settings)
    if flow is not None:
        preflight.flow(library, flow)
        refusal = polls.flow_refusal(library, flow)
        if refusal is not None:
            preflight.refuse(f"--flow: {flow} cannot be sent: {refusal}")
    audience = invitations.Audience.of(
        preflight.neighbourhoods(deployment, neighbourhood or []),
        preflight.age_groups(library, age_group or []),
        preflight.interests(library, interest or []),
        preflight.languages(settings, language or []),
        past,
    )
    due = preflight.future_moment(settings, at, "--at")
    app = build(settings)
    for written in library.stored.values():  # the polls read above, for the checks below
        app.library.add(written)

    async def main() -> tuple[str | None, int, dict[str, int], str]:
        request = broadcasts.Request(activity_id=activity, flow_id=flow, audience=audience, at=due)
        try:
            async with app.database.transaction() as session:
                if dry_run:
                    found = await broadcasts.plan(session, app.parts, request, allowed=None)
                    sent = None
                else:
                    found, sent = await broadcasts.send(
                        session, app.parts, request, audit.Actor.operator(), allowed=None
                    )
                per_language = dict(found.per_language)
                what = found.refusal(broadcasts.WHAT) or found.refusal(broadcasts.AT)
                if what is not None:
                    return what.reason, 0, {}, ""
                if sent is None:
                    return None, found.reach, per_language, ""
                return None, sent.queued, per_language, sent.batch_id
        finally:
            await app.close()

    refusal, count, per_language, batch = asyncio.run(main())
    if refusal is not None:
        what = f"activity {activity}" if activity is not None else f"flow {flow}"
        typer.echo(f"{what} cannot be broadcast: {refusal}", err=True)
        raise typer.Exit(1)
    languages = ", ".join(f"{code} {n}" for code, n in sorted(per_language.items()))
    what = "invitations" if activity is not None else f"polls ({flow})"
    verb = "would be queued" if dry_run else "queued"
    typer.echo(f"{count} {what} {verb}" + (f" ({languages})" if languages else ""))
    if batch and count:
        typer.echo(f"batch {batch}: see `buurtbot outbox status --batch {batch}`")
    typer.echo(str(count))
