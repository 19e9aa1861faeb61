"""Results counted a moment ago, kept for a minute, so that paging back and forth, and
several coordinators looking at the same thing, do not count 100,000 answers each time.

Keyed by everything the counting depends on (scope, periods, language), so a worker
never gets the results counted for someone with another scope.
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
