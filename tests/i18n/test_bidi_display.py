"""Every Arabic message, laid out by the Unicode bidi algorithm as a phone lays it out.

The bot isolates commands, @names, links and dates in right-to-left text
(`bot.i18n.bidi`); python-bidi (an implementation of UAX #9) then gives the visual
order, in which each of them must read as written: `/stop`, not `stop/`; `12-06`, not
`06-12`.
"""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po
from bidi import get_display

from bot.i18n import bidi
from bot.i18n.review import LTR_PIECE, direction_errors, displayed, sample
from tests.i18n.test_bidi import ROOT

CONTROLS = dict.fromkeys(map(ord, "\u2066\u2067\u2068\u2069\u200e\u200f"))


def arabic_messages():
    with (ROOT / "locales" / "ar" / "LC_MESSAGES" / "buurtbot.po").open("rb") as handle:
        catalog = read_po(handle)
    for message in catalog:
        if not message.id or (message.context or "").startswith(("keywords", "words", "date w")):
            continue
        strings = [message.string] if isinstance(message.string, str) else message.string
        for text in strings:
            if text:
                yield pytest.param(text, id=f"{message.context or ''}:{str(message.id)[:40]}")


MESSAGES = list(arabic_messages())


def test_there_are_arabic_messages_with_commands_and_dates() -> None:
    texts = [p.values[0] for p in MESSAGES]
    assert sum("/stop" in t or "/mydata" in t for t in texts) >= 4
    assert sum("12-06" in t for t in texts) >= 4


@pytest.mark.parametrize("text", MESSAGES)
def test_every_arabic_message_reads_in_order(text: str) -> None:
    lines = displayed(text, "ar")
    for logical, visual in zip(sample(text).split("\n"), lines, strict=True):
        for piece in LTR_PIECE.findall(logical.translate(CONTROLS)):
            assert piece in visual, f"{piece!r} shows as {visual!r}"


def _old_display(text: str) -> str:
    """As the bot sent Arabic before: right-to-left lines, values isolated, no more."""
    return get_display(bidi.rtl_lines(sample(text))).translate(CONTROLS)


@pytest.mark.parametrize(
    ("text", "piece", "broken"),
    [
        ("لإيقاف الرسائل: /stop", "/stop", "stop/"),
        ("في أي يوم يكون؟ مثلًا 12-06.", "12-06", "06-12"),
        ("يُرجى مراسلتي على الخاص: @buurtbot_bot", "@buurtbot_bot", "buurtbot_bot@"),
    ],
)
def test_without_isolation_they_flip_and_with_it_they_do_not(
    text: str, piece: str, broken: str
) -> None:
    assert broken in _old_display(text)  # what the review found on the phones
    assert piece in displayed(text, "ar")[0]


def test_the_check_reports_a_flipped_piece() -> None:
    from babel.messages.catalog import Message

    message = Message("Type /stop.", "اكتب /stop.")
    assert direction_errors(message, "ar") == ""
    # An isolate the translator closed too early leaves the slash on the wrong side.
    broken = Message("Type /stop.", "اكتب /\u2069stop.")
    assert "/stop" in direction_errors(broken, "ar")


def test_a_list_of_numbers_keeps_arabic_order() -> None:
    # "1، 3" is Arabic text: read right to left it says 1 then 3, so it is not isolated.
    assert displayed("مثلًا: 1، 3", "ar") == ["3 ،1 :اًلثم"]


@pytest.mark.parametrize(
    ("msgid", "values", "name", "broken"),
    [
        ('Great! See you at "{title}" on {when}.', {"when": "12-06"}, "BBQ!", "!BBQ"),
        (
            'Saved: "{title}" on {when} (number {id}).',
            {"when": "12-06", "id": 7},
            "Sport 12+",
            "+Sport 12",
        ),
        (
            "This postcode is in {neighbourhood}. Do you live there?",
            {},
            "'t Hofje",
            "t Hofje'",
        ),
    ],
)
def test_names_put_into_fixed_texts_are_isolated_once(
    msgid: str, values: dict, name: str, broken: str
) -> None:
    """An activity's or a neighbourhood's name in a fixed Arabic sentence (`bidi.fill`)
    keeps its order; put in with plain `format`, its punctuation or number flips."""
    from bot.i18n.catalogs import Catalogs

    text = Catalogs()("ar").gettext(msgid)
    assert text != msgid and bidi.has_rtl(text)
    key = "title" if "{title}" in msgid else "neighbourhood"
    filled = bidi.fill(text, "ar", **{key: name}, **values)
    assert filled.count(f"{bidi.FSI}{name}{bidi.PDI}") == 1
    # Sent as the channels send it (`for_language`, which isolates again: no change).
    sent = bidi.for_language(filled, "ar")
    assert sent.count(bidi.FSI + name) == 1
    assert name in get_display(sent).translate(CONTROLS)
    plain = bidi.for_language(text.format(**{key: name}, **values), "ar")
    assert broken in get_display(plain).translate(CONTROLS)  # what it fixes
    # Other languages: plain format, no marks.
    assert bidi.fill("See {title}.", "nl", title=name) == f"See {name}."
