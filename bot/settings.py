"""Operator settings, read from the environment or a `.env` file (all `BUURTBOT_`).

The names are a contract (see DESIGN.md): deployment scripts and outside tests set them.
"""

from __future__ import annotations

from datetime import time
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot import keyfile

DEFAULT_DATABASE_URL = "sqlite:///data/buurtbot.db"


class SettingsError(ValueError):
    """A setting that cannot work; the message names it (`BUURTBOT_TIMEZONE: ...`)."""


class Settings(BaseSettings):
    """Everything an operator can configure without touching code."""

    model_config = SettingsConfigDict(
        env_prefix="BUURTBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = DEFAULT_DATABASE_URL
    telegram_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: str | None = None
    telegram_webhook_listen: str = "0.0.0.0"
    telegram_webhook_port: int = 8443
    telegram_rate: float = 25
    signal_url: str | None = None
    signal_number: str | None = None
    signal_rate: float = 2
    default_language: str = "nl"
    languages: str = "nl,en,tr,ar,pl,uk"
    timezone: str = "Europe/Amsterdam"
    quiet_hours: str = "21:00-09:00"
    secret_key: str | None = None
    retention_days: int = 365
    # Seconds between the runs of every periodic job; unset, each its own (reminders
    # 5 minutes, expiry 15, retention an hour, ...). To try the jobs out, and for tests.
    jobs_every: float | None = None
    deployment_file: Path = Path("buurtbot.yaml")
    conversations_dir: Path = Path("conversations")
    data_dir: Path = Path("data")
    weekly_broadcast_limit: int = 3
    dashboard_listen: str = "127.0.0.1:8000"
    public_url: str = "http://127.0.0.1:8000"

    @model_validator(mode="after")
    def _public_url_follows_listen(self) -> Settings:
        # Unset, the login links point where the dashboard listens: an operator who moves
        # it to another port must not get links to the old one.
        listen = self.dashboard_listen.strip()
        if "public_url" not in self.model_fields_set and listen and not listen.startswith(":"):
            self.public_url = f"http://{listen}"
        return self

    @field_validator("telegram_token", "telegram_webhook_url", "signal_url", "signal_number")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return value or None

    def check(self) -> None:
        """Raise `SettingsError` for a setting that parses but cannot work."""
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(
                f"BUURTBOT_TIMEZONE: unknown time zone {self.timezone!r} "
                "(a name like Europe/Amsterdam)"
            ) from None
        if not self.language_list:
            raise SettingsError("BUURTBOT_LANGUAGES: no language given (like nl,en,tr)")
        if self.default_language not in self.language_list:
            raise SettingsError(
                f"BUURTBOT_DEFAULT_LANGUAGE: {self.default_language!r} is not one of "
                f"BUURTBOT_LANGUAGES ({self.languages})"
            )
        try:
            _ = self.quiet_window
        except ValueError:
            raise SettingsError(
                f"BUURTBOT_QUIET_HOURS: {self.quiet_hours!r} is not like 21:00-09:00"
            ) from None

    @property
    def dashboard_address(self) -> tuple[str, int] | None:
        """(host, port) the dashboard listens on, or None when it is switched off."""
        text = self.dashboard_listen.strip()
        if not text:
            return None
        host, _, port = text.rpartition(":")
        return (host.strip("[]") or "127.0.0.1"), int(port)

    @property
    def language_list(self) -> list[str]:
        """Offered languages, in the operator's order."""
        return [code.strip() for code in self.languages.split(",") if code.strip()]

    @property
    def quiet_window(self) -> tuple[time, time] | None:
        """Quiet hours as (start, end) local times, or None when there are none."""
        text = self.quiet_hours.strip()
        if not text:
            return None
        start, _, end = text.partition("-")
        return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())

    @cached_property
    def secret(self) -> bytes:
        """The key for pseudonyms and signed buttons; generated once into the data folder."""
        if self.secret_key:
            return self.secret_key.encode()
        return keyfile.read_or_create(self.data_dir / "secret_key").encode()
