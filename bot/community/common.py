"""What the community modules share: translators, dates in a person's language,
pseudonyms, worker-written texts, and queueing through the outbox."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.i18n.format import format_when
from bot.i18n.translator import Translator, base_language
from bot.outbox.quiet_hours import QuietHours
from bot.privacy import pseudonyms
from bot.settings import Settings
from bot.storage.models import Participant

if TYPE_CHECKING:
    from bot.conversation.parts import Parts

log = logging.getLogger("bot.community")


# Ids are INTEGER columns: a number past this is no id (and would overflow the driver).
LARGEST_ID = 2**31 - 1

T = TypeVar("T")


def record_id(value: Any) -> int | None:
    """A typed or stored id (`12`, `#12`), or None when it cannot be one (`abc`, `0`,
    `99999999999999999999`)."""
    text = str(value if value is not None else "").strip().lstrip("#")
    if not text.isdecimal() or len(text) > 12:
        return None
    number = int(text)
    return number if 1 <= number <= LARGEST_ID else None


async def get_record(session: AsyncSession, model: type[T], value: Any) -> T | None:
    """The row of `model` with the id in `value`, or None (also for a nonsense id)."""
    found = record_id(value)
    return None if found is None else await session.get(model, found)


def translator(parts: Parts, participant: Participant) -> Translator:
    """The translator of a person (not necessarily the one in the current turn)."""
    return parts.catalogs(participant.language or parts.settings.default_language)


def language_of(parts: Parts, participant: Participant) -> str:
    return participant.language or parts.settings.default_language


def localised(value: Any, language: str) -> str:
    """A worker's text (`{"_": original, "tr": ...}` or a plain string) in `language`."""
    if not isinstance(value, Mapping):
        return "" if value is None else str(value)
    base = base_language(language)
    for code in (language, base):
        if value.get(code):
            return str(value[code])
    return str(value.get("_", ""))


def worker_text(original: str, translations: Mapping[str, str] | None = None) -> dict[str, str]:
    """A worker-written text with its translations, as activities store it."""
    text: dict[str, str] = {"_": original.strip()}
    for code, translated in (translations or {}).items():
        if translated and translated.strip():
            text[code] = translated.strip()
    return text


def as_worker_text(value: str | Mapping[str, str]) -> dict[str, str]:
    """A plain text, or `{language: text}` (with or without `"_"`: without it, the first
    one is the original), as a worker-written text with translations."""
    if isinstance(value, str):
        return worker_text(value)
    texts = {code: text for code, text in value.items() if code != "_"}
    original = value.get("_") or next(iter(texts.values()), "")
    return worker_text(original, texts)


def when(parts: Parts, moment: datetime, language: str, now: datetime | None = None) -> str:
    """A date and time in `language`, in the deployment's time zone."""
    return format_when(
        moment,
        language,
        parts.settings.timezone,
        translator=parts.catalogs(language),
        now=now,
    )


def when_by_language(
    settings: Settings, catalogs: Any, moment: datetime, languages: Iterable[str]
) -> dict[str, str]:
    """`{"_": in the default language, "nl": ..., "tr": ...}` for a flow variable: the
    flow picks the person's language when it is started at send time."""
    found: dict[str, str] = {}
    for code in dict.fromkeys([settings.default_language, *languages]):
        found[code] = format_when(
            moment, code, settings.timezone, translator=catalogs(code), now=None
        )
    found["_"] = found[settings.default_language]
    return found


def pseudonym(settings: Settings, participant: Participant) -> str:
    """How workers see a resident: never their platform id or phone number."""
    return pseudonyms.of(settings.secret, participant)


def quiet_hours(settings: Settings) -> QuietHours | None:
    return QuietHours.from_settings(settings)


async def notify(
    session: AsyncSession,
    settings: Settings,
    participant_id: int,
    content: dict[str, Any],
    *,
    kind: str = "notice",
    urgent: bool = False,
    due_at: datetime | None = None,
    dedupe_key: str | None = None,
    batch_id: str | None = None,
) -> int | None:
    """Queue one message in the outbox, in the caller's transaction."""
    return await outbox.enqueue(
        session,
        participant_id,
        kind,
        content,
        due_at=due_at,
        urgent=urgent,
        dedupe_key=dedupe_key,
        batch_id=batch_id,
        quiet=quiet_hours(settings),
    )
