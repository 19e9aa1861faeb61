"""Loading the gettext catalogs, with the fallback chain every text goes through.

requested (`pt_BR`) -> its base language (`pt`) -> the deployment default -> the source
text. Catalogs are compiled from the `.po` files in memory when no up-to-date `.mo` is
there, so a fresh clone works without a build step.
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from bot.i18n.translator import base_language

DOMAIN = "buurtbot"


def _locales_dir() -> Path:
    """The catalogs beside the source tree, or in the working folder (an installed image)."""
    beside = Path(__file__).resolve().parents[2] / "locales"
    return beside if beside.is_dir() else Path.cwd() / "locales"


LOCALES_DIR = _locales_dir()


def normalise_code(code: str) -> str:
    """Telegram's `pt-br` and gettext's `pt_BR` name the same folder: `pt_BR`."""
    language, _, region = code.replace("-", "_").partition("_")
    return f"{language.lower()}_{region.upper()}" if region else language.lower()


def _load_one(folder: Path, language: str) -> NullTranslations | None:
    base = folder / language / "LC_MESSAGES"
    po, mo = base / f"{DOMAIN}.po", base / f"{DOMAIN}.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return Translations(handle, domain=DOMAIN)
    if not po.exists():
        return None
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


class Catalogs:
    """Translators per language, cached, each with its fallbacks attached."""

    def __init__(self, folder: Path = LOCALES_DIR, default: str = "nl"):
        self.folder = folder
        self.default = default
        self._cache: dict[str, gettext.NullTranslations] = {}
        self._loaded: dict[str, NullTranslations | None] = {}

    def _catalog(self, language: str) -> NullTranslations | None:
        if language not in self._loaded:
            self._loaded[language] = _load_one(self.folder, language)
        return self._loaded[language]

    def chain(self, language: str | None) -> list[str]:
        """The languages tried for `language`, in order."""
        order: list[str] = []
        requested = normalise_code(language) if language else ""
        for code in [requested, base_language(requested), self.default]:
            if code and code not in order:
                order.append(code)
        return order

    def translator(self, language: str | None) -> gettext.NullTranslations:
        key = language or self.default
        if key not in self._cache:
            first: gettext.NullTranslations | None = None
            for code in self.chain(language):
                catalog = self._catalog(code)
                if catalog is None:
                    continue
                if first is None:
                    first = _fresh(catalog)
                else:
                    first.add_fallback(_fresh(catalog))
            self._cache[key] = first or NullTranslations()
        return self._cache[key]

    def __call__(self, language: str) -> gettext.NullTranslations:
        return self.translator(language)

    def load(self, languages: list[str]) -> None:
        """Read the catalogs of `languages` now rather than on first use (reading one
        from its `.po` takes about 15 ms)."""
        for language in languages:
            self.translator(language)

    def available(self) -> list[str]:
        if not self.folder.exists():
            return []
        return sorted(p.name for p in self.folder.iterdir() if (p / "LC_MESSAGES").is_dir())


def _fresh(catalog: NullTranslations) -> NullTranslations:
    """A copy whose fallback can be set without touching the cached catalog."""
    copy = Translations.__new__(type(catalog))
    copy.__dict__.update(catalog.__dict__)
    copy._fallback = None  # type: ignore[attr-defined]
    return copy


@cache
def default_catalogs() -> Catalogs:
    return Catalogs()
