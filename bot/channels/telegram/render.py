"""Engine messages as Telegram wants them: texts within the limits, inline keyboards.

Pure functions, no I/O: what `sender.py` sends is decided here.

* Texts are sent as plain text (no parse mode: translated texts may hold any character)
  and split at line boundaries when longer than Telegram's 4,096 characters (counted
  in UTF-16 code units, as Telegram counts them).
* Choices are inline keyboards, one option a row unless every label is short; "rather
  not say" gets its own row, and so does the "done" button of a multiple-choice question.
  Selected options of a multiple-choice question carry a ✅.
* After an answer the question message shows what was chosen and has no buttons.
"""

from __future__ import annotations

from typing import Any

from bot.channels.telegram.callbacks import DONE, SKIP, CallbackSigner
from bot.flows.events import Ask

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_ANSWER = 200
SELECTED = "✅"
SKIP_VALUE = "_skip"

# (longest label, buttons a row): short labels share a row.
_ROW_WIDTHS = ((4, 5), (8, 3), (14, 2))


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


def _per_row(labels: list[str]) -> int:
    longest = max((len(label) for label in labels), default=0)
    for width, count in _ROW_WIDTHS:
        if longest <= width:
            return count
    return 1


def keyboard(
    ask: Ask, signer: CallbackSigner, user_id: str, conversation_id: int | None
) -> dict[str, Any] | None:
    """The inline keyboard of a question (Bot API JSON), or None when it takes typed answers."""
    if not ask.options:
        return None
    buttons: list[dict[str, str]] = []
    skip: dict[str, str] | None = None
    labels: list[str] = []
    for index, option in enumerate(ask.options):
        if option.value == SKIP_VALUE:
            skip = _button(option.label, signer.encode(user_id, conversation_id, ask.step, SKIP))
            continue
        label = option.label
        if ask.multiple and option.value in ask.selected:
            label = f"{SELECTED} {label}"
        labels.append(label)
        buttons.append(_button(label, signer.option(user_id, conversation_id, ask.step, index)))
    per_row = _per_row(labels)
    rows = [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
    if skip is not None:
        rows.append([skip])
    if ask.multiple:
        done = ask.done_label or "OK"
        rows.append([_button(done, signer.encode(user_id, conversation_id, ask.step, DONE))])
    return {"inline_keyboard": rows}


def _button(label: str, data: str) -> dict[str, str]:
    return {"text": label, "callback_data": data}
