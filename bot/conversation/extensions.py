"""How other parts of the bot (community work, privacy) add to conversations.

They register commands (`/newactivity`) and hooks that run when a flow ends (a proposal
goes to the workers); the service calls them inside the turn's transaction, with the
`Actions` they may take. The flows themselves stay data; the hooks do what data cannot.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation.commands import CommandHandler, CommandTable
from bot.conversation.parts import Parts
from bot.flows.events import Outgoing, Say
from bot.flows.state import State
from bot.i18n.translator import Translator
from bot.storage.models import Conversation, Participant

ROLES = ("resident", "worker", "admin")


def has_role(participant: Participant, role: str) -> bool:
    """Whether a participant has at least `role` (admin > worker > resident)."""
    return ROLES.index(
        participant.role if participant.role in ROLES else "resident"
    ) >= ROLES.index(role)


@dataclass
class Actions:
    """What a command handler or hook may do in the current turn, and the parts it may
    use (`parts`: settings, deployment, flows, translations, database, the command
    table), handed in rather than the service."""

    parts: Parts
    session: AsyncSession
    participant: Participant
    t: Translator
    messages: list[Outgoing]
    _start: Callable[[str, dict[str, Any] | None], Awaitable[None]]
    _repeat: Callable[[], Awaitable[None]] | None = None
    _active: Callable[[], Conversation | None] | None = None
    _begin: Callable[[str], Awaitable[None]] | None = None

    def say(self, text: str) -> None:
        self.messages.append(Say(text))

    def send(self, message: Outgoing) -> None:
        self.messages.append(message)

    async def start_flow(self, flow_id: str, variables: dict[str, Any] | None = None) -> None:
        """Start a flow now; the person's current conversation resumes after it."""
        await self._start(flow_id, variables)

    async def repeat_question(self) -> None:
        """Ask the person's current question again (after an answer to a command)."""
        if self._repeat is not None:
            await self._repeat()

    async def begin(self, argument: str = "") -> None:
        """What /start does: begin, come back after /stop, or resume a conversation."""
        if self._begin is not None:
            await self._begin(argument)

    def active_conversation(self) -> Conversation | None:
        """The conversation the person is in, if any."""
        return self._active() if self._active is not None else None


FinishHook = Callable[[Actions, Conversation, State], Awaitable[None]]
VariableProvider = Callable[[AsyncSession, Participant], Awaitable[dict[str, Any]]]
EraseHook = Callable[[AsyncSession, Parts, int], Awaitable[None]]
# A job the scheduler runs every so often: `job(parts, now)` (feedback after activities).
PeriodicJob = Callable[[Parts, datetime], Awaitable[object]]


@dataclass
class Extensions:
    """The registry the service consults."""

    commands: CommandTable = field(default_factory=CommandTable)
    finish_hooks: dict[str, list[FinishHook]] = field(default_factory=lambda: defaultdict(list))
    variable_providers: list[VariableProvider] = field(default_factory=list)
    erase_hooks: list[EraseHook] = field(default_factory=list)
    periodic_jobs: dict[str, tuple[timedelta, PeriodicJob]] = field(default_factory=dict)

    def command(
        self, name: str, role: str = "resident", **texts: object
    ) -> Callable[[CommandHandler], CommandHandler]:
        """Register `/name` in the command table; only people with at least `role` may
        use it. `texts` (`help`, `listed`, `order`, ...) as in `commands.Command`."""
        return self.commands.command(name, role, **texts)

    def variables(self, provider: VariableProvider) -> VariableProvider:
        """Add `{placeholders}` to every flow a person starts (a neighbourhood's news)."""
        self.variable_providers.append(provider)
        return provider

    def before_erase(self, hook: EraseHook) -> EraseHook:
        """Run `hook(session, parts, participant_id)` before a person is erased, for
        what must happen to others (a freed place goes to the waiting list)."""
        self.erase_hooks.append(hook)
        return hook

    def every(self, name: str, interval: timedelta) -> Callable[[PeriodicJob], PeriodicJob]:
        """Have `buurtbot run`'s scheduler run `job(parts, now)` every `interval`."""

        def register(job: PeriodicJob) -> PeriodicJob:
            self.periodic_jobs[name] = (interval, job)
            return job

        return register

    def on_finish(self, flow_id: str) -> Callable[[FinishHook], FinishHook]:
        """Run a hook when a conversation of `flow_id` ends."""

        def register(hook: FinishHook) -> FinishHook:
            self.finish_hooks[flow_id].append(hook)
            return hook

        return register
