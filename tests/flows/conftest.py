from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.deployment import load_deployment
from bot.flows.context import FlowContext
from bot.flows.loader import load_flow_text
from bot.flows.model import Flow
from bot.i18n.catalogs import Catalogs

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def catalogs() -> Catalogs:
    return Catalogs(default="nl")


@pytest.fixture
def ctx(catalogs: Catalogs) -> FlowContext:
    return FlowContext(
        language="en",
        translators=catalogs,
        deployment=load_deployment(ROOT / "buurtbot.yaml"),
        today=date(2026, 11, 23),
    )


def flow_from(text: str, name: str = "test.yaml") -> Flow:
    return load_flow_text(text, Path(name)).flow
