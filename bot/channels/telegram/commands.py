"""The command menu (the "/" button in Telegram) in every language the bot speaks.

`setMyCommands` once without a language (the deployment's default language, for apps in
any other language) and once per offered language with `language_code`, so a Turkish
phone shows Turkish descriptions. The menu holds the commands every person can use
anywhere (from the command table) and the residents' flows that have a command
(`/matters`); workers' commands stay out of the public menu.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telegram import Bot, BotCommand

from bot.channels.telegram.errors import GaveUp, Unreachable, with_retries
from bot.conversation.commands import FLOW_ORDER, CommandTable
from bot.flows.library import FlowLibrary
from bot.i18n.translator import Translator

if TYPE_CHECKING:
    from bot.conversation.parts import Parts

log = logging.getLogger(__name__)

MAX_DESCRIPTION = 256


def menu(t: Translator, library: FlowLibrary, table: CommandTable) -> list[BotCommand]:
    """The commands with their descriptions in one language, in menu order.

    The command table's public commands (`CommandTable.menu`), with the residents' flows
    that have a command at `FLOW_ORDER` among them.
    """
    entries: list[tuple[int, str, str]] = [
        (command.order, command.name, command.description(t))
        for command in table.menu()
        if command.description is not None
    ]
    for flow in library.flows.values():
        if flow.command and flow.role == "resident":
            entries.append((FLOW_ORDER, flow.command, t.pgettext(f"{flow.id}:title", flow.title)))
    entries.sort(key=lambda entry: entry[0])
    return [
        BotCommand(name, (description.strip() or name)[:MAX_DESCRIPTION])
        for _, name, description in entries
    ]


async def set_commands(bot: Bot, parts: Parts) -> None:
    """Set the menu for the default and for each offered language; failures are logged."""
    settings = parts.settings
    plan: list[tuple[str | None, str]] = [(None, settings.default_language)]
    plan += [(code, code) for code in settings.language_list]
    for language_code, language in plan:
        commands = menu(parts.catalogs(language), parts.library, parts.commands)
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
