"""The flows of a deployment, loaded once and found by id or by command.

`flows` are the deployment's files. `stored` are flows made while the bot runs (a poll
a worker wrote in the dashboard), added by whoever read them from the database
(`bot.storage.polls`): found by id like the others, but not listed with them, since a
process holds only those it has needed so far.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.flows.check import check_folder
from bot.flows.loader import FlowError
from bot.flows.model import Flow

REQUIRED = ("onboarding", "language", "forget", "resume")


@dataclass
class FlowLibrary:
    flows: dict[str, Flow] = field(default_factory=dict)
    stored: dict[str, Flow] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path) -> FlowLibrary:
        """Load and check every flow; any problem stops the start with its file:line."""
        loaded, problems = check_folder(folder)
        if problems:
            raise FlowError(problems)
        library = cls({item.flow.id: item.flow for item in loaded})
        missing = [name for name in REQUIRED if name not in library.flows]
        if missing:
            raise ValueError(f"{folder}: the flows {', '.join(missing)} are needed and missing")
        return library

    def get(self, flow_id: str) -> Flow | None:
        return self.flows.get(flow_id) or self.stored.get(flow_id)

    def __getitem__(self, flow_id: str) -> Flow:
        found = self.get(flow_id)
        if found is None:
            raise KeyError(flow_id)
        return found

    def add(self, flow: Flow) -> None:
        """Keep a flow made while the bot runs (never one of the files' ids)."""
        if flow.id not in self.flows:
            self.stored[flow.id] = flow

    def every(self) -> list[Flow]:
        """The files' flows, then the stored ones this process has read so far."""
        return [*self.flows.values(), *self.stored.values()]

    def by_command(self, command: str) -> Flow | None:
        return next((f for f in self.flows.values() if f.command == command), None)
