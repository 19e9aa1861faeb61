"""Results pages' tables made a moment ago, kept for a minute, so that paging back and
forth, and several coordinators looking at the same thing, do not build and protect the
same tables again.

Keyed by everything the tables depend on (scope, periods, language, and the marks of
the counts they were made of: `bot.dashboard.counted`), so a worker never gets tables
made for someone with another scope, nor tables of older data.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

TTL_SECONDS = 60.0
MAX_ENTRIES = 64


class Recent:
    def __init__(self, ttl: float = TTL_SECONDS, size: int = MAX_ENTRIES):
        self.ttl = ttl
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()

    def get(self, key: Hashable) -> Any | None:
        found = self._entries.get(key)
        if found is None or time.monotonic() - found[0] > self.ttl:
            self._entries.pop(key, None)
            return None
        return found[1]

    def put(self, key: Hashable, value: Any) -> None:
        self._entries[key] = (time.monotonic(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
