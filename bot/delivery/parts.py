"""What delivery is handed: the service, the settings, the database, the flows, and the
parts the service hands community work (`Parts`: translations among them).

A protocol, not `bot.app.App`: the runner (above delivery) puts the parts together and
hands them in; the dispatcher and the periodic jobs see only these.
"""

from __future__ import annotations

from typing import Protocol

from bot.conversation.parts import Parts
from bot.conversation.service import ConversationService
from bot.flows.library import FlowLibrary
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.processes import Presence


class DeliveryParts(Protocol):
    """The parts the dispatcher and the periodic jobs work with (`bot.app.App` has them)."""

    @property
    def service(self) -> ConversationService: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def database(self) -> Database: ...
    @property
    def presence(self) -> Presence: ...
    @property
    def library(self) -> FlowLibrary: ...
    @property
    def parts(self) -> Parts: ...
