"""Commands every step understands, and the plain words for them in each language.

Telegram needs Latin command names (`/stop`); residents may simply type `stoppen`,
`dur`, `توقف` or `стоп`. Translators list the words for each command, comma-separated,
in the catalog entry with the context `keywords for /NAME`.
"""

from __future__ import annotations

from bot.flows.context import Translator

GLOBAL_COMMANDS = ("start", "stop", "help", "language", "privacy", "mydata", "forget")


def _keywords(t: Translator) -> dict[str, str]:
    # Spelled out so that the extractor sees every msgid and context.
    return {
        "stop": t.pgettext("keywords for /stop", "stop, unsubscribe"),
        "help": t.pgettext("keywords for /help", "help"),
        "language": t.pgettext("keywords for /language", "language"),
        "privacy": t.pgettext("keywords for /privacy", "privacy"),
        "mydata": t.pgettext("keywords for /mydata", "my data"),
        "forget": t.pgettext("keywords for /forget", "forget me, delete my data"),
        "start": t.pgettext("keywords for /start", "start"),
    }


def _words(text: str) -> set[str]:
    return {word.strip().casefold() for word in text.split(",") if word.strip()}


def parse_command(text: str) -> tuple[str, str] | None:
    """`/start abc` -> (`start`, `abc`); `/Stop@BuurtBot` -> (`stop`, ``); else None."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    head, _, rest = stripped[1:].partition(" ")
    name = head.split("@", 1)[0].casefold()
    if not name or not all(ch.isascii() and (ch.isalnum() or ch == "_") for ch in name):
        return None
    return name, rest.strip()


def match_keyword(text: str, translators: list[Translator]) -> str | None:
    """The command a typed word stands for, in any of the given languages, or None."""
    folded = text.strip().strip("!.").casefold()
    if not folded or len(folded) > 40:
        return None
    for t in translators:
        for command, words in _keywords(t).items():
            if folded in _words(words) | {command}:
                return command
    return None
