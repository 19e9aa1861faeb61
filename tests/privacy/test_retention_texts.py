"""What people are told about retention matches `BUURTBOT_RETENTION_DAYS`, in their language."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.app import App, build
from tests.conftest import make_settings
from tests.helpers import Person


@pytest.fixture
async def app_keeping(tmp_path: Path) -> AsyncIterator[Callable[[int], App]]:
    """An app that keeps answers linked for the given number of days."""
    apps: list[App] = []

    def make(days: int) -> App:
        built = build(
            make_settings(f"sqlite:///{tmp_path}/b{days}.db", tmp_path, retention_days=days)
        )
        apps.append(built)
        return built

    yield make
    for built in apps:
        await built.close()


@pytest.mark.parametrize(
    ("days", "language", "consent", "privacy"),
    [
        (
            365,
            "nl",
            "Na 1 jaar zijn je antwoorden niet meer aan jou gekoppeld.",
            "Na 1 jaar zijn je antwoorden niet meer aan jou gekoppeld.",
        ),
        (
            182,
            "en",
            "After 26 weeks, your answers are no longer linked to you.",
            "After 26 weeks, your answers are no longer linked to you.",
        ),
        (
            730,
            "pl",
            "Przez 2 lata twoje odpowiedzi są powiązane z tobą.",
            "Przez 2 lata twoje odpowiedzi są powiązane z tobą.",
        ),
        (100, "tr", "100 gün sonra cevaplarınız", "100 gün sonra cevaplarınız"),
    ],
)
async def test_consent_and_privacy_state_the_configured_period(
    app_keeping: Callable[[int], App], days: int, language: str, consent: str, privacy: str
) -> None:
    app = app_keeping(days)
    person = Person(app.service, user_id=f"77{days}")
    await person.say("/start")
    asked = await person.pick(language)
    assert consent in asked
    assert "{" not in asked  # no placeholder left unfilled
    assert person.question().step == "consent"
    await person.pick("yes")
    assert privacy in await person.say("/privacy")
