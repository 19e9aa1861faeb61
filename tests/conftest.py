"""Shared fixtures: real databases (SQLite always, PostgreSQL when configured) and the app."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from bot.app import App, build
from bot.settings import Settings
from bot.storage.db import sync_url

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("BUURTBOT_TEST_DATABASE_URL")


def postgres_schema_url(schema: str) -> str:
    assert PG_URL
    url = make_url(sync_url(PG_URL)).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/buurtbot.db"
        return
    if not PG_URL:
        pytest.skip("BUURTBOT_TEST_DATABASE_URL is not set")
    schema = "test_" + uuid.uuid4().hex[:12]
    admin = create_engine(sync_url(PG_URL))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield postgres_schema_url(schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/buurtbot.db"


def make_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "data_dir": tmp_path / "data",
        "secret_key": "test-secret",
        "deployment_file": ROOT / "buurtbot.yaml",
        "conversations_dir": ROOT / "conversations",
        "quiet_hours": "",
        "dashboard_listen": "",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[App]:
    built = build(settings)
    try:
        yield built
    finally:
        await built.close()
