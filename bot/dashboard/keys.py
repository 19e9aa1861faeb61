"""Typed keys for what the dashboard keeps on the aiohttp application and request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.community.logins import Viewer

if TYPE_CHECKING:
    from bot.dashboard.server import Dashboard

DASHBOARD: web.AppKey[Dashboard] = web.AppKey("dashboard")
VIEWER: web.RequestKey[Viewer] = web.RequestKey("viewer")
LANGUAGE: web.RequestKey[str] = web.RequestKey("language")
