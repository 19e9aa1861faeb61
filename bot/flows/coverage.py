"""How much of one flow is translated into each language, for the dashboard's flows page.

A flow's texts are found by the same extractor that fills the catalogs
(`bot.i18n.extract`), and each is looked up in that language's catalog (the `.po` file) alone,
without the fallback to the default language, so a missing translation counts as
missing (and one that happens to read like the source, such as a name, as translated).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot.flows.extract import extract_flows
from bot.i18n.catalogs import LOCALES_DIR

DOMAIN = "buurtbot"


def flow_texts(path: Path) -> list[tuple[str, str]]:
    """(msgctxt, text) of every translatable text of a flow file."""
    with path.open("rb") as handle:
        return [
            (context, text)
            for _, _, (context, text), _ in extract_flows(handle, (), (), {"encoding": "utf-8"})
        ]


def _catalog(code: str, folder: Path) -> Catalog | None:
    path = folder / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return None
    return _read(path, code, path.stat().st_mtime_ns)


@lru_cache(maxsize=16)
def _read(path: Path, code: str, mtime: int) -> Catalog:
    """A catalog, read once for each version of its file."""
    with path.open("rb") as handle:
        return read_po(handle, locale=code)


def coverage(
    path: Path, source: str, languages: Iterable[str], folder: Path = LOCALES_DIR
) -> dict[str, float]:
    """Percent of the flow's texts translated, per language (100 for its own)."""
    texts = flow_texts(path)
    found: dict[str, float] = {}
    for code in languages:
        if code == source or not texts:
            found[code] = 100.0
            continue
        catalog = _catalog(code, folder)
        done = 0
        if catalog is not None:
            for context, text in texts:
                message = catalog.get(text, context=context)
                done += message is not None and bool(message.string) and not message.fuzzy
        found[code] = 100.0 * done / len(texts)
    return found
