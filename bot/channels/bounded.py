"""A small LRU map, so what a channel remembers per chat stays bounded in memory."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

REMEMBERED = 50_000  # chats


class Bounded(OrderedDict[Any, Any]):
    """Keeps the `size` most recently put keys; the oldest go first."""

    def __init__(self, size: int = REMEMBERED):
        super().__init__()
        self.size = size

    def put(self, key: Any, value: Any) -> None:
        self.pop(key, None)
        self[key] = value
        while len(self) > self.size:
            self.popitem(last=False)
