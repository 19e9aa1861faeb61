"""Charts for the pages: SVG from the report's own chart code, drawn when the browser
asks for the picture.

A page hands out `/charts/KEY.svg` for each chart and keeps what to draw under that key
for the session that saw the page (random keys, nobody else's session can fetch them);
the picture is drawn in a worker thread when the browser asks, and kept for repeats.
So a page's own time does not wait for Matplotlib, and the numbers drawn are exactly
those of the page's table, already protected by `bot.reports`.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

MAX_CHARTS = 2000


@dataclass
class _Entry:
    session_id: int
    draw: Callable[[], bytes]
    svg: bytes | None = None


class ChartStore:
    """Charts to draw, per session, the oldest forgotten first."""

    def __init__(self, limit: int = MAX_CHARTS):
        self.limit = limit
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def add(self, session_id: int, draw: Callable[[], bytes]) -> str:
        key = secrets.token_urlsafe(16)
        self._entries[key] = _Entry(session_id, draw)
        while len(self._entries) > self.limit:
            self._entries.popitem(last=False)
        return key

    def get(self, key: str, session_id: int) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is None or entry.session_id != session_id:
            return None
        return entry
