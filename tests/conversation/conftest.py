"""The conversation tests' app with flows of their own beside the shipped ones."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.app import App, build
from tests.conftest import ROOT, make_settings


@asynccontextmanager
async def app_with_flows(database_url: str, tmp_path: Path, **flows: str) -> AsyncIterator[App]:
    """An app whose library holds the shipped flows and `flows` (file stem: YAML text)."""
    folder = tmp_path / "conversations"
    shutil.copytree(ROOT / "conversations", folder)
    for name, text in flows.items():
        (folder / f"{name}.yaml").write_text(text)
    built = build(make_settings(database_url, tmp_path, conversations_dir=folder))
    try:
        yield built
    finally:
        await built.close()
