"""What the packages around the conversation are handed: `Parts`, not the service.

Community handlers, the erase hooks, reminders and the channels need the settings, the
deployment, the flow library, the translations, the database, the command table, and a
person's flow context to show a flow's text. The service builds one `Parts` from what it was given
and hands exactly that on (`Actions.parts`, the erase hooks, `App.parts`), so nothing
outside `bot.conversation` reaches through the service for its settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.conversation.commands import CommandTable
from bot.deployment import Deployment
from bot.flows.context import FlowContext
from bot.flows.library import FlowLibrary
from bot.i18n.catalogs import Catalogs
from bot.i18n.translator import Translator
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import Participant


@dataclass(frozen=True)
class Parts:
    """The parts a community handler, hook or channel works with."""

    settings: Settings
    deployment: Deployment
    library: FlowLibrary
    catalogs: Catalogs
    db: Database
    #: The command table: `/help`, the menus and the workers' list read it.
    commands: CommandTable
    #: A person's flow context (language, translations, the deployment's variables), to
    #: show a flow's text the way the service shows it.
    context: Callable[[Participant], FlowContext]

    def language_of(self, participant: Participant) -> str:
        """The person's language, else the deployment's default."""
        return participant.language or self.settings.default_language

    def translator(self, language: str | None = None) -> Translator:
        """The translator of `language` (None: the default language)."""
        return self.catalogs(language or self.settings.default_language)
