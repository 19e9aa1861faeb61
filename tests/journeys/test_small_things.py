"""Small things people notice: /language confirms in the new language, a deep link counts
mid-conversation, /stop then /start greets once, /mydata speaks in words."""

from __future__ import annotations

import re

import pytest

from bot.flows.state import State
from bot.storage import conversations as convs
from tests.channels.signal.conftest import option
from tests.journeys.conftest import World
from tests.journeys.test_residents import what_matters_on_signal

pytestmark = pytest.mark.postgres


async def test_language_change_is_confirmed_in_the_new_language(world: World) -> None:
    anouk = world.server.user(960, "Anouk", language_code="en")
    await world.tg_onboard(anouk)
    await world.tg(anouk, lambda: anouk.send_command("language"), "Nederlands")
    said = await world.tg(anouk, lambda: anouk.press("Nederlands"), "Wat is er goed")
    assert "Oké! Vanaf nu schrijven we je in het Nederlands." in said

    emre = world.daemon.person("Emre")
    await world.sg_onboard(emre)
    reply = await world.sg(emre, "/language")
    reply = await world.sg(emre, option(reply, "Türkçe"))
    assert "Tamam! Artık size Türkçe yazacağız." in reply
    reply = await world.sg(emre, "🙃")  # bad input in the new language: the question again
    assert "Tamam" not in reply and "1." in reply


async def test_a_deep_link_counts_in_the_middle_of_a_conversation(world: World) -> None:
    # Before consent: the neighbourhood is taken when its question comes, not asked.
    ada = world.server.user(961, "Ada", language_code="en")
    await world.tg(ada, lambda: ada.send_command("start"), "English")
    await world.tg(ada, lambda: ada.press("English"), "Yes, I agree")
    await world.tg(ada, lambda: ada.send_command("start", "n-centrum_c-poster"), "Yes, I agree")
    said = await world.tg(ada, lambda: ada.press("Yes, I agree"), "How old are you?")
    assert "Which neighbourhood" not in said
    row = await world.participant("telegram", str(ada.user_id))
    assert row.neighbourhood == "centrum"
    async with world.app.database.transaction() as session:
        conversation = await convs.latest_unfinished(session, row.id)
        if conversation is None:
            conversation = await convs.active(session, row.id)
        assert conversation is not None
        assert State.from_json(conversation.state).variables["campaign"] == "poster"

    # After consent: asked first (people scan posters where they shop or work too).
    bram = world.server.user(962, "Bram", language_code="en")
    await world.tg_onboard(bram)  # lives in Kerkelanden, in the middle of what-matters
    asked = await world.tg(
        bram, lambda: bram.send_command("start", "n-hofkamp_c-flyer"), "Do you live in"
    )
    assert "This link is for Hofkamp. We have Kerkelanden as your neighbourhood." in asked
    assert (await world.participant("telegram", str(bram.user_id))).neighbourhood == "kerkelanden"
    said = await world.tg(bram, lambda: bram.press("No"), "What is good")
    assert "Your neighbourhood stays Kerkelanden." in said  # and what-matters goes on
    assert (await world.participant("telegram", str(bram.user_id))).neighbourhood == "kerkelanden"
    # The same link again, and yes: the neighbourhood is the link's, without its question.
    await world.tg(bram, lambda: bram.send_command("start", "n-hofkamp"), "Do you live in")
    said = await world.tg(bram, lambda: bram.press("Yes"), "What is good")
    assert "OK! Hofkamp is now your neighbourhood." in said
    assert "Which neighbourhood" not in said
    assert (await world.participant("telegram", str(bram.user_id))).neighbourhood == "hofkamp"
    # A link for the neighbourhood they have asks nothing.
    said = await world.tg(bram, lambda: bram.send_command("start", "n-hofkamp"), "")
    assert "Do you live in" not in said

    # On Signal, typed: the same question, answered by its number.
    emre = world.daemon.person("Emre")
    await world.sg_onboard(emre)
    reply = await world.sg(emre, "/start n-centrum")
    assert "This link is for Centrum." in reply
    reply = await world.sg(emre, option(reply, "Yes"))
    assert "Centrum is now your neighbourhood" in reply
    assert (await world.participant("signal", emre.uuid)).neighbourhood == "centrum"


async def test_a_link_never_gives_a_neighbourhood_to_someone_who_did_not(world: World) -> None:
    # "Somewhere else" on Telegram: a poster's link asks; no keeps their answer.
    cas = world.server.user(963, "Cas", language_code="en")
    await world.tg_onboard(cas, place="Somewhere else")
    assert (await world.participant("telegram", str(cas.user_id))).neighbourhood == "other"
    asked = await world.tg(
        cas, lambda: cas.send_command("start", "n-centrum_c-poster"), "Do you live in"
    )
    assert "This link is for Centrum.\nDo you live in Centrum?" in asked
    assert "We have" not in asked
    said = await world.tg(cas, lambda: cas.press("No"), "What is good")
    assert "OK, nothing changes." in said  # and what-matters goes on
    assert (await world.participant("telegram", str(cas.user_id))).neighbourhood == "other"
    await world.tg(cas, lambda: cas.send_command("start", "n-centrum"), "Do you live in")
    said = await world.tg(cas, lambda: cas.press("Yes"), "What is good")
    assert "OK! Centrum is now your neighbourhood." in said
    assert (await world.participant("telegram", str(cas.user_id))).neighbourhood == "centrum"

    # "Rather not say" on Signal, typed, in Dutch: asked too, never set without a yes.
    dana = world.daemon.person("Dana")
    reply = await world.sg(dana, "Hoi")
    reply = await world.sg(dana, option(reply, "Nederlands"))
    reply = await world.sg(dana, "1")  # consent: yes
    reply = await world.sg(dana, option(reply, "Zeg ik liever niet"))
    reply = await world.sg(dana, option(reply, "18 tot en met 27"))
    reply = await world.sg(dana, option(reply, "Sport en spel"))
    assert (await world.participant("signal", dana.uuid)).neighbourhood is None
    reply = await world.sg(dana, "/start n-hofkamp")
    assert "Deze link is voor Hofkamp.\nWoon je in Hofkamp?" in reply
    reply = await world.sg(dana, option(reply, "Nee"))
    assert "Oké, er verandert niets." in reply
    assert (await world.participant("signal", dana.uuid)).neighbourhood is None


async def test_stop_then_start_greets_once_and_mydata_speaks_in_words(world: World) -> None:
    emre = world.daemon.person("Emre")
    await world.sg_onboard(emre)
    await what_matters_on_signal(world, emre, "no")
    emre.take()
    assert "no more messages" in await world.sg(emre, "/stop")
    reply = await world.sg(emre, "/start")
    assert reply.count("Welcome back") == 1 and "Hello again" not in reply

    mine = await world.sg(emre, "/mydata")
    assert "Language: English" in mine
    assert "Neighbourhood: Kerkelanden" in mine
    assert "Age group: 18 to 27" in mine
    agreed = re.search(r"You agreed on (.+) \(privacy", mine)
    assert agreed is not None
    assert re.search(r"(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day", agreed[1])  # a weekday
    assert re.search(
        r"(January|February|March|April|May|June|July|August|September|"
        r"October|November|December) \d+",
        agreed[1],
    )
    assert not re.search(r"\d{4}-\d{2}-\d{2}|:\d{2}:\d{2}", agreed[1])  # no codes, no seconds
