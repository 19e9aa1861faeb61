"""What a careful human reviewer checks in a translation, as code.

`buurtbot i18n check` runs these on every translated entry, next to the placeholders:

- **commands**: every `/command` of the English is in the translation, unchanged
  (Telegram only knows the Latin names), and no other;
- **glossary**: a text whose English has a key term uses the language's one word for it,
  and no text uses a word the glossary says to avoid (`locales/glossary.yaml`);
- **register**: no word of the wrong form of address (`u` in Dutch, `ти` in Ukrainian);
- **direction**: in a right-to-left language, every command, `@name`, link, date and
  time reads in its own order once the message goes through the bot's own bidi
  treatment and the Unicode bidi algorithm (python-bidi), as on the reader's phone.

Lists of words people type (keywords, yes and no, date and time words) are data, not
prose: they are only checked for placeholders.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from babel.messages.catalog import Message
from bidi import get_display

from bot.i18n import bidi
from bot.i18n.typed import fold

COMMAND = re.compile(r"(?<![\w/])/[a-z][a-z0-9_]*", re.IGNORECASE)
# What must read left to right inside right-to-left text: commands (with a code after
# them), @names, links, dates and times.
LTR_PIECE = re.compile(
    r"(?<![\w/])/[a-z][a-z0-9_]*(?: [A-Z0-9][A-Z0-9-]*\b)?"
    r"|@\w+|https?://\S+[^\s.,;:!?)»،؛؟]|\d+(?:[-/.:]\d+)+",
    re.IGNORECASE,
)
_WORD_LISTS = ("keywords for ", "words that mean ", "date word", "time words")
_CONTROLS = dict.fromkeys(map(ord, "\u2066\u2067\u2068\u2069\u200e\u200f\u061c"))


@dataclass(frozen=True)
class Term:
    name: str
    english: re.Pattern[str]
    use: dict[str, re.Pattern[str]] = field(default_factory=dict)
    avoid: dict[str, list[re.Pattern[str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Glossary:
    terms: tuple[Term, ...] = ()
    register: dict[str, list[re.Pattern[str]]] = field(default_factory=dict)


def _pattern(expression: str) -> re.Pattern[str]:
    """An expression of the glossary, folded like the texts it is matched against."""
    decomposed = unicodedata.normalize("NFKD", expression)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.compile(fold_text(bare), re.IGNORECASE)


def fold_text(text: str) -> str:
    """A whole text folded word by word (see `bot.i18n.typed.fold`), punctuation kept."""
    return " ".join(fold(word) or word for word in text.split(" "))


@lru_cache(maxsize=8)
def load_glossary(path: Path) -> Glossary:
    """The glossary file; an absent file is an empty glossary."""
    if not path.exists():
        return Glossary()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    terms = []
    for name, entry in (data.get("terms") or {}).items():
        use, avoid = {}, {}
        for language, rules in entry.items():
            if language == "en":
                continue
            if rules.get("use"):
                use[language] = _pattern(rules["use"])
            avoid[language] = [_pattern(word) for word in rules.get("avoid", [])]
        english = re.compile(entry["en"], re.IGNORECASE)
        terms.append(Term(name, english, use, avoid))
    register = {
        language: [_pattern(word) for word in words]
        for language, words in (data.get("register") or {}).items()
    }
    return Glossary(tuple(terms), register)


def _texts(message: Message) -> tuple[list[str], list[str]]:
    ids = [message.id] if isinstance(message.id, str) else list(message.id)
    strings = [message.string] if isinstance(message.string, str) else list(message.string)
    return ids, [text for text in strings if text]


def is_word_list(message: Message) -> bool:
    return bool(message.context) and message.context.startswith(_WORD_LISTS)


def command_errors(message: Message) -> str:
    """Commands of the English missing from, or added to, a translation."""
    ids, strings = _texts(message)
    wanted = {c for text in ids for c in COMMAND.findall(text)}
    for text in strings:
        found = set(COMMAND.findall(text))
        if found != wanted:
            lost = ", ".join(sorted(wanted - found))
            extra = ", ".join(sorted(found - wanted))
            what = f"{lost} missing" if lost else f"{extra} not in the English"
            return f"{what} in {text!r}"
    return ""


def glossary_errors(message: Message, language: str, glossary: Glossary) -> str:
    """The key terms a translation should use, and words it should not."""
    ids, strings = _texts(message)
    english = " ".join(ids)
    for text in strings:
        folded = fold_text(text)
        for term in glossary.terms:
            for avoided in term.avoid.get(language, []):
                if avoided.search(folded):
                    return f"avoid {avoided.pattern!r} ({term.name}) in {text!r}"
            wanted = term.use.get(language)
            if wanted is not None and term.english.search(english) and not wanted.search(folded):
                return f"{term.name}: use {wanted.pattern!r} in {text!r}"
        for wrong in glossary.register.get(language, []):
            if wrong.search(folded):
                return f"register: {wrong.pattern!r} is the wrong form of address in {text!r}"
    return ""


def sample(text: str) -> str:
    """A translation with each `{placeholder}` filled as the bot fills one (isolated)."""
    names = [name for _, name, _, _ in string.Formatter().parse(text) if name]
    values = {name.split(".")[0].split("[")[0]: bidi.isolate("Almelo") for name in names}
    try:
        return text.format_map(values)
    except (ValueError, KeyError, IndexError, AttributeError):
        return text


def displayed(text: str, language: str) -> list[str]:
    """The lines of a message as a phone shows them: visual order, controls removed."""
    shaped = bidi.for_language(sample(text), language)
    return [get_display(line).translate(_CONTROLS) for line in shaped.split("\n")]


def direction_errors(message: Message, language: str) -> str:
    """Commands, @names, links, dates and times that a right-to-left reader sees broken."""
    if not bidi.is_rtl(language):
        return ""
    _, strings = _texts(message)
    for text in strings:
        shown = displayed(text, language)
        for line, visual in zip(sample(text).split("\n"), shown, strict=True):
            for piece in LTR_PIECE.findall(line.translate(_CONTROLS)):
                if piece not in visual:
                    return f"{piece!r} shows as {visual!r}"
    return ""


def review_errors(message: Message, language: str, glossary: Glossary) -> tuple[str, str]:
    """(kind, detail) of the first thing a reviewer would stumble on, or ("", "")."""
    if is_word_list(message):
        return "", ""
    for kind, detail in (
        ("commands", command_errors(message)),
        ("glossary", glossary_errors(message, language, glossary)),
        ("direction", direction_errors(message, language)),
    ):
        if detail:
            return kind, detail
    return "", ""
