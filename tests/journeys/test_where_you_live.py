"""Where you live: one postcode, one neighbourhood, said back to the person.

A deployment file that gives a postcode to two neighbourhoods is refused, by
`buurtbot flows check` and at start-up, naming both (the shipped file used to put all
of Haghoek in De Riet). A typed postcode is answered with the neighbourhood it matched;
the person confirms it or chooses another.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.channels.signal.conftest import option
from tests.conftest import ROOT
from tests.journeys.conftest import World
from tests.processes import environment

pytestmark = pytest.mark.postgres

OVERLAPPING = """\
organisation:
  name: Welzijn Almelo
  town: Almelo
neighbourhoods:
  - key: de-riet
    name: De Riet / Nieuwland
    postcodes: ["7601", "7604"]
  - key: haghoek
    name: Haghoek / Aalderinkshoek
    postcodes: ["7604AA-7604KZ"]
"""


def buurtbot(tmp_path: Path, deployment: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = environment(f"sqlite:///{tmp_path}/cli.db", tmp_path, deployment_file=str(deployment))
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("command", [("flows", "check"), ("run",)])
def test_overlapping_postcodes_are_refused(tmp_path: Path, command: tuple[str, ...]) -> None:
    deployment = tmp_path / "buurtbot.yaml"
    deployment.write_text(OVERLAPPING)
    done = buurtbot(tmp_path, deployment, *command)
    # `flows check` reports problems (exit 1); any other command refuses to start with a
    # deployment file that cannot work, as a usage error (exit 2).
    assert done.returncode == (1 if command == ("flows", "check") else 2)
    output = done.stdout + done.stderr
    assert (
        f"{deployment}:10: postcode 7604AA-7604KZ of Haghoek / Aalderinkshoek overlaps "
        "7604 of De Riet / Nieuwland (line 7)"
    ) in output
    assert "Traceback" not in output
    assert not (tmp_path / "cli.db").exists() or command == ("flows", "check")


def test_the_shipped_deployment_has_no_overlap(tmp_path: Path) -> None:
    done = buurtbot(tmp_path, ROOT / "buurtbot.yaml", "flows", "check")
    assert done.returncode == 0, done.stdout + done.stderr


async def test_a_postcode_is_said_back_and_can_be_corrected(world: World) -> None:
    # Telegram: Haghoek's postcode now lands in Haghoek, and is confirmed with a button.
    anouk = world.server.user(950, "Anouk", language_code="en")
    await world.tg(anouk, lambda: anouk.send_command("start"), "English")
    await world.tg(anouk, lambda: anouk.press("English"), "Yes, I agree")
    await world.tg(anouk, lambda: anouk.press("Yes, I agree"), "Which neighbourhood")
    said = await world.tg(anouk, lambda: anouk.send_text("7604 AB"), "Do you live there?")
    assert "This postcode is in Haghoek / Aalderinkshoek" in said
    # Bad input: the yes/no question again, not the list (a typed 1 there would pick one).
    again = await world.tg(anouk, lambda: anouk.send_text("🏠🏠"), "Do you live there?")
    assert "Haghoek / Aalderinkshoek" in again
    await world.tg(anouk, lambda: anouk.press("Yes"), "How old")
    assert (await world.participant("telegram", str(anouk.user_id))).neighbourhood == "haghoek"

    # Signal: a matched neighbourhood that is wrong is corrected by choosing another.
    emre = world.daemon.person("Emre")
    reply = await world.sg(emre, "Hello")
    reply = await world.sg(emre, option(reply, "English"))
    reply = await world.sg(emre, "1")
    reply = await world.sg(emre, "7606AB")
    assert "This postcode is in Kerkelanden. Do you live there?" in reply
    reply = await world.sg(emre, "no")
    assert "Which neighbourhood do you live in?" in reply and "1. Centrum" in reply
    reply = await world.sg(emre, option(reply, "Centrum"))
    assert "How old are you?" in reply
    assert (await world.participant("signal", emre.uuid)).neighbourhood == "centrum"

    # ... and a right one is confirmed by typing yes.
    piet = world.daemon.person("Piet")
    reply = await world.sg(piet, "Hello")
    reply = await world.sg(piet, option(reply, "English"))
    await world.sg(piet, "1")
    assert "Kerkelanden" in await world.sg(piet, "7606 ab")
    assert "How old are you?" in await world.sg(piet, "yes")
    assert (await world.participant("signal", piet.uuid)).neighbourhood == "kerkelanden"
