"""Flows: each conversation with its version, languages and how much is translated."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from pathlib import Path

from aiohttp import web

from bot.dashboard.keys import DASHBOARD, LANGUAGE
from bot.dashboard.render import page
from bot.flows.check import check_folder
from bot.flows.coverage import coverage
from bot.i18n.catalogs import LOCALES_DIR
from bot.settings import Settings


def _flows(folder: Path, languages: list[str]) -> list[dict[str, object]]:
    """Every flow with its coverage; computed again only when a flow or catalog changed."""
    stamp = tuple(
        (str(path), path.stat().st_mtime_ns)
        for path in [
            *sorted(folder.glob("*.yaml")),
            *sorted(LOCALES_DIR.glob("*/LC_MESSAGES/*.po")),
        ]
    )
    return [dict(flow) for flow in _flows_as_of(folder, tuple(languages), stamp)]


@lru_cache(maxsize=4)
def _flows_as_of(
    folder: Path, languages: tuple[str, ...], stamp: tuple[tuple[str, int], ...]
) -> list[dict[str, object]]:
    loaded, _ = check_folder(folder)
    found = []
    for item in sorted(loaded, key=lambda i: i.flow.id):
        flow = item.flow
        found.append(
            {
                "id": flow.id,
                "title": flow.title,
                "version": flow.version,
                "source": flow.language,
                "role": flow.role,
                "command": flow.command,
                "coverage": coverage(item.path, flow.language, list(languages)),
            }
        )
    return found


async def made_ahead(settings: Settings) -> None:
    """The flows page's table, made before anyone asks (it reads every catalog)."""
    await asyncio.to_thread(_flows, settings.conversations_dir, settings.language_list)


async def flows_page(request: web.Request) -> web.StreamResponse:
    state = request.app[DASHBOARD]
    settings = state.app.settings
    languages = settings.language_list
    found = await asyncio.to_thread(_flows, settings.conversations_dir, languages)
    t = state.catalogs(request[LANGUAGE])
    for flow in found:
        flow["title"] = t.pgettext(f"{flow['id']}:title", str(flow["title"]))
    return page(request, "flows.html", flows=found, codes=languages)
