"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from bot.storage.db import sync_url
from bot.storage.migrate import upgrade
from bot.storage.models import Base


def test_upgrade_creates_the_model_schema(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)  # a second run is a no-op
    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        assert {"participants", "conversations", "answers", "alembic_version"} <= tables
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []
