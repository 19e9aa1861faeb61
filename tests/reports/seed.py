"""Seeding a database fast with realistic participants, conversations and answers.

Rows go in with bulk inserts (no conversation service), so thousands of participants
take a second. Participants get chat ids that look like Telegram user ids and Signal
phone numbers, and some free-text answers carry phone numbers, e-mail addresses and
their own id, so tests can check that none of it reaches an export or a report.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, insert

from bot.storage import answer_order
from bot.storage.db import configure, sync_url
from bot.storage.models import Answer, Conversation, Participant

NEIGHBOURHOODS = ["centrum", "de-riet", "kerkelanden", "schelfhorst", "windmolenbroek"]
SMALL = "haghoek"  # a neighbourhood with fewer than 5 people
LANGUAGES = ["nl", "nl", "nl", "en", "tr", "ar", "pl", "uk"]
CHANGE = ["green", "cooking", "sport", "meeting", "safety", "money", "health", "youth", "other"]
CONTRIBUTE = ["time", "skill", "place", "nothing"]
WHAT_MATTERS = [
    "good",
    "change",
    "change_why",
    "want_to_do",
    "contribute",
    "keep_informed",
]
CONTACT_TEXTS = [
    "Bel me op 06-12345678 voor meer",
    "call +31 6 2345 6789 please",
    "mail me: jan.jansen@example.org",
    "my telegram is @janjansen",
]
# What must never appear in an export or report: 9+ digits (ids, phone numbers), with
# or without the separators people type.
PHONE_LIKE = re.compile(r"(?<![\d.])\+?\d(?:[ -]?\d){8,}")
NOT_PHONES = re.compile(
    r"P-[A-Z2-7]{10}|\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
    r"(?:[+-]\d{2}:\d{2})?"
)


def telegram_id(i: int) -> str:
    return str(600_000_000 + i * 7919)


def signal_number(i: int) -> str:
    return f"+3161{i:07d}"


def phone_like(text: str) -> list[str]:
    """Phone-like numbers in a text, after taking out pseudonyms and timestamps."""
    return PHONE_LIKE.findall(NOT_PHONES.sub(" ", text))


@dataclass
class Seeded:
    participants: int = 0
    conversations: int = 0
    answers: int = 0
    user_ids: list[str] = field(default_factory=list)
    per_neighbourhood: dict[str, int] = field(default_factory=dict)
    finished: int = 0


def engine_for(url: str) -> Engine:
    engine = create_engine(sync_url(url))
    configure(engine)
    return engine


def seed(
    url: str,
    *,
    participants: int = 200,
    small: int = 3,
    seed_value: int = 7,
    now: datetime | None = None,
    days: int = 90,
    finish_rate: float = 0.8,
    extra_flows: bool = True,
    sizes: dict[str, int] | None = None,
) -> Seeded:
    """Insert `participants` people (plus `small` in the small neighbourhood), each with
    an onboarding and a what-matters conversation and, when `extra_flows`, some feedback
    (the `test-feedback` flow of the test library). `sizes` adds that many people in
    those neighbourhoods."""
    rng = random.Random(seed_value)
    now = now or datetime.now(UTC)
    engine = engine_for(url)
    result = Seeded()
    people = []
    placed = [NEIGHBOURHOODS[i % len(NEIGHBOURHOODS)] for i in range(participants)]
    placed += [SMALL] * small
    for key, n in (sizes or {}).items():
        placed += [key] * n
    for i, nb in enumerate(placed):
        channel = "signal" if i % 4 == 0 else "telegram"
        uid = signal_number(i) if channel == "signal" else telegram_id(i)
        joined = now - timedelta(days=rng.uniform(0, days), minutes=rng.uniform(0, 600))
        people.append(
            {
                "channel": channel,
                "channel_user_id": uid,
                "language": rng.choice(LANGUAGES),
                "neighbourhood": nb,
                "age_group": rng.choice(["12-17", "18-27", "28-64", "65+"]),
                "interests": rng.sample(CHANGE[:8], 2),
                "role": "resident",
                "consented_at": joined,
                "consent_version": "2026-11",
                "created_at": joined,
                "last_seen_at": joined,
            }
        )
        result.user_ids.append(uid)
        result.per_neighbourhood[nb] = result.per_neighbourhood.get(nb, 0) + 1
    with engine.begin() as connection:
        ids = (
            connection.execute(
                insert(Participant).returning(Participant.id, sort_by_parameter_order=True),
                people,
            )
            .scalars()
            .all()
        )
        conversations = []
        plans = []
        for pid, person in zip(ids, people, strict=True):
            start = person["created_at"]
            finished = rng.random() < finish_rate
            stop_at = len(WHAT_MATTERS) if finished else rng.randrange(0, len(WHAT_MATTERS))
            conversations.append(_conversation(pid, "onboarding", start, True))
            conversations.append(
                _conversation(pid, "what-matters", start + timedelta(minutes=2), finished)
            )
            plans.append((pid, person, "onboarding", None))
            plans.append((pid, person, "what-matters", stop_at))
            result.finished += finished
            if extra_flows and rng.random() < 0.5:
                conversations.append(
                    _conversation(pid, "test-feedback", start + timedelta(days=1), True)
                )
                plans.append((pid, person, "test-feedback", None))
        cids = (
            connection.execute(
                insert(Conversation).returning(Conversation.id, sort_by_parameter_order=True),
                conversations,
            )
            .scalars()
            .all()
        )
        answers = []
        for cid, conv, (pid, person, flow, stop_at) in zip(cids, conversations, plans, strict=True):
            at = conv["started_at"]
            for step, value, raw, skipped in _answers(flow, person, stop_at, rng, pid):
                at += timedelta(seconds=20)
                answers.append(
                    {
                        "participant_id": pid,
                        "conversation_id": cid,
                        "flow_id": flow,
                        "flow_version": 1,
                        "step_key": step,
                        "value": value,
                        "raw": raw,
                        "skipped": skipped,
                        "language": person["language"],
                        "neighbourhood": person["neighbourhood"],
                        "created_at": at,
                    }
                )
        for chunk in range(0, len(answers), 5000):
            connection.execute(insert(Answer), answers[chunk : chunk + 5000])
        answer_order.order_everyone(connection)
    engine.dispose()
    result.participants = len(ids)
    result.conversations = len(cids)
    result.answers = len(answers)
    return result


def _conversation(pid: int, flow: str, start: datetime, finished: bool) -> dict:
    return {
        "participant_id": pid,
        "flow_id": flow,
        "flow_version": 1,
        "status": "finished" if finished else "expired",
        "state": {"flow": flow, "version": 1, "step": None, "values": {}},
        "started_at": start,
        "updated_at": start + timedelta(minutes=5),
        "finished_at": start + timedelta(minutes=5) if finished else None,
    }


def _answers(flow: str, person: dict, stop_at: int | None, rng: random.Random, pid: int):
    if flow == "onboarding":
        yield "neighbourhood", person["neighbourhood"], "", False
        yield "age_group", person["age_group"], "", False
        yield "interests", person["interests"], "", False
        return
    if flow == "test-feedback":
        yield "went", True, "", False
        yield "rating", rng.choice([3, 4, 4, 5, 5]), "", False
        yield "good", "De barbecue was top", "De barbecue was top", False
        return
    for step in WHAT_MATTERS[:stop_at]:
        if step == "good":
            if rng.random() < 0.1:
                yield step, None, "", True
                continue
            text = rng.choice(["Het park", "De markt", "Mijn buren", "The library"])
            if pid % 10 == 3:
                text = f"{text}. {CONTACT_TEXTS[pid % len(CONTACT_TEXTS)]}"
            if pid % 10 == 4:
                text = f"{text}, my id is {telegram_id(pid)}"
            yield step, text, text, False
        elif step == "change":
            yield step, rng.sample(CHANGE, rng.randint(1, 3)), "", False
        elif step == "change_why":
            yield step, "Meer bankjes", "Meer bankjes", False
        elif step == "want_to_do":
            yield step, "Een moestuin beginnen", "Een moestuin beginnen", False
        elif step == "contribute":
            yield step, rng.sample(CONTRIBUTE, rng.randint(1, 2)), "", False
        elif step == "keep_informed":
            yield step, rng.random() < 0.7, "yes", False


TEST_FLOW = """\
# A flow with a scale, for the report tests.
id: test-feedback
version: 1
language: en
title: Test feedback
steps:
  - key: went
    kind: yes_no
    text: Did you go?
  - key: rating
    kind: scale
    text: How was it?
    min: 1
    max: 5
  - key: good
    kind: text
    text: What was good?
    skippable: true
"""


def conversations_with_test_flow(root: Path, target: Path) -> Path:
    """A copy of the project's flows plus the `test-feedback` flow."""
    target.mkdir(parents=True, exist_ok=True)
    for path in (root / "conversations").glob("*.yaml"):
        (target / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (target / "test-feedback.yaml").write_text(TEST_FLOW, encoding="utf-8")
    return target
