"""The Bot API calls of a reply, made without python-telegram-bot's objects.

PTB turns every answer to `sendMessage` or `editMessageText` into a `Message` (with its
keyboard, chat and sender), and every argument into its own parameter objects. A reply
needs none of that, only the id of the message it sent; building them cost about half
the CPU of a call (see benchmarks/README.md). So the reply writer and the channel call
the methods they use most through `BotApi`: plain values in, plain JSON out, over the
bot's own `BaseRequest` (`BaseRequest.post`), which maps Telegram's answers to PTB's
errors (`RetryAfter`, `Forbidden`, `BadRequest`, ...) exactly as PTB's methods do, so
`errors.py` handles both the same way.

Uploads (`sendDocument`) and the rare calls still go through PTB's `Bot`.
"""

from __future__ import annotations

from typing import Any

from telegram import Bot

from bot.channels.telegram.request import CallParameters

Markup = dict[str, Any]
NO_PREVIEW = {"is_disabled": True}


class BotApi:
    """A bot's most frequent Bot API methods, on the bot's own HTTP client."""

    def __init__(self, bot: Bot):
        self.bot = bot

    async def call(self, method: str, **parameters: Any) -> Any:
        """Call `method`; parameters that are None are left out. Raises PTB's errors."""
        url = f"{self.bot.base_url}/{method}"
        return await self.bot.request.post(url, CallParameters(parameters))

    async def send_message(
        self, chat_id: int, text: str, markup: Markup | None = None
    ) -> dict[str, Any]:
        """Send a plain text (no parse mode, no link preview); Telegram's `Message`."""
        sent: dict[str, Any] = await self.call(
            "sendMessage",
            chat_id=chat_id,
            text=text,
            reply_markup=markup,
            link_preview_options=NO_PREVIEW,
        )
        return sent

    async def edit_message_text(self, chat_id: int, message_id: int, text: str) -> None:
        """Replace a message's text; its buttons go."""
        await self.call(
            "editMessageText",
            chat_id=chat_id,
            message_id=message_id,
            text=text,
            link_preview_options=NO_PREVIEW,
        )

    async def edit_message_reply_markup(
        self, chat_id: int, message_id: int, markup: Markup
    ) -> None:
        await self.call(
            "editMessageReplyMarkup", chat_id=chat_id, message_id=message_id, reply_markup=markup
        )

    async def answer_callback_query(
        self, query_id: str, text: str | None = None, alert: bool = False
    ) -> None:
        """Stop the button's spinner, with a short notice or an alert."""
        await self.call(
            "answerCallbackQuery",
            callback_query_id=query_id,
            text=text,
            show_alert=alert or None,
        )
