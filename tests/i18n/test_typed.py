"""Typed text is read the same in every script: digits, separators, marks, accents."""

from __future__ import annotations

import pytest

from bot.i18n.typed import fold, normalise, word_list


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("١، ٣", "1, 3"),  # Arabic-Indic digits, Arabic comma
        ("3، 8", "3, 8"),
        ("۱؛۲", "1;2"),  # Eastern Arabic-Indic digits (Persian, Urdu keyboards), semicolon
        ("2٫5", "2.5"),  # Arabic decimal separator
        ("١٬٢٣٤", "1234"),  # Arabic thousands separator
        ("\u200f\u20681. Ja\u2069", "1. Ja"),  # the bot's own direction marks
        ("12\u00a0uur", "12 uur"),
    ],
)
def test_normalise(typed: str, read: str) -> None:
    assert normalise(typed) == read


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("غدًا", "غدا"),  # vowel marks
        ("أجل", "اجل"),  # hamza on alef
        ("مدرسة", "مدرسه"),  # ta marbuta
        ("Yarın", "yarin"),  # Turkish dotless i
        ("Bugün", "bugun"),
        ("Oké!", "oke"),
        ("zmień język", "zmien jezyk"),
        ("пʼятниця", "п'ятниця"),  # Ukrainian apostrophes
        ("\u200f\u2068Ja\u2069", "ja"),
        ("  Klaar. ", "klaar"),
    ],
)
def test_fold_makes_the_typed_forms_equal(a: str, b: str) -> None:
    assert fold(a) == fold(b)


def test_different_words_stay_different() -> None:
    assert fold("ja") != fold("jam")
    assert fold("غدا") != fold("غد")
    assert fold("") == ""


def test_word_lists_split_on_latin_and_arabic_commas() -> None:
    assert word_list("غدًا، بكرة, غدا") == {"غدا", "بكره"}
    assert word_list("ja, Jawel ,, ok") == {"ja", "jawel", "ok"}
