"""The Telegram channel's fixtures (fake Bot API server, channel) for community tests."""

from tests.channels.telegram.conftest import (  # noqa: F401  (fixtures used by the tests)
    channel,
    server,
    settings,
    start_channel,
)
