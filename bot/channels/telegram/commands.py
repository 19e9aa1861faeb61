"""The command menu (the "/" button in Telegram) in every language the bot speaks.

`setMyCommands` once without a language (the deployment's default language, for apps in
any other language) and once per offered language with `language_code`, so a Turkish
phone shows Turkish descriptions. The menu holds the commands every person can use
anywhere and the residents' flows that have a command (`/matters`); workers' commands
stay out of the public menu.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telegram import Bot, BotCommand

from bot.channels.telegram.errors import GaveUp, Unreachable, with_retries
from bot.conversation.library import FlowLibrary
from bot.flows.context import Translator

if TYPE_CHECKING:
    from bot.conversation.service import ConversationService

log = logging.getLogger(__name__)

MAX_DESCRIPTION = 256


def menu(t: Translator, library: FlowLibrary) -> list[BotCommand]:
    """The commands with their descriptions in one language, in menu order."""
    commands = [("start", t.gettext("Start, or go on where you were"))]
    for flow in library.flows.values():
        if flow.command and flow.role == "resident":
            commands.append((flow.command, t.pgettext(f"{flow.id}:title", flow.title)))
    commands += [
        ("language", t.gettext("Choose another language")),
        ("help", t.gettext("What you can do")),
        ("privacy", t.gettext("What we keep and why")),
        ("mydata", t.gettext("See what we know about you")),
        ("forget", t.gettext("Delete everything we know about you")),
        ("stop", t.gettext("Get no more messages")),
    ]
    return [
        BotCommand(name, (description.strip() or name)[:MAX_DESCRIPTION])
        for name, description in commands
    ]


async def set_commands(bot: Bot, service: ConversationService) -> None:
    """Set the menu for the default and for each offered language; failures are logged."""
    settings = service.settings
    plan: list[tuple[str | None, str]] = [(None, settings.default_language)]
    plan += [(code, code) for code in settings.language_list]
    for language_code, language in plan:
        commands = menu(service.catalogs(language), service.library)
        try:
            await with_retries(
                lambda commands=commands, code=language_code: bot.set_my_commands(
                    commands, language_code=code
                ),
                what=f"setMyCommands ({language_code or 'default'})",
                who="the command menu",
            )
        except (GaveUp, Unreachable) as error:
            log.warning("the command menu was not set: %s", error)
            return
