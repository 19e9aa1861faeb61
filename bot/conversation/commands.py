"""The command table: every command a person can type, in one place.

A command has a name (`/stop`; Telegram needs Latin names), the plain words people may
type for it in each language (`stoppen`, `dur`, `توقف`, `стоп`), who may use it, the
lines that describe it, and its handler. The keyword matching, `/help`, Telegram's
command menu and the workers' `/worker` list all read this table; the service's own
commands (`bot.conversation.builtins`) and the community's register into it the same way.

Texts are functions of a translator, so each is looked up in the person's language and
the extractor still sees every `gettext` call. Translators list the words for a command,
comma-separated, in the catalog entry with the context `keywords for /NAME`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bot.i18n.translator import Translator
from bot.i18n.typed import fold, normalise, word_list

if TYPE_CHECKING:
    from bot.conversation.extensions import Actions

Text = Callable[[Translator], str]
CommandHandler = Callable[["Actions", str], Awaitable[None]]
Listed = Literal["help", "worker"]

#: Where the flows' own commands (`/matters`) stand in the "/" menu: after /start.
FLOW_ORDER = 5


@dataclass(frozen=True)
class Command:
    """One row of the table.

    `role`: the least role that may use it (resident < worker < admin).
    `words`: the translated, comma-separated words that stand for it when typed alone.
    `description`: its line in Telegram's "/" menu (resident commands only).
    `help`: its line where it is listed, `/help` (for people with `shown_to`) or the
    workers' `/worker` list. `order`: its place in those lists and the menu.
    """

    name: str
    handler: CommandHandler
    role: str = "resident"
    words: Text | None = None
    description: Text | None = None
    help: Text | None = None
    listed: Listed | None = None
    shown_to: str = "resident"
    order: int = 100


class CommandTable:
    """The commands by name, kept in their listing order."""

    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def add(self, command: Command) -> Command:
        """Add a command; one of the same name is replaced."""
        self._commands[command.name] = command
        return command

    def command(
        self,
        name: str,
        role: str = "resident",
        **texts: object,
    ) -> Callable[[CommandHandler], CommandHandler]:
        """Register a handler as `/name`, as a decorator; `texts` as in `Command`."""

        def register(handler: CommandHandler) -> CommandHandler:
            self.add(Command(name, handler, role, **texts))  # type: ignore[arg-type]
            return handler

        return register

    def get(self, name: str) -> Command | None:
        return self._commands.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self._commands

    def __iter__(self) -> Iterator[Command]:
        """In listing order (`order`, then the order they were added)."""
        return iter(sorted(self._commands.values(), key=lambda command: command.order))

    def listed(self, where: Listed) -> list[Command]:
        """The commands of `/help` or of the workers' list, in order."""
        return [c for c in self if c.listed == where and c.help is not None]

    def menu(self) -> list[Command]:
        """The commands of the public "/" menu: residents' commands with a description."""
        return [c for c in self if c.description is not None and c.role == "resident"]

    def match_word(self, text: str, translators: list[Translator]) -> str | None:
        """The command a typed word stands for, in any of the given languages, or None."""
        folded = fold(text)
        if not folded or len(folded) > 40:
            return None
        for t in translators:
            for command in self:
                if command.words is None:
                    continue
                if folded in _words(command.words(t)) | {command.name}:
                    return command.name
        return None


def _words(text: str) -> set[str]:
    return word_list(text)


def parse_command(text: str) -> tuple[str, str] | None:
    """`/start abc` -> (`start`, `abc`); `/Stop@BuurtBot` -> (`stop`, ``); else None."""
    stripped = normalise(text).strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    head, _, rest = stripped[1:].partition(" ")
    name = head.split("@", 1)[0].casefold()
    if not name or not all(ch.isascii() and (ch.isalnum() or ch == "_") for ch in name):
        return None
    return name, rest.strip()
