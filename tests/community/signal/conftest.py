"""The Signal channel's fixtures (fake signal-cli daemon, the bot) for community tests."""

from tests.channels.signal.conftest import (  # noqa: F401  (fixtures used by the tests)
    bot,
    conversations,
    daemon,
    signal_settings,
)
