"""The dashboard's language: the one chosen with the switch, else the browser's first.

The texts come from the bot's own gettext catalogs (`bot.i18n`), so the dashboard is in
every language the bot speaks, and `buurtbot i18n check` covers it too.
"""

from __future__ import annotations

from aiohttp import web
from babel import Locale, UnknownLocaleError

COOKIE = "buurtbot_lang"
RIGHT_TO_LEFT = frozenset({"ar", "fa", "he", "ur"})


def own_name(code: str) -> str:
    """A language in its own name (Nederlands, Türkçe, العربية), as the switch shows it."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:]


def from_header(header: str) -> list[str]:
    """The languages of an Accept-Language header, most wanted first."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        code, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if code and code != "*" and quality > 0:
            ranked.append((-quality, position, code.strip().lower()))
    return [code for _, _, code in sorted(ranked)]


def choose(request: web.Request, offered: list[str], default: str) -> str:
    """`?lang=`, then the switch's cookie, then the browser's languages, then the default."""
    for wanted in (request.query.get("lang"), request.cookies.get(COOKIE)):
        if wanted in offered:
            return wanted
    for code in from_header(request.headers.get("Accept-Language", "")):
        base = code.replace("_", "-").split("-")[0]
        if base in offered:
            return base
    return default if default in offered else offered[0]
