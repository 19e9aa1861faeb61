"""The Signal channel's pure parts: rendering, splitting, SSE frames, envelopes, reactions."""

from __future__ import annotations

import json

import pytest

from bot.channels.signal.client import RpcError, SseParser, send_results
from bot.channels.signal.render import MAX_BODY_BYTES, render, split
from bot.channels.signal.updates import Reaction, reaction_number, reaction_yes_no, read
from bot.flows.events import Ask, Media, Option, Other, Say, Text
from bot.flows.numbered import numbered
from bot.i18n.catalogs import Catalogs

UUID = "8d1e0a4c-2f3b-4a5c-9d6e-7f8a9b0c1d2e"


class English:
    def gettext(self, message: str) -> str:
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural

    def pgettext(self, context: str, message: str) -> str:
        return message


# ---- rendering -------------------------------------------------------------------------


def test_options_are_numbered_one_per_line() -> None:
    ask = Ask("age", "How old are you?", (Option("a", "12 to 17"), Option("b", "18 to 27")))
    assert numbered(ask) == "How old are you?\n\n1. 12 to 17\n2. 18 to 27"


def test_multiple_choice_says_how_to_answer_and_marks_the_chosen() -> None:
    ask = Ask(
        "t",
        "What do you care about?",
        (Option("g", "Green"), Option("s", "Sport")),
        multiple=True,
        selected=("s",),
    )
    text = numbered(ask, English())
    assert "1. Green\n2. ✅ Sport" in text
    assert text.endswith("Type the numbers of your choice, for example: 1, 3")


def test_arabic_option_lines_read_right_to_left() -> None:
    ask = Ask("age", "كم عمرك؟", (Option("a", "١٢ إلى ١٧"),))
    [part] = render(ask, "ar", Catalogs()("ar"))
    assert part.ask == ask
    assert all(line.startswith("\u200f") or not line for line in part.text.split("\n")[1:])


@pytest.mark.parametrize("letter", ["a", "ж", "ع", "🌳"])
def test_long_texts_split_under_two_thousand_bytes(letter: str) -> None:
    paragraph = " ".join([letter * 7] * 60)
    text = "\n\n".join([paragraph] * 12)
    parts = split(text)
    assert len(parts) > 1
    assert all(len(p.encode()) < MAX_BODY_BYTES for p in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())


def test_one_endless_word_is_cut_between_characters() -> None:
    parts = split("ж" * 3000)
    assert all(len(p.encode()) < MAX_BODY_BYTES for p in parts)
    assert "".join(parts) == "ж" * 3000


def test_a_split_question_keeps_its_options_and_knows_its_question() -> None:
    options = tuple(Option(str(i), f"Optie {i} " + "x" * 90) for i in range(40))
    ask = Ask("big", "Kies", options)
    parts = render(ask, "nl")
    assert len(parts) > 1
    assert all(p.ask == ask for p in parts)
    assert all(len(p.text.encode()) < MAX_BODY_BYTES for p in parts)
    assert sum(p.text.count("\n") + 1 for p in parts) >= 41


def test_say_is_plain_text() -> None:
    assert [p.text for p in render(Say("  Hallo!  "), "nl")] == ["Hallo!"]
    assert render(Say(""), "nl") == []


# ---- the event stream ------------------------------------------------------------------


def test_sse_frames_in_any_chunks_and_line_endings() -> None:
    payload = {"envelope": {"sourceUuid": UUID, "dataMessage": {"message": "héllo"}}}
    data = json.dumps(payload, ensure_ascii=False)
    stream = (
        ":\n"
        f"event:receive\ndata:{data}\n\n"
        ":\r\n"
        f"id: 7\r\nevent: receive\r\ndata: {data}\r\n\r\n"
        f"event:receive\rdata:{data}\r\r"
        ":\n"  # a lone \r at the end may be half of \r\n: the next keep-alive settles it
    ).encode()
    for size in (1, 2, 3, 7, 64, len(stream)):
        parser = SseParser()
        events = []
        for start in range(0, len(stream), size):
            events.extend(parser.feed(stream[start : start + size]))
        assert [e.event for e in events] == ["receive"] * 3, size
        assert all(json.loads(e.data) == payload for e in events)
        assert events[1].id == "7" and parser.last_id == "7"


def test_send_results_from_a_result_and_from_an_error() -> None:
    result = {"timestamp": 1, "results": [{"type": "SUCCESS"}]}
    assert send_results(result) == [{"type": "SUCCESS"}]
    error = RpcError(-5, "rate", {"response": {"results": [{"type": "RATE_LIMIT_FAILURE"}]}})
    assert error.results == [{"type": "RATE_LIMIT_FAILURE"}]
    assert RpcError(-32602, "Specified account does not exist").account_missing
    assert RpcError(-32601, "Method not implemented").method_not_found


# ---- envelopes -------------------------------------------------------------------------


def envelope(**data: object) -> dict:
    message = {"timestamp": 1700000000123, "message": None, "expiresInSeconds": 0}
    message.update(data)
    return {
        "account": "+31600000001",
        "envelope": {
            "source": "+31611111111",
            "sourceNumber": "+31611111111",
            "sourceUuid": UUID,
            "sourceName": "Ayşe",
            "sourceDevice": 1,
            "timestamp": 1700000000123,
            "dataMessage": message,
        },
    }


def test_a_text_message() -> None:
    update = read(envelope(message=" 1, 3 "), "+31600000001")
    assert update is not None
    assert update.event == Text("1, 3")
    assert update.user_id == UUID
    assert update.key == f"{UUID}:1700000000123"
    assert "+31611111111" not in update.key


def test_attachments_by_content_type() -> None:
    def attachment(content_type: str, caption: str | None = None) -> dict:
        return {"contentType": content_type, "id": "abc.jpg", "caption": caption, "size": 1}

    photo = read(envelope(attachments=[attachment("image/jpeg", "De bank")]))
    assert photo is not None and photo.event == Media("photo", "abc.jpg", "De bank")
    voice = read(envelope(attachments=[attachment("audio/aac")], message="luister"))
    assert voice is not None and voice.event == Media("voice", "abc.jpg", "luister")
    video = read(envelope(attachments=[attachment("video/mp4")]))
    assert video is not None and video.event == Media("video", "abc.jpg", "")
    pdf = read(envelope(attachments=[attachment("application/pdf")]))
    assert pdf is not None and pdf.event == Other("document")


def test_what_is_not_a_message() -> None:
    base = envelope()
    for kind in ("receiptMessage", "typingMessage", "syncMessage", "callMessage"):
        other = {**base, "envelope": {**base["envelope"], kind: {}}}
        del other["envelope"]["dataMessage"]
        assert read(other) is None, kind
    assert read(envelope()) is None  # a data message with a null message: nothing
    assert read(envelope(isExpirationUpdate=True)) is None
    assert read(envelope(remoteDelete={"timestamp": 1})) is None
    assert read(envelope(message="hoi"), "+31699999999") is None  # another account
    hidden = envelope(message="hoi")
    del hidden["envelope"]["sourceUuid"]
    assert read(hidden) is None  # no UUID: never keyed by a phone number
    sticker = read(envelope(sticker={"packId": "x", "stickerId": 1}))
    assert sticker is not None and sticker.event == Other("sticker")


def test_group_messages_and_mentions() -> None:
    group = {"groupId": "Z3JvZXA=", "groupName": "Buurt", "revision": 1, "type": "DELIVER"}
    update = read(envelope(message="\ufffc 2", groupInfo=group))
    assert update is not None and update.event == Text("2") and update.group_id == "Z3JvZXA="
    assert read(envelope(groupInfo={**group, "type": "UPDATE"})) is None


def test_reactions() -> None:
    reaction = {
        "emoji": "2️⃣",
        "targetAuthor": "+31600000001",
        "targetAuthorNumber": "+31600000001",
        "targetAuthorUuid": None,
        "targetSentTimestamp": 1699999999000,
        "isRemove": False,
    }
    update = read(envelope(reaction=reaction))
    assert update is not None and update.event is None
    assert update.reaction == Reaction("2️⃣", 1699999999000, "+31600000001", False)
    removed = read(envelope(reaction={**reaction, "isRemove": True}))
    assert removed is not None and removed.reaction and removed.reaction.remove


@pytest.mark.parametrize(
    ("emoji", "number"),
    [("1️⃣", 1), ("1\u20e3", 1), ("9️⃣", 9), ("🔟", 10), ("0️⃣", None), ("👍", None), ("#️⃣", None)],
)
def test_keycap_numbers(emoji: str, number: int | None) -> None:
    assert reaction_number(emoji) == number


@pytest.mark.parametrize(
    ("emoji", "answer"),
    [("👍", "yes"), ("👍🏿", "yes"), ("✅", "yes"), ("👎", "no"), ("👎🏻", "no"), ("❤️", None)],
)
def test_thumbs(emoji: str, answer: str | None) -> None:
    assert reaction_yes_no(emoji) == answer
