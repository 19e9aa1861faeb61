"""Imported exports as an operator uses them: `buurtbot flows import`, `flows check`,
`buurtbot chat --flow ID` in the base language and a translated one, `export answers`.

Every command runs as its own process in a scratch copy of the project (its code,
flows and catalogs), so the import writes that copy's catalogs, and the chat reads them.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
EXPORTS = Path(__file__).parent / "exports"


def environment(database_url: str, data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUURTBOT_")}
    env.update(
        BUURTBOT_DATABASE_URL=database_url,
        BUURTBOT_DATA_DIR=str(data),
        BUURTBOT_SECRET_KEY="import-test",
        BUURTBOT_QUIET_HOURS="",
    )
    return env


def buurtbot(
    project: Path, env: dict[str, str], *args: str, stdin: str = ""
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=project,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project with both exports imported into its conversations."""
    root = tmp_path_factory.mktemp("imported") / "project"
    root.mkdir()
    shutil.copy(ROOT / "babel.cfg", root / "babel.cfg")
    shutil.copy(ROOT / "buurtbot.yaml", root / "buurtbot.yaml")
    skip = shutil.ignore_patterns("*.mo", "__pycache__")
    for folder in ("bot", "conversations", "locales"):
        shutil.copytree(ROOT / folder, root / folder, ignore=skip)
    env = environment(f"sqlite:///{root}/unused.db", root / "data")
    for name in (
        "ureport-water-poll.json",
        "legacy-street-party.json",
        "set-results.json",
        "centre-visit.json",
    ):
        done = buurtbot(root, env, "flows", "import", str(EXPORTS / name))
        assert done.returncode == 0, done.stdout + done.stderr
    return root


def test_import_reports_and_writes_catalogs(project: Path) -> None:
    env = environment(f"sqlite:///{project}/unused.db", project / "data")
    again = buurtbot(project, env, "flows", "import", str(EXPORTS / "ureport-water-poll.json"))
    assert again.returncode == 0
    lines = again.stdout.splitlines()
    assert "imported u-report-water-poll" in lines and "imported registration" in lines
    name = EXPORTS / "ureport-water-poll.json"
    assert f'{name}: flow "Water Hotline (IVR)": a voice flow is not imported' in again.stdout
    assert any(
        line.startswith(f'{name}: flow "U-Report Water Poll" node ') and "call_webhook" in line
        for line in lines
    )
    assert "kept in the catalogs, not offered (BUURTBOT_LANGUAGES): es" in lines
    # The campaign event 14 days after the date Registration sets is its follow-up;
    # the birthday message is not carried over.
    registration = yaml.safe_load((project / "conversations" / "registration.yaml").read_text())
    assert registration["followups"] == [{"after": "2w", "flow": "u-report-water-poll"}]
    assert any(
        line.startswith(f'{name}: campaign "Check-in after registration" event ')
        and "it sends a message, not a flow" in line
        for line in lines
    )
    assert (project / "locales" / "es" / "LC_MESSAGES" / "buurtbot.po").exists()
    check = buurtbot(project, env, "flows", "check")
    assert check.returncode == 0, check.stdout
    coverage = buurtbot(project, env, "i18n", "check", "-v", "-l", "tr", "-l", "nl")
    assert coverage.returncode == 1  # Turkish: the poll is still to translate
    assert "[u-report-water-poll:water_access] 'Do you have clean" in coverage.stdout
    dutch = re.split(r"\n\w+ +nl ", coverage.stdout)[1]
    assert "u-report-water-poll:water_access" not in dutch  # from the export
    assert "buurtfeest-enquete:title" not in dutch  # the legacy flow's own language
    listed = buurtbot(project, env, "flows", "list").stdout
    assert ["buurtfeest-enquete", "v7", "en"] in [line.split() for line in listed.splitlines()]
    # Its base language is Dutch; with an English translation it is written in English,
    # the catalogs' source language, and Dutch is a translation.
    legacy = yaml.safe_load((project / "conversations" / "buurtfeest-enquete.yaml").read_text())
    assert legacy["language"] == "en"
    assert legacy["steps"][0]["text"] == "What do you want to do at the street party?"


def test_poll_runs_in_english_and_dutch_and_exports_under_result_names(
    project: Path, database_url: str, tmp_path: Path
) -> None:
    env = environment(database_url, tmp_path / "data")
    unknown = buurtbot(project, env, "chat", "--flow", "nope")
    assert unknown.returncode == 2 and "no flow 'nope'" in unknown.stderr

    # English (the base language): welcome and consent first, then the poll at once.
    english = buurtbot(
        project,
        env,
        "chat",
        "--user",
        "amir",
        "--language",
        "en",
        "--flow",
        "u-report-water-poll",
        stdin="1\n1\n1\n4\nRain water tank\n4\n",
    )
    out = english.stdout
    assert english.returncode == 0, english.stderr
    assert "Hi! U-Report here. We have 4 quick questions" in out
    # The welcome's next question waits until the poll is done.
    assert "type your postcode" not in out
    assert "Do you have clean drinking water at home?\n\n1. Yes\n2. No" in out
    assert "4. Other" in out and "Please tell us where your water comes from." in out
    assert "Good to hear. Thank you for your answers!" in out
    assert "Which language do you prefer?" in out  # the subflow follows

    # Dutch, a translation from the export.
    dutch = buurtbot(
        project,
        env,
        "chat",
        "--user",
        "anouk",
        "--language",
        "nl",
        "--flow",
        "u-report-water-poll",
        stdin="1\n1\n2\n1\n25\n3\n",
    )
    out = dutch.stdout
    assert "Hoi! Hier is U-Report." in out
    assert "Heb je thuis schoon drinkwater?\n\n1. Ja\n2. Nee" in out
    assert "1. Kraan\n2. Put\n3. Flessen\n4. Anders" in out
    assert "Typ een getal van 1 tot 20." in out
    assert "Bedankt. We vertellen het aan de gemeente." in out

    exported = buurtbot(project, env, "export", "answers", "--flow", "u-report-water-poll")
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(rows) == 2
    for column in ("water_access", "water_source", "water_source_other", "household_size"):
        assert column in rows[0]
    answers = sorted(
        (r["water_access"], r["water_source"], r["water_source_other"], r["household_size"])
        for r in rows
    )
    assert answers == [("no", "tap", "", "3"), ("yes", "other", "Rain water tank", "4")]


def test_legacy_survey_runs_in_dutch_and_polish(project: Path, sqlite_url: str, tmp_path: Path):
    env = environment(sqlite_url, tmp_path / "data")
    dutch = buurtbot(
        project,
        env,
        "chat",
        "--user",
        "sanne",
        "--language",
        "nl",
        "--flow",
        "buurtfeest-enquete",
        stdin="1\n1\n4\nEen rommelmarkt\n",
    )
    assert (
        "Wat wil je op het buurtfeest doen?\n\n1. Koken\n2. Muziek\n3. Sport\n4. Anders"
        in dutch.stdout
    )
    assert "Wat wil je dan doen?" in dutch.stdout and "Bedankt! Tot op het feest." in dutch.stdout
    polish = buurtbot(
        project,
        env,
        "chat",
        "--user",
        "piotr",
        "--language",
        "pl",
        "--flow",
        "buurtfeest-enquete",
        stdin="1\n1\n2\n",
    )
    assert "Co chcesz robić na festynie sąsiedzkim?\n\n1. Gotowanie\n2. Muzyka" in polish.stdout
    assert "Dziękujemy! Do zobaczenia na festynie." in polish.stdout
    # Someone who consented before gets the flow at once, without the welcome.
    again = buurtbot(
        project,
        env,
        "chat",
        "--user",
        "piotr",
        "--language",
        "pl",
        "--flow",
        "buurtfeest-enquete",
        stdin="3\n",
    )
    first = again.stdout.split("> ")[0]
    assert "Co chcesz robić na festynie sąsiedzkim?" in first
    assert "Nederlands" not in first
    assert "Dziękujemy! Do zobaczenia na festynie." in again.stdout


def test_set_results_are_stored_without_asking_and_export_under_result_names(
    project: Path, database_url: str, tmp_path: Path
) -> None:
    env = environment(database_url, tmp_path / "data")
    flow = yaml.safe_load((project / "conversations" / "clean-up-volunteers.yaml").read_text())
    assert [s["kind"] for s in flow["steps"]] == ["choice", "set", "set", "message", "message"]
    chats = [("amir", "en", "1\n1\n1\n"), ("anouk", "nl", "1\n1\n2\n")]
    outs = [
        buurtbot(
            project,
            env,
            "chat",
            "--user",
            user,
            "--language",
            code,
            "--flow",
            "clean-up-volunteers",
            stdin=stdin,
        ).stdout
        for user, code, stdin in chats
    ]
    # Nothing is said for the set steps: the question's answer, then the thanks.
    yes = outs[0].split("Would you help at the clean-up of the neighbourhood?")[1]
    assert yes.split("> ")[1].startswith("Thank you! We will send you the date.")
    assert "Signed up" not in outs[0]
    assert "Geen probleem. Misschien de volgende keer!" in outs[1]

    def rows(*extra: str) -> list[dict[str, str]]:
        done = buurtbot(project, env, "export", "answers", "--flow", "clean-up-volunteers", *extra)
        assert done.returncode == 0, done.stderr
        return list(csv.DictReader(io.StringIO(done.stdout)))

    found = sorted(
        (r["helps"], r["volunteer_status"], r["wijk"], r["neighbourhood"]) for r in rows()
    )
    # The result name is the column; the fixed neighbourhood is in the profile too.
    assert found == [("no", "", "", ""), ("yes", "signed_up", "centrum", "centrum")]
    shown = sorted((r["volunteer_status"], r["wijk"]) for r in rows("--labels", "--language", "en"))
    assert shown == [("", ""), ("Signed up", "Centrum")]


def test_a_subflow_runs_in_the_middle_and_a_result_of_two_branches_is_one_column(
    project: Path, database_url: str, tmp_path: Path
) -> None:
    env = environment(database_url, tmp_path / "data")
    check = buurtbot(project, env, "flows", "check")
    assert check.returncode == 0, check.stdout
    chats = [
        # user, language, onboarding (language, consent), the poll, the subflow, the poll
        ("amir", "en", "1\n1\n", "1\nCards on Tuesday\n", "2\n", "3\n"),
        ("anouk", "nl", "1\n1\n", "2\nMeer voor ouderen\n", "4\n", "5\n"),
    ]
    outs = {}
    for user, code, welcome, before, child, after in chats:
        done = buurtbot(
            project,
            env,
            "chat",
            "--user",
            user,
            "--language",
            code,
            "--flow",
            "community-centre-visit",
            stdin=welcome + before + child + after,
        )
        assert done.returncode == 0, done.stderr
        outs[code] = done.stdout.split("> ")
    # English, the yes branch: the subflow's questions come where enter_flow stands, and
    # the poll goes on after it at its "Complete" exit.
    english = outs["en"]
    assert english[3].startswith("Nice! What do you do there?")
    assert english[4].startswith("How old are you?")
    assert english[5].startswith("Thanks, that is all we need to know about you.")
    assert "Last question: how many evenings a week" in english[5]
    assert english[6].startswith("Thank you for your answers!")
    assert "Wednesday" not in english[6]  # only for who does not come yet
    # Dutch, the no branch, translated from the export; the split on the result of
    # either branch sends the invitation.
    dutch = outs["nl"]
    assert dutch[3].startswith("Wat zou je over de drempel helpen?")
    assert dutch[4].startswith("Hoe oud ben je?")
    assert dutch[5].startswith("Bedankt, meer hoeven we niet van je te weten.")
    assert "Laatste vraag: hoeveel avonden per week" in dutch[5]
    assert dutch[6].startswith("Kom woensdagmiddag eens kijken, de koffie is gratis.")
    assert "Bedankt voor je antwoorden!" in dutch[6]
    # After the poll, the welcome goes on where it was (the neighbourhood).
    assert "Which neighbourhood do you live in?" in english[6]

    exported = buurtbot(project, env, "export", "answers", "--flow", "community-centre-visit")
    assert exported.returncode == 0, exported.stderr
    header = exported.stdout.splitlines()[0].split(",")
    assert header[-4:] == ["comes", "visitor", "reason", "evenings"]  # RapidPro's names
    rows = sorted(
        (r["comes"], r["visitor"], r["reason"], r["evenings"])
        for r in csv.DictReader(io.StringIO(exported.stdout))
    )
    assert rows == [
        ("no", "not_yet", "Meer voor ouderen", "5"),
        ("yes", "regular", "Cards on Tuesday", "3"),
    ]
    child_rows = buurtbot(project, env, "export", "answers", "--flow", "contact-details")
    ages = sorted(r["age_group"] for r in csv.DictReader(io.StringIO(child_rows.stdout)))
    assert ages == ["18-27", "65+"]

    report = buurtbot(
        project, env, "report", "--flow", "community-centre-visit", "--output", str(tmp_path)
    )
    assert report.returncode == 0, report.stderr
    text = (tmp_path / "report.md").read_text(encoding="utf-8")
    headings = [line for line in text.splitlines() if line.startswith("### ")]
    assert headings.count("### visitor") == 1 and "### visitor_2" not in headings
    assert len([h for h in headings if h in ("### Wat doe je daar?", "### reason_2")]) == 1
    visitor = text.split("### visitor")[1].split("###")[0]
    assert "| Vaste bezoeker |" not in visitor  # no Dutch label in the export: its own words
    assert "| Regular visitor |" in visitor and "| Not yet |" in visitor
