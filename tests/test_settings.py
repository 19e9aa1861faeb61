"""Settings that depend on each other."""

from __future__ import annotations

import pytest

from bot.settings import Settings


def test_login_links_point_where_the_dashboard_listens_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings(_env_file=None).public_url == "http://127.0.0.1:8000"  # type: ignore[call-arg]
    monkeypatch.setenv("BUURTBOT_DASHBOARD_LISTEN", "127.0.0.1:8124")
    assert Settings(_env_file=None).public_url == "http://127.0.0.1:8124"  # type: ignore[call-arg]
    monkeypatch.setenv("BUURTBOT_PUBLIC_URL", "https://buurtbot.example.nl")
    assert Settings(_env_file=None).public_url == "https://buurtbot.example.nl"  # type: ignore[call-arg]
