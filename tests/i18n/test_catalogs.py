"""The shipped catalogs, and the fallback chain every text goes through."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from bot.i18n import workflow
from bot.i18n.catalogs import Catalogs

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ["nl", "en", "tr", "ar", "pl", "uk"]
PLURALS = {"nl": 2, "en": 2, "tr": 2, "ar": 6, "pl": 3, "uk": 3}
MSGFMT = shutil.which("msgfmt") or ("/usr/bin/msgfmt" if Path("/usr/bin/msgfmt").exists() else None)


def _po(folder: Path, language: str, texts: dict[tuple[str | None, str], str]) -> None:
    catalog = Catalog(locale=language)
    for (context, msgid), msgstr in texts.items():
        catalog.add(msgid, msgstr, context=context)
    path = folder / language / "LC_MESSAGES" / "buurtbot.po"
    path.parent.mkdir(parents=True)
    with path.open("wb") as handle:
        write_po(handle, catalog)


def test_fallback_chain_pt_br_pt_default_source(tmp_path: Path) -> None:
    _po(tmp_path, "pt_BR", {(None, "Hello"): "Oi"})
    _po(tmp_path, "pt", {(None, "Hello"): "Olá", (None, "Thank you"): "Obrigado"})
    _po(
        tmp_path,
        "nl",
        {(None, "Hello"): "Hallo", (None, "Thank you"): "Dank je", (None, "Bye"): "Doei"},
    )
    catalogs = Catalogs(tmp_path, default="nl")
    assert catalogs.chain("pt_BR") == ["pt_BR", "pt", "nl"]
    t = catalogs("pt_BR")
    assert t.gettext("Hello") == "Oi"  # the requested language
    assert t.gettext("Thank you") == "Obrigado"  # its base language
    assert t.gettext("Bye") == "Doei"  # the deployment default
    assert t.gettext("Not translated") == "Not translated"  # the source text
    assert catalogs("so").gettext("Thank you") == "Dank je"  # no catalog at all


def test_a_fresh_clone_needs_no_compiled_catalogs(tmp_path: Path) -> None:
    """No .mo files: the .po files are compiled in memory."""
    shutil.copytree(ROOT / "locales", tmp_path / "locales", ignore=shutil.ignore_patterns("*.mo"))
    t = Catalogs(tmp_path / "locales", default="nl")("tr")
    assert t.gettext("Yes") == "Evet"
    assert t.pgettext("onboarding:age_group", "How old are you?") == "Kaç yaşındasınız?"


@pytest.mark.parametrize("language", SHIPPED)
def test_shipped_catalog_headers(language: str) -> None:
    catalog = workflow._read(workflow.Project().po(language), language)
    assert catalog.num_plurals == PLURALS[language]
    assert catalog.plural_expr == workflow.plural_forms(language)[1]
    assert str(catalog.locale) == language


@pytest.mark.parametrize("language", SHIPPED)
def test_shipped_translations_keep_their_placeholders(language: str) -> None:
    catalog = workflow._read(workflow.Project().po(language), language)
    wrong = {
        str(message.id): error
        for message in catalog
        if message.id
        and workflow._filled(message)
        and (error := workflow.placeholder_errors(message, catalog.num_plurals))
    }
    assert wrong == {}


@pytest.mark.skipif(MSGFMT is None, reason="msgfmt (GNU gettext) is not installed")
@pytest.mark.parametrize("language", SHIPPED)
def test_msgfmt_accepts_every_shipped_catalog(language: str) -> None:
    po = workflow.Project().po(language)
    result = subprocess.run(
        [str(MSGFMT), "--check", "--output-file=/dev/null", str(po)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("language", SHIPPED)
def test_flow_texts_end_like_their_source(language: str) -> None:
    """A source text ending in a newline keeps it in translation (and vice versa)."""
    catalog = workflow._read(workflow.Project().po(language), language)
    for message in catalog:
        if message.id and isinstance(message.id, str) and workflow._filled(message):
            assert message.id.endswith("\n") == message.string.endswith("\n"), message.id
