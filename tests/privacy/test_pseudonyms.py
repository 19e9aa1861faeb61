"""Pseudonyms are stable, keyed and shaped as promised; redaction takes out contact details."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.privacy.pseudonyms import pseudonym
from bot.privacy.redact import MARK, redact

SHAPE = re.compile(r"^P-[A-Z2-7]{10}$")
WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_stable_and_shaped() -> None:
    first = pseudonym(b"secret-one", 42, WHEN)
    assert SHAPE.match(first)
    assert pseudonym(b"secret-one", 42, WHEN) == first
    # The same instant in another zone is the same person.
    assert pseudonym(b"secret-one", 42, WHEN.astimezone()) == first


def test_differs_with_another_secret_person_or_creation_time() -> None:
    base = pseudonym(b"secret-one", 42, WHEN)
    assert pseudonym(b"secret-two", 42, WHEN) != base
    assert pseudonym(b"secret-one", 43, WHEN) != base
    # An id reused for a new person after an erasure gives another pseudonym.
    assert pseudonym(b"secret-one", 42, WHEN.replace(minute=1)) != base


def test_no_collisions_in_a_town() -> None:
    names = {pseudonym(b"k", i, WHEN) for i in range(20_000)}
    assert len(names) == 20_000


@pytest.mark.parametrize(
    "text",
    [
        "Bel me op 06-12345678",
        "bel 0612345678 maar",
        "call +31 6 1234 5678 please",
        "+31 (0)6 12 34 56 78",
        "my telegram id is 600000007",
        "mail jan.jansen@example.org",
        "I am @janjansen on telegram",
    ],
)
def test_contact_details_are_taken_out(text: str) -> None:
    cleaned = redact(text)
    assert MARK in cleaned
    assert not re.search(r"\d{5,}|@\w", cleaned.replace(" ", "").replace("-", ""))


@pytest.mark.parametrize(
    "text", ["Op 12-05-2026 om 14:00", "Huisnummer 12", "2026", "Een moestuin voor 30 mensen"]
)
def test_ordinary_text_stays(text: str) -> None:
    assert redact(text) == text
