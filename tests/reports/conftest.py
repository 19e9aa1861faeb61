"""Fixtures for the report tests: a migrated database, the flows with a test flow, labels."""

from __future__ import annotations

from gettext import NullTranslations
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.deployment import Deployment, load_deployment
from bot.flows.library import FlowLibrary
from bot.storage.migrate import upgrade
from tests.conftest import ROOT
from tests.reports.seed import conversations_with_test_flow, engine_for

SECRET = b"report-test-secret"


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    return conversations_with_test_flow(ROOT, tmp_path / "conversations")


@pytest.fixture
def library(flows_dir: Path) -> FlowLibrary:
    return FlowLibrary.load(flows_dir)


@pytest.fixture
def deployment() -> Deployment:
    return load_deployment(ROOT / "buurtbot.yaml")


@pytest.fixture
def t() -> NullTranslations:
    return NullTranslations()


@pytest.fixture
def db_url(database_url: str) -> str:
    """A migrated, empty database (SQLite file, or a PostgreSQL schema)."""
    upgrade(database_url)
    return database_url


@pytest.fixture
def engine(db_url: str):
    made: Engine = engine_for(db_url)
    yield made
    made.dispose()
