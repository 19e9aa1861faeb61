"""What the dashboard is handed: settings, database, deployment and the flow library.

A protocol, not `bot.app.App`: the runner (above the dashboard) puts the parts together
and hands them in.
"""

from __future__ import annotations

from typing import Protocol

from bot.conversation.parts import Parts
from bot.deployment import Deployment
from bot.flows.library import FlowLibrary
from bot.i18n.catalogs import Catalogs
from bot.settings import Settings
from bot.storage.db import Database


class DashboardParts(Protocol):
    """The parts the dashboard works with (`bot.app.App` has them)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def database(self) -> Database: ...
    @property
    def deployment(self) -> Deployment: ...
    @property
    def library(self) -> FlowLibrary: ...
    @property
    def catalogs(self) -> Catalogs: ...
    @property
    def parts(self) -> Parts:
        """What the community functions the dashboard calls are handed."""
        ...
