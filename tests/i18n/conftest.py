"""Shared pieces for the translation tests: scratch copies of the project."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.i18n import workflow

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ["nl", "en", "tr", "ar", "pl", "uk"]


def copy_project(target: Path, source: Path = ROOT) -> workflow.Project:
    """babel.cfg, the flows, the catalogs and the bot's code in a scratch folder."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "babel.cfg", target / "babel.cfg")
    skip = shutil.ignore_patterns("*.mo", "__pycache__")
    for folder in ("conversations", "locales", "bot"):
        shutil.copytree(source / folder, target / folder, ignore=skip)
    return workflow.Project(root=target)


def complete(project: workflow.Project, languages: list[str]) -> None:
    """Bring the catalogs up to date with the sources; fill what is still open.

    Other texts may be on their way into the real catalogs while these tests run; the
    tests are about the workflow, so they start from complete catalogs.
    """
    workflow.write_template(project)
    workflow.update(project, languages)
    for language in languages:
        catalog = workflow._read(project.po(language), language)
        for message in catalog:
            if message.id and (message.fuzzy or not workflow._filled(message)):
                ids = [message.id] if isinstance(message.id, str) else list(message.id)
                forms = (ids + ids[-1:] * catalog.num_plurals)[: catalog.num_plurals]
                message.string = ids[0] if isinstance(message.id, str) else tuple(forms)
                message.flags.discard("fuzzy")
        project.po(language).write_bytes(workflow._po_bytes(catalog))
    # A text filled with its English does not use the glossary's words: the glossary
    # has its own tests (test_review.py).
    project.glossary.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def _complete_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("complete") / "project")
    complete(project, LANGUAGES)
    return project.root


@pytest.fixture
def project(tmp_path: Path, _complete_copy: Path) -> workflow.Project:
    """A scratch copy of this checkout, its catalogs complete and up to date."""
    return copy_project(tmp_path / "project", _complete_copy)
