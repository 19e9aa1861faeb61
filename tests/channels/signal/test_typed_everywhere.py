"""Signal can do everything buttons can, in Arabic too (#16 point 5, #18).

A resident on Signal types what a Telegram user presses: option labels as the bot wrote
them, several numbers with the Arabic comma and Arabic-Indic digits, a date as people
write it, and `0` for "none of these". What the bot sends an Arabic reader shows its
commands in reading order once the phone's bidi algorithm has laid it out.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from bidi import get_display

from tests.channels.signal.conftest import Bot
from tests.helpers import town_today

pytestmark = pytest.mark.postgres

CONTROLS = dict.fromkeys(map(ord, "\u2066\u2067\u2068\u2069\u200e\u200f"))


def shown(text: str) -> str:
    """A message as the phone lays it out, line by line (visual order)."""
    return "\n".join(get_display(line).translate(CONTROLS) for line in text.split("\n"))


async def test_an_arabic_resident_proposes_by_typing_only(bot: Bot) -> None:
    person = bot.daemon.person("Rania")
    reply = await bot.say(person, "مرحبا")
    assert "العربية" in reply
    reply = await bot.say(person, "العربية")  # the label, as the bot wrote it
    assert "هل هذا مناسب لك؟" in reply
    # The consent names what is kept, and its commands read as commands.
    assert "وفئتك العمرية ولغتك" in reply
    assert "/mydata" in shown(reply) and "/forget" in shown(reply)
    assert "mydata/" not in shown(reply)

    reply = await bot.say(person, "نعم")
    reply = await bot.say(person, "7606 AB")
    assert "Kerkelanden" in reply  # the neighbourhood it matched, said back ...
    reply = await bot.say(person, "نعم")  # ... and confirmed
    reply = await bot.say(person, "٢")  # 18 to 27, in Arabic-Indic digits
    assert "مثلًا: 1، 3" in reply  # the bot's own example ...
    reply = await bot.say(person, "١، ٣")  # ... and the person's answer in their digits

    reply = await bot.say(person, "/propose")
    reply = await bot.say(person, "حفلة شواء في الحديقة")
    reply = await bot.say(person, "1، 3")  # Latin digits, Arabic comma
    reply = await bot.say(person, "الحديقة الكبيرة")
    assert "12-06" in shown(reply)  # the example date, in reading order
    reply = await bot.say(person, "غدًا")  # with the vowel mark
    assert "اكتب 0 إذا لم يناسبك أي منها." in reply  # nothing may be chosen: say how
    reply = await bot.say(person, "٠")
    reply = await bot.say(person, "نعم")
    reply = await bot.say(person, "١")

    stored = await bot.answers()
    assert stored["onboarding.age_group"] == "18-27"
    assert stored["onboarding.interests"] == ["green", "sport"]
    assert stored["propose.for_whom"] == ["youth", "families"]
    assert stored["propose.when"] == (town_today() + timedelta(days=1)).isoformat()
    assert stored["propose.needs"] == []
    assert stored["propose.organise"] is True


async def test_the_done_word_and_an_empty_choice_over_signal(bot: Bot) -> None:
    person = bot.daemon.person()
    for text in ("Hoi", "Nederlands", "ja", "7606 AB", "ja", "2", "1"):
        await bot.say(person, text)
    await bot.say(person, "/propose")
    await bot.say(person, "Een filmavond")
    await bot.say(person, "jongeren")  # a label, any case
    await bot.say(person, "Op het plein")
    reply = await bot.say(person, "zaterdag")
    assert "Typ 0 als geen ervan past." in reply
    reply = await bot.say(person, "klaar")  # the done word: nothing needed
    assert "Wil je helpen met organiseren?" in reply
    stored = await bot.answers()
    assert stored["propose.needs"] == []
    assert date.fromisoformat(str(stored["propose.when"])).weekday() == 5
