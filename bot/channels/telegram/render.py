"""Engine messages as Telegram wants them: texts within the limits, inline keyboards.

Pure functions, no I/O: what `sender.py` sends is decided here.

* Texts are sent as plain text (no parse mode: translated texts may hold any character)
  and split at line boundaries when longer than Telegram's 4,096 characters (counted
  in UTF-16 code units, as Telegram counts them).
* Choices are inline keyboards laid out by `bot.flows.buttons` (one option a row unless
  every label is short; "rather not say" and "done" on rows of their own; ✅ on the
  selected options of a multiple-choice question), which the dashboard's preview shows too.
* After an answer the question message shows what was chosen and has no buttons.
"""

from __future__ import annotations

from typing import Any

from bot.channels.telegram.callbacks import DONE as DONE_DATA
from bot.channels.telegram.callbacks import SKIP as SKIP_DATA
from bot.channels.telegram.callbacks import CallbackSigner
from bot.flows.buttons import DONE, SELECTED, SKIP, Button, button_rows
from bot.flows.events import Ask

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_ANSWER = 200


def utf16_len(text: str) -> int:
    """Length as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """`text` in pieces of at most `limit` UTF-16 units, cut at line ends where possible.

    A single line longer than the limit is cut at a space, or hard when it has none.
    Empty or blank text gives no pieces (Telegram refuses empty messages).
    """
    text = text.strip()
    if not text:
        return []
    if utf16_len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if utf16_len(candidate) <= limit:
            current = candidate
            continue
        if current.strip():
            pieces.append(current.rstrip())
        current = ""
        for part in _split_line(line, limit):
            candidate = f"{current}\n{part}" if current else part
            if utf16_len(candidate) <= limit:
                current = candidate
            else:
                if current.strip():
                    pieces.append(current.rstrip())
                current = part
    if current.strip():
        pieces.append(current.rstrip())
    return pieces


def _split_line(line: str, limit: int) -> list[str]:
    """One over-long line in pieces: at spaces, else by characters."""
    parts: list[str] = []
    rest = line
    while utf16_len(rest) > limit:
        cut = _cut(rest, limit)
        space = rest.rfind(" ", 0, cut)
        if space > cut // 2:
            cut = space
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _cut(text: str, limit: int) -> int:
    """The largest number of characters whose UTF-16 length is within `limit`."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def truncate(text: str, limit: int) -> str:
    """`text` cut to `limit` UTF-16 units, with an ellipsis when it was cut."""
    if utf16_len(text) <= limit:
        return text
    return text[: _cut(text, limit - 1)].rstrip() + "…"


def answered_text(question: str, display: str) -> str:
    """The question as it reads after the answer: its text, then ✅ and the answer."""
    shown = f"{SELECTED} {display}".rstrip()
    budget = MAX_TEXT - utf16_len(shown) - 2
    return f"{truncate(question.rstrip(), max(budget, 1))}\n\n{shown}"


def keyboard(
    ask: Ask, signer: CallbackSigner, user_id: str, conversation_id: int | None
) -> dict[str, Any] | None:
    """The inline keyboard of a question (Bot API JSON), or None when it takes typed answers.

    The layout is `bot.flows.buttons.button_rows`; here each button gets its signed data.
    """
    rows = button_rows(ask)
    if not rows:
        return None

    def data(button: Button) -> str:
        if button.does == SKIP:
            return signer.encode(user_id, conversation_id, ask.step, SKIP_DATA)
        if button.does == DONE:
            return signer.encode(user_id, conversation_id, ask.step, DONE_DATA)
        assert button.index is not None
        return signer.option(user_id, conversation_id, ask.step, button.index)

    return {"inline_keyboard": [[_button(b.label, data(b)) for b in row] for row in rows]}


def _button(label: str, data: str) -> dict[str, str]:
    return {"text": label, "callback_data": data}
