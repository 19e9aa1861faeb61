"""The terminal channel: the flows in a terminal, choices as numbered options.

It uses the same service, engine and storage as every other channel, so a newcomer sees
the real bot at once, with no token. Under `buurtbot run` the scheduler runs too and the
outbox prints what is due (`TerminalSender`); `buurtbot chat` only answers. It uses the
same channel base (`bot.channels.turns`): a turn that crashes is logged and apologised
for, and the chat goes on. One person types one line at a time, so there is no order
to keep and nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from rich.console import Console

from bot.channels.direction import shaped_all
from bot.channels.parts import ChannelParts
from bot.channels.turns import Turns
from bot.conversation.turns import Incoming, Reply
from bot.delivery.sender import Delivery, Status
from bot.flows.events import Ask, Document, Outgoing, Say, Text
from bot.flows.numbered import numbered
from bot.i18n.translator import Translator

CHANNEL = "terminal"


def render(message: Outgoing, t: Translator | None = None) -> str:
    """A message as terminal text: options numbered, one per line."""
    if isinstance(message, Say):
        return message.text.rstrip()
    if isinstance(message, Document):
        return f"📎 {message.caption} ({message.filename}, {len(message.data)} bytes)".strip()
    return numbered(message, t)


class TerminalSender:
    """The outbox's way to the terminal: a due message is printed between the lines.

    With `buurtbot run` in terminal mode the scheduler runs as it does for Telegram and
    Signal, so invitations, follow-ups and reminders for the terminal person show up when
    they are due (quiet hours and the weekly limit apply). Messages for another terminal
    user (`buurtbot chat --user NAME`) are printed too, under that name: one screen
    serves everyone who tries the bot on this machine.
    """

    channel = CHANNEL
    rate = 10.0
    per_chat_interval = 0.0

    def __init__(self, terminal: TerminalChannel):
        self.terminal = terminal

    async def deliver(self, user_id: str, reply: Reply) -> Delivery:
        if user_id != self.terminal.user:
            self.terminal.console.print(f"\n— {user_id} —", style="dim")
        else:
            self.terminal.console.print()
        await self.terminal.say(reply.messages, self.terminal.parts.catalogs(reply.language))
        self.terminal.console.print("> ", end="", style="bold")
        sys.stdout.flush()
        return Delivery(Status.SENT)


class TerminalChannel:
    """Reads lines from `stdin`, writes the bot's messages to `stdout`."""

    def __init__(
        self,
        app: ChannelParts,
        user: str = "me",
        language: str | None = None,
        stdin: TextIO | None = None,
        console: Console | None = None,
        flow: str | None = None,
    ):
        self.service = app.service
        self.parts = app.parts
        self.turns = Turns(app, CHANNEL, slots=1)
        self.user = user
        self.language = language
        self.stdin = stdin or sys.stdin
        self.console = console or Console(highlight=False, soft_wrap=True)
        #: A flow to start at once (`buurtbot chat --flow ID`), after consent if not given yet.
        self.flow = flow

    async def say(
        self, messages: list[Outgoing], t: Translator | None = None, language: str | None = None
    ) -> None:
        for message in shaped_all(messages, language):
            self.console.print(render(message, t), markup=False)
            if isinstance(message, Document):
                # A file (your data, a chart) is saved where the terminal user can open it.
                folder = self.parts.settings.data_dir / "files"
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / message.filename
                path.write_bytes(message.data)
                self.console.print(f"   → {path}", markup=False)
            self.console.print()

    async def send(self, text: str) -> None:
        reply = await self.turns.serve(
            Incoming(CHANNEL, self.user, Text(text), language_hint=self.language),
            self.user,
            self._apologise,
            hint=self.language,
        )
        if reply is None:
            return
        messages = reply.messages
        if self.flow:
            started = await self.start_flow()
            if started is not None:
                # The question this turn ended on waits; it is asked again after the flow.
                messages = [m for m in messages if not isinstance(m, Ask)] + started.messages
                reply = started
        await self.say(messages, self.parts.catalogs(reply.language), reply.language)

    async def start_flow(self) -> Reply | None:
        """Start the chosen flow if the person has consented (None if not yet)."""
        assert self.flow
        started = await self.service.start_chosen_flow(CHANNEL, self.user, self.flow)
        if started is not None:
            self.flow = None
        return started

    @property
    def sender(self) -> TerminalSender:
        """What the outbox sends through (`buurtbot run` in terminal mode)."""
        return TerminalSender(self)

    async def _apologise(self, text: str) -> None:
        language = self.turns.language(self.user)
        await self.say([Say(text)], self.parts.catalogs(language), language)

    async def run(self) -> None:
        """Chat until the input ends (Ctrl-D) or the person types /quit."""
        self.console.print("Buurtbot — type /quit to leave.", style="dim")
        started = await self.start_flow() if self.flow else None
        if started is None:
            await self.send("/start")
        else:
            await self.say(
                started.messages, self.parts.catalogs(started.language), started.language
            )
        loop = asyncio.get_running_loop()
        while True:
            self.console.print("> ", end="", style="bold")
            sys.stdout.flush()
            line = await loop.run_in_executor(None, self.stdin.readline)
            if not line:
                break
            text = line.rstrip("\n")
            if text.strip() in ("/quit", "/exit"):
                break
            await self.send(text)
