"""Applying the Alembic migrations, from the command line and at start-up."""

from __future__ import annotations

import zlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, make_url, text

from bot.settings import SettingsError
from bot.storage.db import ensure_sqlite_folder, sync_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return config


# Several `buurtbot run` starting at once on one PostgreSQL (`docker compose up --scale
# bot=3`) would each apply the migrations: one at a time, under this advisory lock.
MIGRATION_LOCK = 0x42757572  # "Buur"


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (the newest by default)."""
    ensure_sqlite_folder(url)
    if make_url(url).get_backend_name() != "postgresql":
        command.upgrade(alembic_config(url), revision)
        return
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            schema = connection.execute(text("SELECT current_schema()")).scalar_one()
            if schema is None:
                raise SettingsError(
                    "BUURTBOT_DATABASE_URL: PostgreSQL has no schema to keep the tables in "
                    "(the search_path names none that exists). Create it first "
                    "(CREATE SCHEMA name), or leave out the search_path option."
                )
            key = {"lock": MIGRATION_LOCK, "schema": zlib.crc32(schema.encode()) & 0x3FFFFFFF}
            connection.execute(text("SELECT pg_advisory_lock(:lock, :schema)"), key)
            try:
                command.upgrade(alembic_config(url), revision)
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:lock, :schema)"), key)
    finally:
        engine.dispose()


def revision(url: str, message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
