"""How easy a Dutch text is to read: the Flesch-Douma score and the longest sentence.

Flesch-Douma is Flesch's reading ease with Douma's constants for Dutch:

    206.835 - 0.93 × (words per sentence) - 77 × (syllables per word)

About 60-70 is plain language (B1); a leaflet of the municipality often scores 40.
Syllables are counted with pyphen's Dutch hyphenation patterns (the LibreOffice ones),
which a little undercount words such as "idee" — a rough measure, as every readability
formula is. It is used by `buurtbot i18n readability` on every flow's Dutch text: a
resident flow must score 70 or more with no sentence over 15 words, a worker flow 60 and
20 (see `LIMITS`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pyphen

LIMITS = {"resident": (70.0, 15), "worker": (60.0, 20), "admin": (60.0, 20)}
"""(lowest score, most words in a sentence) for each audience of a flow."""

_SENTENCE_END = re.compile(r"(?<=[.!?…:])\s+|\n+")
_WORD = re.compile(r"[^\W\d_](?:[\w'’-]*\w)?")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


@lru_cache(maxsize=1)
def _dictionary() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="nl_NL")


def syllables(word: str) -> int:
    """Syllables of one Dutch word (at least one)."""
    return max(1, len(_dictionary().positions(word.lower())) + 1)


def sentences(text: str) -> list[list[str]]:
    """The sentences of a text as lists of words; a line without an end counts as one.

    A `{placeholder}` counts as one short word: what the bot fills in is a name or a date.
    """
    cleaned = _PLACEHOLDER.sub("dit", text)
    found = []
    for part in _SENTENCE_END.split(cleaned):
        words = _WORD.findall(part)
        if words:
            found.append(words)
    return found


@dataclass(frozen=True)
class Readability:
    """The score of a text, and its longest sentence."""

    score: float
    words: int
    sentences: int
    longest: tuple[str, ...]

    def passes(self, audience: str) -> bool:
        lowest, most = LIMITS.get(audience, LIMITS["resident"])
        return self.score >= lowest and len(self.longest) <= most


def readability(texts: list[str]) -> Readability:
    """Flesch-Douma over all `texts` together (100 when there is nothing to read)."""
    found = [sentence for text in texts for sentence in sentences(text)]
    words = [word for sentence in found for word in sentence]
    if not words:
        return Readability(100.0, 0, 0, ())
    per_sentence = len(words) / len(found)
    per_word = sum(syllables(word) for word in words) / len(words)
    score = 206.835 - 0.93 * per_sentence - 77 * per_word
    longest = max(found, key=len)
    return Readability(round(score, 1), len(words), len(found), tuple(longest))
