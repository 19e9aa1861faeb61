"""Python's garbage collector, set for a long-running bot.

At start-up the bot loads everything it keeps until it stops: modules, flows, catalogs,
the deployment. With the default settings the cyclic collector walks all of that again
every few thousand allocations, and a busy bot allocates a lot (every update, every
query). The Telegram benchmark spent a sixth to a quarter of its CPU there (see
benchmarks/README.md). So once started, the bot moves what it has into the collector's
permanent generation (`gc.freeze`) and collects the youngest generation less often.
Memory freed by reference counting, which is nearly all of it, is freed at once as before.
"""

from __future__ import annotations

import gc

YOUNGEST = 50_000  # allocations between collections of the youngest generation (default 700)


def settle() -> None:
    """Call once the bot has started: what exists now lives as long as the process."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNGEST, middle, oldest)
