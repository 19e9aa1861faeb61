"""Messages made ready for a right-to-left reader, the same way on every channel.

Every channel passes what it sends through `shaped` (texts, question texts, captions and
option labels), so an Arabic reader sees `/stop`, `@names`, links and dates in reading
order on Telegram, Signal and in the terminal alike (see `bot.i18n.bidi`). Other
languages pass unchanged.
"""

from __future__ import annotations

from dataclasses import replace

from bot.flows.events import Ask, Document, Option, Outgoing, Say
from bot.i18n import bidi


def shaped(message: Outgoing, language: str | None) -> Outgoing:
    """`message` with its texts ready for the person's writing direction."""
    if not bidi.is_rtl(language):
        return message
    if isinstance(message, Say):
        return replace(message, text=bidi.for_language(message.text, language))
    if isinstance(message, Document):
        return replace(message, caption=bidi.for_language(message.caption, language))
    assert isinstance(message, Ask)
    options = tuple(
        Option(option.value, bidi.for_language(option.label, language))
        for option in message.options
    )
    return replace(
        message,
        text=bidi.for_language(message.text, language),
        options=options,
        done_label=bidi.for_language(message.done_label, language),
    )


def shaped_all(messages: list[Outgoing], language: str | None) -> list[Outgoing]:
    return [shaped(message, language) for message in messages]
