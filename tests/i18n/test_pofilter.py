"""CI's pofilter run (scripts/pofilter-check.sh): quiet on our catalogs, loud on a mistake."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.i18n.conftest import ROOT

SCRIPT = ROOT / "scripts" / "pofilter-check.sh"
POFILTER = Path(sys.executable).parent / "pofilter"


def run(locales: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), str(locales)],
        env={"POFILTER": str(POFILTER), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_shipped_catalogs_pass() -> None:
    result = run(ROOT / "locales")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no problems in 6 catalogs" in result.stdout


def test_a_changed_number_fails(tmp_path: Path) -> None:
    locales = tmp_path / "locales"
    shutil.copytree(ROOT / "locales", locales, ignore=shutil.ignore_patterns("*.mo"))
    po = locales / "tr" / "LC_MESSAGES" / "buurtbot.po"
    text = po.read_text(encoding="utf-8")
    text = text.replace('msgstr "5\'ten az"', 'msgstr "6\'dan az"')
    po.write_text(text, encoding="utf-8")
    result = run(locales)
    assert result.returncode == 1
    assert "numbers" in result.stdout and "6'dan az" in result.stdout
