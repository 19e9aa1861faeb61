"""Putting the parts together: settings -> database, flows, deployment, service."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot import collector
from bot.community import register as register_community
from bot.conversation.extensions import Extensions
from bot.conversation.parts import Parts
from bot.conversation.service import ConversationService
from bot.deployment import Deployment, load_deployment
from bot.flows.library import FlowLibrary
from bot.i18n.catalogs import Catalogs
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.errors import install_log_scrubber
from bot.storage.migrate import upgrade
from bot.storage.processes import Presence


@dataclass
class App:
    settings: Settings
    database: Database
    deployment: Deployment
    library: FlowLibrary
    service: ConversationService
    # This process among others on the same database; `buurtbot run` starts it.
    presence: Presence = field(init=False)

    def __post_init__(self) -> None:
        self.presence = Presence(self.database)

    @property
    def parts(self) -> Parts:
        """What the community functions are handed (settings, deployment, flows, ...)."""
        return self.service.parts

    @property
    def catalogs(self) -> Catalogs:
        """The translations of every part: the chats and the dashboard read the same."""
        return self.service.catalogs

    def settle(self) -> None:
        """Once started: read now what a first message or page in each offered language
        would otherwise read while someone waits (the catalogs), then let the garbage
        collector leave all that alone (`collector.settle`)."""
        self.catalogs.load(self.settings.language_list)
        collector.settle()

    async def close(self) -> None:
        await self.database.close()


def build(settings: Settings | None = None, migrate: bool = True) -> App:
    """Everything a channel needs; applies the migrations first unless told not to."""
    settings = settings or Settings()
    # First the deployment: a file the bot cannot run with stops it before anything else.
    deployment = load_deployment(settings.deployment_file)
    if migrate:
        upgrade(settings.database_url)
    database = Database(settings.database_url)
    library = FlowLibrary.load(settings.conversations_dir)
    catalogs = Catalogs(default=settings.default_language)
    extensions = Extensions()
    register_community(extensions)
    service = ConversationService(database, library, deployment, settings, catalogs, extensions)
    return App(settings, database, deployment, library, service)


def configure_logging(level: int = logging.INFO) -> None:
    install_log_scrubber()  # database errors are logged without the values they carried
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "apscheduler", "alembic.runtime.migration", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
