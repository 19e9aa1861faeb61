"""Alembic environment: runs migrations with the URL that `bot.storage.migrate` passes."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from bot.storage.db import HIDE_PARAMETERS, configure, sync_url
from bot.storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=sync_url(config.get_main_option("sqlalchemy.url") or ""),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(
        sync_url(config.get_main_option("sqlalchemy.url") or ""),
        poolclass=pool.NullPool,
        **HIDE_PARAMETERS,
    )
    configure(engine)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        user_module_prefix="base.",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
