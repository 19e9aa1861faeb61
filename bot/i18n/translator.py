"""The gettext calls every part of the bot translates with.

A protocol rather than Babel's class, so that the flow engine, the channels and the
reports can be handed any translator (babel.support.Translations has them all, a test
may hand a simpler one) without importing the catalogs.
"""

from __future__ import annotations

from typing import Protocol


def base_language(code: str) -> str:
    """`pt-BR`, `pt_BR` -> `pt`: the language without its region, for fallbacks."""
    return code.replace("-", "_").split("_")[0].lower()


class Translator(Protocol):
    """The gettext calls the bot uses."""

    def gettext(self, message: str) -> str: ...
    def ngettext(self, singular: str, plural: str, n: int) -> str: ...
    def pgettext(self, context: str, message: str) -> str: ...


def language_of(translator: object) -> str:
    """The language a gettext catalog says it is in (its `Language:` header), or "".

    For texts that do not come from the catalogs but follow the reader's language all
    the same (a poll a worker wrote with translations).
    """
    info = getattr(translator, "info", None)
    if not callable(info):
        return ""
    try:
        found = info()
    except Exception:  # a translator of a test, or one without headers
        return ""
    return str(found.get("language", "")) if isinstance(found, dict) else ""
