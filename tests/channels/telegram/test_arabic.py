"""Arabic on Telegram reads right: commands, dates and examples in reading order.

The texts go over real HTTP to the fake Bot API; what it received is laid out with the
Unicode bidi algorithm (python-bidi), as the Telegram app lays it out.
"""

from __future__ import annotations

import pytest
from bidi import get_display

from bot.channels.telegram import TelegramChannel
from tests.channels.telegram.conftest import texts
from tests.fakes.telegram_api import FakeTelegramServer

pytestmark = pytest.mark.postgres

CONTROLS = dict.fromkeys(map(ord, "\u2066\u2067\u2068\u2069\u200e\u200f"))


def shown(text: str) -> str:
    return "\n".join(get_display(line).translate(CONTROLS) for line in text.split("\n"))


async def test_consent_and_help_in_arabic(
    channel: TelegramChannel, server: FakeTelegramServer
) -> None:
    user = server.user(4242, "Rania", language_code="ar")
    user.send_command("start")
    await user.wait_reply(1)
    user.press("العربية")
    consent = texts(await user.wait_reply(3))[-1]
    assert "وفئتك العمرية ولغتك" in consent  # all that is kept, as /privacy says
    assert "/mydata" in shown(consent) and "/forget" in shown(consent)
    assert "mydata/" not in shown(consent) and "forget/" not in shown(consent)
    user.press("نعم، أوافق")
    await user.wait_reply(2)
    user.send_command("help")
    [help_text, *_] = texts(await user.wait_reply(2))
    lines = shown(help_text).split("\n")
    for command in ("/language", "/privacy", "/mydata", "/forget", "/stop", "/propose"):
        [line] = [line for line in lines if command in line]
        assert line.startswith(command), line  # at the end of the Arabic sentence
    assert "stop/" not in shown(help_text)
