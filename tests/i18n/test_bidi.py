"""Arabic stays right-to-left, also with Latin names and numbers in it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.deployment import load_deployment
from bot.flows.context import FlowContext
from bot.i18n.bidi import (
    FSI,
    PDI,
    RLM,
    for_language,
    has_rtl,
    is_rtl,
    isolate,
    isolate_values,
    rtl_lines,
    strip_marks,
)

ROOT = Path(__file__).resolve().parents[2]


class Table:
    """A translator with a few fixed translations."""

    def __init__(self, texts: dict[tuple[str, str], str]):
        self.texts = texts

    def gettext(self, message: str) -> str:
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural

    def pgettext(self, context: str, message: str) -> str:
        return self.texts.get((context, message), message)


def _ctx(language: str, texts: dict[tuple[str, str], str]) -> FlowContext:
    return FlowContext(
        language=language,
        translators=lambda _code: Table(texts),
        deployment=load_deployment(ROOT / "buurtbot.yaml"),
        today=date(2026, 11, 23),
        variables={"count": 12, "price": 2.5},
    )


@pytest.mark.parametrize(
    ("language", "rtl"),
    [
        *[("ar", True), ("ar_MA", True), ("ar-SY", True), ("fa", True), ("he", True)],
        *[("ur", True), ("nl", False), ("tr", False), ("uk", False), ("", False), (None, False)],
    ],
)
def test_rtl_languages(language: str | None, rtl: bool) -> None:
    assert is_rtl(language) is rtl


def test_isolate() -> None:
    assert isolate("Welzijn Almelo") == f"{FSI}Welzijn Almelo{PDI}"
    assert isolate(isolate("x")) == isolate("x")
    assert isolate("") == ""


def test_isolated_values_keep_format_specs() -> None:
    values = isolate_values({"n": 3, "price": 2.5, "name": "Almelo"})
    text = "{n:d} / {price:.2f} / {name!s} / {name}".format_map(values)
    assert text == f"{FSI}3{PDI} / {FSI}2.50{PDI} / {FSI}Almelo{PDI} / {FSI}Almelo{PDI}"


def test_lines_that_would_start_left_to_right_get_a_mark() -> None:
    text = f"{FSI}Welzijn Almelo{PDI} يرحب بك\n12 شخصًا سيحضرون\nمرحبًا Almelo\n• {FSI}7606{PDI}"
    lines = rtl_lines(text).split("\n")
    assert lines[0] == RLM + f"{FSI}Welzijn Almelo{PDI} يرحب بك"
    assert lines[1] == RLM + "12 شخصًا سيحضرون"
    assert lines[2] == "مرحبًا Almelo"  # starts with an Arabic letter: as it is
    assert lines[3] == RLM + f"• {FSI}7606{PDI}"
    assert rtl_lines(rtl_lines(text)) == rtl_lines(text)


def test_a_text_without_arabic_letters_is_left_alone() -> None:
    assert not has_rtl("Hallo Almelo")
    assert rtl_lines("Hallo Almelo\n12") == "Hallo Almelo\n12"
    assert for_language("Hello", "ar") == "Hello"
    assert for_language("12 شخصًا", "nl") == "12 شخصًا"
    assert for_language("12 شخصًا", "ar") == RLM + "12 شخصًا"


def test_strip_marks() -> None:
    assert strip_marks(f"{RLM}{FSI}Almelo{PDI}") == "Almelo"


def test_flow_text_isolates_values_in_arabic() -> None:
    texts = {("f:s", "{organisation} asks {count} people"): "{organisation} تسأل {count} أشخاص"}
    text = _ctx("ar", texts).flow_text("f:s", "{organisation} asks {count} people")
    assert text == f"{RLM}{FSI}Welzijn Almelo{PDI} تسأل {FSI}12{PDI} أشخاص"


def test_flow_text_keeps_links_apart_from_the_marks() -> None:
    texts = {("f:s", "Read more: {privacy_url}"): "للمزيد: {privacy_url}"}
    text = _ctx("ar", texts).flow_text("f:s", "Read more: {privacy_url}")
    url = "https://www.example.org/buurtbot/privacy"
    assert text == f"للمزيد: {FSI}{url}{PDI}"


def test_flow_text_in_other_languages_has_no_marks() -> None:
    texts = {("f:s", "{organisation} asks {count} people"): "{organisation} vraagt {count} mensen"}
    text = _ctx("nl", texts).flow_text("f:s", "{organisation} asks {count} people")
    assert text == "Welzijn Almelo vraagt 12 mensen"


def test_an_arabic_person_with_a_text_that_fell_back_to_dutch() -> None:
    text = _ctx("ar", {}).flow_text("f:s", "{organisation} asks {count} people")
    assert RLM not in text
    assert strip_marks(text) == "Welzijn Almelo asks 12 people"


def test_unknown_placeholders_stay_visible_in_arabic() -> None:
    texts = {("f:s", "Hello {nobody}"): "مرحبًا {nobody}"}
    assert _ctx("ar", texts).flow_text("f:s", "Hello {nobody}") == "مرحبًا {nobody}"
