"""`buurtbot run` and `buurtbot chat`."""

from __future__ import annotations

import asyncio
import logging

import typer

from bot.app import build, configure_logging
from bot.channels.terminal import TerminalChannel
from bot.cli import preflight

log = logging.getLogger(__name__)


def run_command() -> None:
    """Apply migrations, start every configured channel and the scheduler.

    With no channel configured, the terminal chat starts.
    """
    configure_logging()
    settings = preflight.settings()
    preflight.deployment(settings)
    app = build(settings)
    channels = []
    if app.settings.telegram_token:
        channels.append("telegram")
    if app.settings.signal_url and app.settings.signal_number:
        channels.append("signal")
    if not channels:
        log.info("No channel configured (BUURTBOT_TELEGRAM_TOKEN, BUURTBOT_SIGNAL_URL): terminal")
        # The chat is on this screen: only warnings and errors may interrupt it, not the
        # scheduler's routine lines.
        logging.getLogger().setLevel(logging.WARNING)
        asyncio.run(_chat(app, "me", None, dashboard=True, deliver=True))
        return
    from bot.runner import serve

    asyncio.run(serve(app, channels))


def chat_command(
    user: str = typer.Option("me", "--user", help="Who you are in this chat."),
    language: str = typer.Option(None, "--language", help="Your language, e.g. tr."),
    flow: str = typer.Option(
        None, "--flow", help="Start this flow at once (after the welcome, for someone new)."
    ),
) -> None:
    """Chat with the bot in the terminal; choices are numbered options."""
    configure_logging(logging.WARNING)
    settings = preflight.settings()
    preflight.deployment(settings)
    if language is not None:
        preflight.languages(settings, [language])
    app = build(settings)
    if flow is not None and app.library.get(flow) is None:
        # A poll written in the dashboard: read from the database.
        stored = preflight.library_with_polls(settings).get(flow)
        if stored is not None:
            app.library.add(stored)
    if flow is not None and app.library.get(flow) is None:
        asyncio.run(app.close())
        typer.echo(f"--flow: no flow {flow!r}; `buurtbot flows list` shows them", err=True)
        raise typer.Exit(2)
    asyncio.run(_chat(app, user, language, flow))


async def _chat(
    app,
    user: str,
    language: str | None,
    flow: str | None = None,
    dashboard: bool = False,
    deliver: bool = False,
) -> None:
    """The terminal chat; with `deliver`, the scheduler too, sending the outbox here."""
    terminal = TerminalChannel(app, user=user, language=language, flow=flow)
    running = None
    scheduler = None
    try:
        if deliver:
            # `run` in the terminal is a running bot like any other: it registers, so
            # the dashboard's overview and `buurtbot health` show it and what it leads.
            await app.presence.start()
        if dashboard:
            running = await _dashboard_for_operator(app)
        if deliver:
            from bot.delivery.scheduler import start as start_scheduler

            scheduler = await start_scheduler(app, [terminal.sender])
            await app.presence.refresh()  # the jobs' lead, at once
            app.settle()  # as a bot on a chat platform does once started
        await terminal.run()
    finally:
        if scheduler is not None:
            await scheduler.stop()
        if running is not None:
            await running.stop()
        if deliver:
            await app.presence.stop()
        await app.close()


async def _dashboard_for_operator(app):
    """The dashboard beside the terminal chat, with a login link for whoever started it."""
    from bot.community.logins import create_link, login_url
    from bot.dashboard import start

    running = await start(app)
    if running is None or not running.serving:
        return running
    async with app.database.transaction() as session:
        token = await create_link(session, app.settings.secret, admin=True)
    assert token is not None
    typer.echo(f"Dashboard: {app.settings.public_url} (log in once, within 15 minutes, with:)")
    typer.echo(login_url(app.settings.public_url, token))
    return running
