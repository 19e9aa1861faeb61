"""What people type, read the same way in every script.

A resident on Signal or in the terminal types what a Telegram user presses, in their own
script and on their own keyboard: `١، ٣` or `3، 8` (Arabic comma, Arabic-Indic digits),
`2٫5` (Arabic decimal separator), `غدًا` or `غدا` (with or without vowel marks), `yarın`
or `yarin` (with or without Turkish letters), `oké` or `oke`. And a person who copies a
label from the bot's own message copies the invisible direction marks with it.

Two functions, so every step kind reads typed text the same way:

- `normalise` keeps the text but writes digits and separators the one way the parsers
  read them (ASCII digits, `,` `;` `.`) and drops the direction marks;
- `fold` also drops case, accents and Arabic vowel marks and unifies the Arabic letters
  that keyboards write either way (أ إ آ → ا, ى → ي, ة → ه), for comparing words.
"""

from __future__ import annotations

import re
import unicodedata

from bot.i18n.bidi import strip_marks

# Arabic-Indic (U+0660..) and Eastern Arabic-Indic (U+06F0..) digits, and the Arabic
# separators: comma, semicolon, decimal separator; the thousands separator goes.
_SCRIPT = {
    **{0x0660 + i: str(i) for i in range(10)},
    **{0x06F0 + i: str(i) for i in range(10)},
    ord("،"): ",",
    ord("؛"): ";",
    ord("٫"): ".",
    ord("٬"): "",
    ord("\u00a0"): " ",
    ord("\u202f"): " ",
}
# Letters keyboards write either way: Arabic alef forms, alef maqsura, ta marbuta and
# tatweel; Turkish dotless i; the apostrophes of Ukrainian `пʼятниця` and English `o'clock`.
_LETTERS = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ـ": "", "ı": "i"}
    | dict.fromkeys("ʼ’‘`", "'")
)
_EDGES = " \t\n.!?؟,،;؛:"
_LIST = re.compile(r"[,،;؛\n]")


def normalise(text: str) -> str:
    """Digits as ASCII, Arabic comma/semicolon/decimal as `,` `;` `.`, no direction marks."""
    return unicodedata.normalize("NFC", strip_marks(text).translate(_SCRIPT))


def fold(text: str) -> str:
    """A typed word as it compares: no case, accents, vowel marks or edge punctuation.

    `fold("Yarın") == fold("yarin")`, `fold("غدًا") == fold("غدا")`,
    `fold("Oké!") == fold("oke")`, `fold("\u200f\u2068Ja\u2069") == "ja"`.
    """
    decomposed = unicodedata.normalize("NFKD", normalise(text).casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # NFKD splits آ and أ into ا + a mark, so only the other letters need the table.
    return " ".join(bare.translate(_LETTERS).strip(_EDGES).split())


def word_list(text: str) -> set[str]:
    """A translator's comma-separated list of words (`ja, jawel, ok`), each folded."""
    return {folded for word in _LIST.split(text) if (folded := fold(word))}
