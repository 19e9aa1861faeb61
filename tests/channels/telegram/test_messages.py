"""Everything a person may send: media, stickers, places, edits, groups, deep links."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.app import App
from bot.channels.telegram import TelegramChannel
from bot.settings import Settings
from tests.channels.telegram.conftest import onboard, participant, stored_answers, texts
from tests.conftest import ROOT, make_settings
from tests.fakes.telegram_api import FakeTelegramServer

SNAPSHOT_FLOW = """\
id: snapshot
version: 1
language: en
title: A place you like
command: snapshot
steps:
  - key: place
    kind: media
    text: Send a photo or a voice message of a place you like.
  - key: sound
    kind: media
    text: And a voice message about it?
  - key: thanks
    kind: message
    text: Thank you for the picture!
"""


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, server: FakeTelegramServer
) -> Settings:  # a flow with media steps beside the shipped ones
    folder = tmp_path / "conversations"
    shutil.copytree(ROOT / "conversations", folder)
    (folder / "snapshot.yaml").write_text(SNAPSHOT_FLOW)
    return make_settings(
        database_url,
        tmp_path,
        telegram_token=server.token,
        telegram_api_url=server.base_url,
        conversations_dir=folder,
    )


async def test_photo_and_voice_answers_store_the_file_ids(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    ada = server.user(42, language_code="en")
    await onboard(ada)
    ada.send_command("snapshot")
    replies = await ada.wait_reply(1)
    assert "Send a photo" in texts(replies)[-1]
    ada.send_text("a nice bench")
    reason, _again = await ada.wait_reply(2)
    assert reason.text == "Please send a photo or a voice message."
    ada.send_photo(file_id="PHOTO-FILE-1", caption="the bench")
    (sound,) = await ada.wait_reply(1)
    assert "voice message" in (sound.text or "")
    ada.send_voice()
    replies = await ada.wait_reply(2)
    assert "Thank you for the picture!" in texts(replies)
    answers = await stored_answers(app)
    assert answers["snapshot.place"] == {"kind": "photo", "ref": "PHOTO-FILE-1"}
    voice = answers["snapshot.sound"]
    assert isinstance(voice, dict) and voice["kind"] == "voice"
    assert str(voice["ref"]).startswith("FAKEVOICE-")


async def test_stickers_places_contacts_and_documents_are_answered_kindly(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    ada = server.user(42, language_code="en")
    ada.send_command("start")
    await ada.wait_reply(1)
    for send in (
        ada.send_sticker,
        lambda: ada.send_location(52.35, 6.66),
        ada.send_contact,
        ada.send_document,
        ada.send_photo,
    ):
        send()
        reason, question = await ada.wait_reply(2)
        assert reason.text == "Please choose one of the options."
        assert "Which language" in (question.text or "")
    assert await stored_answers(app) == {}
    ada.press("English")
    await ada.wait_reply(3)


async def test_an_edited_message_is_not_read(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    ada = server.user(42, language_code="en")
    await onboard(ada)
    sent = ada.send_text("The park")
    await ada.wait_reply(2)
    ada.edit_text(sent["message"]["message_id"], "The market")
    (note,) = await ada.wait_reply(1)
    assert note.text == "I do not read changed messages. Please send a new message."
    await server.wait_idle()
    assert (await stored_answers(app))["what-matters.good"] == "The park"


async def test_group_messages_get_one_note_and_are_not_handled(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    ada = server.user(42, language_code="en")
    ada.send_in_group("/start", group_id=-1001234)
    (note,) = await ada.wait_reply(1)
    assert note.chat_id == -1001234
    assert note.text == (
        "I only work in private chats. Please send me a private message: @buurtbot_test_bot"
    )
    ada.send_in_group("hello?", group_id=-1001234)
    await server.wait_idle()
    assert len(server.sent_messages(-1001234)) == 1
    assert await participant(app, ada) is None


async def test_a_deep_link_payload_reaches_the_service(
    app: App, server: FakeTelegramServer, channel: TelegramChannel
) -> None:
    ada = server.user(42, language_code="en")
    ada.send_command("start", "n-kerkelanden_c-poster")  # t.me/<bot>?start=n-kerkelanden_c-poster
    await ada.wait_reply(1)
    ada.press("English")
    await ada.wait_reply(3)
    ada.press("Yes, I agree")
    replies = await ada.wait_reply(2)
    # The neighbourhood came with the link: the next question is the age.
    assert texts(replies)[-1] == "How old are you?"
    await server.wait_idle()
    found = await participant(app, ada)
    assert found is not None and found.neighbourhood == "kerkelanden"
