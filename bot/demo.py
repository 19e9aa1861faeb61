"""Made-up data to try the reports, exports and dashboard with: `buurtbot demo seed`.

`seed` fills an empty database with residents in the deployment's neighbourhoods and the
offered languages, who answered the residents' flows over the last months (with real
differences: each neighbourhood leans to its own answers, and the answers drift from
month to month), activities with invitations, RSVPs and a waiting list, and young
people's proposals in each state. It is made from the flows themselves (their steps and
options), so a deployment with its own flows gets demo answers to those.

Demo rows are marked (`participants.demo`, `activities.demo`); everything else the demo
makes belongs to a demo participant and goes with them, so `clear` deletes exactly what
`seed` made. Demo people are on the channel `demo`, which no sender serves: nothing is
ever sent to them. `seed` refuses a database that has real participants.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from bot.deployment import Deployment
from bot.flows.library import FlowLibrary
from bot.flows.model import Flow
from bot.storage import answer_order
from bot.storage.models import Answer, Conversation, OutboxMessage, Participant
from bot.storage.models.community import (
    APPROVED,
    ASKING,
    CANCELLED,
    DECLINED,
    GOING,
    MAYBE,
    NOT_GOING,
    OPEN,
    PLANNED,
    Activity,
    Invitation,
    Proposal,
    ProposalNote,
    Rsvp,
    WorkerNeighbourhood,
)

CHANNEL = "demo"
FLOWS = ("onboarding", "what-matters", "checkin", "feedback", "propose")
"""The residents' flows demo people answer, in the order a person meets them."""
LANGUAGE_SHARE = {"nl": 45, "tr": 15, "ar": 12, "pl": 10, "uk": 8, "en": 10}
AGE_SHARE = {"12-17": 12, "18-27": 18, "28-64": 50, "65+": 20}
ANSWERED_KINDS = frozenset({"choice", "multiple_choice", "yes_no", "scale", "text"})
BATCH = 5000
FULL = 1  # an activity that will fill up (its capacity is set once its answers are in)
TEXTS = {
    "nl": ["Het park", "De buren", "De markt op zaterdag", "Rustig wonen", "De bibliotheek"],
    "en": ["The park", "My neighbours", "The Saturday market", "It is quiet", "The library"],
    "tr": ["Park", "Komşularım", "Cumartesi pazarı", "Sakin bir yer", "Kütüphane"],
    "ar": ["الحديقة", "جيراني", "سوق يوم السبت", "المكان هادئ", "المكتبة"],
    "pl": ["Park", "Moi sąsiedzi", "Targ w sobotę", "Jest spokojnie", "Biblioteka"],
    "uk": ["Парк", "Мої сусіди", "Ринок у суботу", "Тут спокійно", "Бібліотека"],
}
IDEAS = [
    "Een sportdag met barbecue op het plein",
    "Filmavond in het buurthuis",
    "Voetbaltoernooi voor de buurt",
    "Samen koken met buren uit andere landen",
    "Een moestuin achter de school",
    "Huiswerkclub op woensdag",
    "Muziekavond in het park",
    "Schoonmaakactie in de wijk",
]
ACTIVITIES = [
    "Buurtbarbecue",
    "Koffieochtend",
    "Samen koken",
    "Voetbal op het veld",
    "Moestuindag",
    "Taalcafé",
    "Spelletjesmiddag",
    "Buurtschoonmaak",
]


class RealParticipants(Exception):
    """The database has real participants: demo data would mix with theirs."""


class AlreadySeeded(Exception):
    """The database has demo data already."""


@dataclass
class Seeded:
    people: int = 0
    workers: int = 0
    conversations: int = 0
    answers: int = 0
    activities: int = 0
    invitations: int = 0
    rsvps: int = 0
    proposals: int = 0
    per_neighbourhood: dict[str, int] = field(default_factory=dict)


def _weighted(rng: random.Random, shares: dict[str, int], allowed: Sequence[str]) -> str:
    keys = [k for k in shares if k in allowed] or list(allowed)
    return rng.choices(keys, [shares.get(k, 1) for k in keys])[0]


def _sizes(rng: random.Random, keys: list[str], people: int) -> list[str]:
    """Where each person lives: neighbourhoods of very different sizes, the last one tiny
    (2 to 4 people), so the report shows how small groups are kept out."""
    if len(keys) == 1:
        return keys * people
    tiny = min(rng.randint(2, 4), max(people // 10, 1))
    weights = [rng.uniform(0.3, 3.0) for _ in keys[:-1]]
    placed = rng.choices(keys[:-1], weights, k=max(people - tiny, 0))
    return placed + [keys[-1]] * min(tiny, people)


class _Answers:
    """Demo answers to a flow's steps, leaning per neighbourhood and drifting per month."""

    def __init__(self, rng: random.Random, neighbourhoods: list[str]):
        self.rng = rng
        self.lean = {n: rng.random() for n in neighbourhoods}

    def weights(self, options: list[str], neighbourhood: str, month: int) -> list[float]:
        lean = self.lean.get(neighbourhood, 0.5)
        found = []
        for i, _ in enumerate(options):
            shift = ((i + 1) * 0.37 + lean * 2 + month * 0.08 * (1 if i % 2 else -1)) % 1.0
            found.append(0.2 + shift * shift * 3)
        return found

    def value(self, step: Any, person: dict[str, Any], month: int) -> tuple[Any, str, bool]:
        """(value, raw text, skipped) for a step, or a value None for no answer."""
        rng = self.rng
        if step.store_as == "age_group":
            return person["age_group"], "", False
        if step.kind == "neighbourhood":
            return person["neighbourhood"], "", False
        if getattr(step, "skippable", False) and rng.random() < 0.06:
            return None, "", True
        if step.kind == "yes_no":
            yes = 0.35 + 0.5 * self.lean.get(person["neighbourhood"], 0.5)
            answer = rng.random() < yes
            return answer, "yes" if answer else "no", False
        if step.kind == "scale":
            low, high = int(getattr(step, "min", 1)), int(getattr(step, "max", 5))
            options = [str(v) for v in range(low, high + 1)]
            picked = rng.choices(options, self.weights(options, person["neighbourhood"], month))
            return int(picked[0]), picked[0], False
        if step.kind == "text":
            texts = TEXTS.get(person["language"], TEXTS["nl"])
            text = IDEAS[rng.randrange(len(IDEAS))] if step.key == "what" else rng.choice(texts)
            return text, text, False
        options = [o.value for o in getattr(step, "options_", []) or []]
        options = [o for o in options if o != "other"] or options
        if not options:
            return None, "", False
        weights = self.weights(options, person["neighbourhood"], month)
        if step.kind == "choice":
            return rng.choices(options, weights)[0], "", False
        chosen = sorted(
            set(rng.choices(options, weights, k=rng.randint(1, min(3, len(options))))),
            key=options.index,
        )
        return chosen, "", False


def _steps(flow: Flow) -> list[Any]:
    return [
        s
        for s in flow.steps
        if s.kind in ANSWERED_KINDS or s.kind == "neighbourhood" or s.store_as == "age_group"
    ]


def _inserted(connection: Connection, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    ids: list[int] = []
    for start in range(0, len(rows), BATCH):
        ids += (
            connection.execute(
                insert(model).returning(model.id, sort_by_parameter_order=True),
                rows[start : start + BATCH],
            )
            .scalars()
            .all()
        )
    return ids


def check_empty(connection: Connection) -> None:
    """Raise when demo data would mix with real data, or is there already."""
    real = connection.execute(
        select(func.count()).select_from(Participant).where(Participant.demo.is_(False))
    ).scalar_one()
    if real:
        raise RealParticipants(real)
    demo = connection.execute(select(func.count()).select_from(Participant)).scalar_one()
    if demo:
        raise AlreadySeeded(demo)


def seed(
    connection: Connection,
    *,
    library: FlowLibrary,
    deployment: Deployment,
    languages: Sequence[str],
    people: int = 1000,
    months: int = 6,
    seed_value: int = 2026,
    now: datetime | None = None,
) -> Seeded:
    """Fill an empty database with demo data (see the module's docstring)."""
    check_empty(connection)
    rng = random.Random(seed_value)
    now = now or datetime.now(UTC)
    span = timedelta(days=30 * max(months, 1))
    start = now - span
    result = Seeded()
    keys = [n.key for n in deployment.neighbourhoods] or ["centrum"]
    answers = _Answers(rng, keys)
    flows = [library.get(f) for f in FLOWS]
    flows_in = [f for f in flows if f is not None and f.for_residents]

    rows = []
    for i, neighbourhood in enumerate(_sizes(rng, keys, people)):
        # More people join in later months: a growing pilot.
        joined = start + span * (rng.random() ** 0.7)
        rows.append(
            {
                "channel": CHANNEL,
                "channel_user_id": f"demo-{i + 1}",
                "language": _weighted(rng, LANGUAGE_SHARE, languages),
                "neighbourhood": neighbourhood,
                "age_group": _weighted(rng, AGE_SHARE, list(AGE_SHARE)),
                "interests": [],
                "role": "resident",
                "consented_at": joined,
                "consent_version": "demo",
                "created_at": joined,
                "last_seen_at": joined,
                "demo": True,
            }
        )
        result.per_neighbourhood[neighbourhood] = result.per_neighbourhood.get(neighbourhood, 0) + 1
    workers = [
        {
            "channel": CHANNEL,
            "channel_user_id": f"demo-worker-{k + 1}",
            "language": "nl",
            "neighbourhood": None,
            "role": "worker",
            # Made-up names, as a real worker gives one with their invite.
            "worker_name": ("Fatima, jongerenwerk", "Henk, opbouwwerk")[k],
            "worker_since": start,
            "consented_at": start,
            "consent_version": "demo",
            "created_at": start,
            "last_seen_at": now,
            "demo": True,
        }
        for k in range(2)
    ]
    ids = _inserted(connection, Participant, rows)
    worker_ids = _inserted(connection, Participant, workers)
    connection.execute(
        insert(WorkerNeighbourhood),
        [{"participant_id": worker_ids[k % 2], "neighbourhood": key} for k, key in enumerate(keys)],
    )
    result.people, result.workers = len(ids), len(worker_ids)

    runs: list[dict[str, Any]] = []
    plans: list[tuple[int, dict[str, Any], Flow, list[tuple[Any, str, bool]], datetime]] = []
    for pid, person in zip(ids, rows, strict=True):
        moment = person["created_at"]
        for flow in flows_in:
            if flow.id == "propose" and person["age_group"] not in ("12-17", "18-27"):
                continue
            if flow.id != "onboarding" and rng.random() < (
                0.15 if flow.id == "what-matters" else 0.5
            ):
                continue
            moment = moment + timedelta(days=rng.uniform(0, 20), minutes=rng.uniform(1, 300))
            if moment > now:
                break
            month = int((moment - start) / timedelta(days=30))
            planned = [answers.value(step, person, month) for step in _steps(flow)]
            if flow.id == "onboarding":
                person["interests"] = next(
                    (
                        v
                        for s, (v, _, _) in zip(_steps(flow), planned, strict=True)
                        if s.store_as == "interests" and isinstance(v, list)
                    ),
                    [],
                )
            roll = rng.random()
            if roll < 0.75 or flow.id == "onboarding":
                status, kept = "finished", len(planned)
            else:
                kept = rng.randrange(1, max(len(planned), 2))
                recent = now - moment < timedelta(days=3)
                status = "active" if recent else "expired"
            done = moment + timedelta(minutes=4)
            runs.append(
                {
                    "participant_id": pid,
                    "flow_id": flow.id,
                    "flow_version": flow.version,
                    "status": status,
                    "state": {"flow": flow.id, "version": flow.version, "step": None, "values": {}},
                    "started_at": moment,
                    "updated_at": done,
                    "finished_at": done if status == "finished" else None,
                }
            )
            plans.append((pid, person, flow, planned[:kept], moment))
    conversation_ids = _inserted(connection, Conversation, runs)
    result.conversations = len(conversation_ids)
    answer_rows = []
    for cid, (pid, person, flow, planned, moment) in zip(conversation_ids, plans, strict=True):
        at = moment
        for step, (value, raw, skipped) in zip(_steps(flow), planned, strict=False):
            at += timedelta(seconds=rng.randint(8, 60))
            if value is None and not skipped:
                continue
            answer_rows.append(
                {
                    "participant_id": pid,
                    "conversation_id": cid,
                    "flow_id": flow.id,
                    "flow_version": flow.version,
                    "step_key": step.key,
                    "value": value,
                    "raw": raw,
                    "skipped": skipped,
                    "language": person["language"],
                    "neighbourhood": person["neighbourhood"],
                    "created_at": at,
                }
            )
    for begin in range(0, len(answer_rows), BATCH):
        connection.execute(insert(Answer), answer_rows[begin : begin + BATCH])
    answer_order.order_everyone(connection)
    result.answers = len(answer_rows)
    # Interests steer invitations: keep them on the person, as onboarding does.
    for pid, person in zip(ids, rows, strict=True):
        if person["interests"]:
            connection.execute(
                Participant.__table__.update()
                .where(Participant.id == pid)
                .values(interests=person["interests"])
            )

    _activities(connection, rng, result, ids, rows, worker_ids, keys, start, now, months)
    _proposals(connection, rng, result, ids, rows, plans, worker_ids, now)
    return result


def _activities(
    connection: Connection,
    rng: random.Random,
    result: Seeded,
    ids: list[int],
    rows: list[dict[str, Any]],
    workers: list[int],
    keys: list[str],
    start: datetime,
    now: datetime,
    months: int,
) -> None:
    """Two activities a month (one still to come), invitations through the outbox,
    answers, and a waiting list where one filled up."""
    count = max(2 * months, 2)
    activity_rows = []
    for k in range(count):
        at = start + (now - start) * ((k + 1) / count) + timedelta(days=7 if k == count - 1 else 0)
        at = at.replace(hour=rng.choice([8, 12, 14, 17]), minute=0, second=0, microsecond=0)
        where = rng.sample(keys, min(len(keys), rng.randint(1, 2)))
        title = ACTIVITIES[k % len(ACTIVITIES)]
        activity_rows.append(
            {
                "title": {"_": title},
                "description": {"_": ""},
                "starts_at": at,
                "place": "Buurthuis",
                "neighbourhoods": where,
                "capacity": rng.choice([None, 40, 60]) if k % 3 else FULL,
                "status": CANCELLED if k == 1 else PLANNED,
                "created_by": workers[k % len(workers)],
                "created_at": at - timedelta(days=14),
                "demo": True,
            }
        )
    activity_ids = _inserted(connection, Activity, activity_rows)
    result.activities = len(activity_ids)
    invitations, outbox, rsvps = [], [], []
    spans: list[tuple[int, int, int, int, bool]] = []  # (going, activity, first, last, full)
    for aid, activity in zip(activity_ids, activity_rows, strict=True):
        sent_at = activity["created_at"]
        upcoming = activity["starts_at"] > now
        going = 0
        first = len(rsvps)
        for pid, person in zip(ids, rows, strict=True):
            if person["neighbourhood"] not in activity["neighbourhoods"]:
                continue
            if person["created_at"] > sent_at or rng.random() < 0.15:
                continue
            invitations.append(
                {
                    "activity_id": aid,
                    "participant_id": pid,
                    "batch_id": f"demo-{aid}",
                    "invited_by": activity["created_by"],
                    "created_at": sent_at,
                }
            )
            roll = rng.random()
            status = "queued" if upcoming and roll < 0.25 else "failed" if roll > 0.97 else "sent"
            if activity["status"] == CANCELLED and status == "queued":
                status = "cancelled"
            outbox.append(
                {
                    "participant_id": pid,
                    "channel": CHANNEL,
                    "kind": "invitation",
                    "content": {"type": "flow", "flow": "invitation", "variables": {}},
                    "due_at": sent_at,
                    "status": status,
                    "dedupe_key": f"invitation:{aid}:{pid}",
                    "sent_at": sent_at if status == "sent" else None,
                    "created_at": sent_at,
                }
            )
            if status != "sent" or rng.random() < 0.3:
                continue
            answer = rng.choices([GOING, MAYBE, NOT_GOING], [5, 2, 3])[0]
            going += answer == GOING
            answered = sent_at + timedelta(hours=rng.uniform(1, 72))
            rsvps.append(
                {
                    "activity_id": aid,
                    "participant_id": pid,
                    "answer": answer,
                    "waiting": False,
                    "waiting_since": None,
                    "created_at": answered,
                    "updated_at": answered,
                }
            )
        spans.append((going, aid, first, len(rsvps), activity["capacity"] == FULL))
    # The activities meant to fill up do (the most popular one at least): the last to
    # say going wait for a place; the others have room for everyone.
    full = [span for span in spans if span[4] and span[0] >= 4]
    if not full and spans and max(spans)[0] >= 2:
        full = [max(spans)]
    for going, aid, first, last, meant_full in spans:
        capacity = None
        if any(span[1] == aid for span in full):
            capacity = max(going * 2 // 3, 1)
            seen = 0
            for row in rsvps[first:last]:
                if row["answer"] == GOING:
                    seen += 1
                    if seen > capacity:
                        row["waiting"], row["waiting_since"] = True, row["created_at"]
        elif not meant_full:
            continue  # its capacity, as made, had room
        connection.execute(
            Activity.__table__.update().where(Activity.id == aid).values(capacity=capacity)
        )
    for model, chunk in ((Invitation, invitations), (OutboxMessage, outbox), (Rsvp, rsvps)):
        for begin in range(0, len(chunk), BATCH):
            connection.execute(insert(model), chunk[begin : begin + BATCH])
    result.invitations, result.rsvps = len(invitations), len(rsvps)


def _proposals(
    connection: Connection,
    rng: random.Random,
    result: Seeded,
    ids: list[int],
    rows: list[dict[str, Any]],
    plans: list[tuple[int, dict[str, Any], Flow, list[tuple[Any, str, bool]], datetime]],
    workers: list[int],
    now: datetime,
) -> None:
    """A proposal for each finished `propose` run, in each state in turn."""
    states = [OPEN, ASKING, APPROVED, DECLINED]
    made = []
    for k, (pid, person, flow, planned, moment) in enumerate(
        p for p in plans if p[2].id == "propose"
    ):
        details = {
            step.key: value
            for step, (value, _, skipped) in zip(_steps(flow), planned, strict=False)
            if not skipped and value is not None
        }
        if "what" not in details:
            continue
        status = states[k % len(states)]
        made.append(
            {
                "participant_id": pid,
                "neighbourhood": person["neighbourhood"],
                "details": details,
                "status": status,
                "decided_by": workers[0] if status in (APPROVED, DECLINED) else None,
                "created_at": moment,
                "updated_at": min(moment + timedelta(days=2), now),
            }
        )
    proposal_ids = _inserted(connection, Proposal, made)
    notes = []
    for proposal_id, proposal in zip(proposal_ids, made, strict=True):
        for kind, text in _notes(proposal["status"]):
            notes.append(
                {
                    "proposal_id": proposal_id,
                    "author_id": workers[0],
                    "kind": kind,
                    "text": text,
                    "created_at": proposal["updated_at"],
                }
            )
    if notes:
        connection.execute(insert(ProposalNote), notes)
    result.proposals = len(proposal_ids)


def _notes(status: str) -> Iterator[tuple[str, str]]:
    if status == ASKING:
        yield "question", "Hoeveel mensen verwacht je?"
    elif status == APPROVED:
        yield "approve", "Goed idee, we helpen je met de ruimte."
    elif status == DECLINED:
        yield "decline", "Dit past niet in het budget van dit jaar."


def clear(connection: Connection) -> tuple[int, int]:
    """Delete the demo rows: (people, activities). Real rows are never touched."""
    activities = connection.execute(delete(Activity).where(Activity.demo.is_(True))).rowcount
    people = connection.execute(delete(Participant).where(Participant.demo.is_(True))).rowcount
    return people or 0, activities or 0
