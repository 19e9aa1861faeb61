"""Who may do community work: workers (for some neighbourhoods, or the whole town) and
admins, made by a single-use invite code or by an operator.

An invite code is 12 random characters (about 60 bits) from an alphabet without look-
alikes (no 0/O, 1/I/L), printed as `ABCD-EFGH-JKMN`. Only its HMAC-SHA256 under the
deployment's secret key is stored; it expires after 7 days and works once. A person who
sends `/worker CODE` becomes a worker for the code's neighbourhoods. Every worker action
checks the role and the neighbourhood on the server again (`require_worker`), and every
refusal is logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.community import audit
from bot.community.common import log
from bot.conversation.extensions import Actions, Extensions, has_role
from bot.conversation.parts import Parts
from bot.conversation.service import START_FLOW
from bot.i18n import bidi
from bot.privacy import pseudonyms
from bot.settings import Settings
from bot.storage import conversations as convs
from bot.storage.models import Participant, utcnow
from bot.storage.models.community import AuditEntry, WorkerInvite, WorkerNeighbourhood

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
CODE_TTL = timedelta(days=7)
WORKER_ROLES = ("worker", "admin")


# ---- invite codes ----------------------------------------------------------------------


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(text: str) -> str:
    """What the person typed, without spaces, dashes and case: `abcd efgh-jkmn` works."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def hash_code(code: str, secret: bytes) -> str:
    return hmac.new(secret, normalise_code(code).encode(), hashlib.sha256).hexdigest()


async def create_invite(
    session: AsyncSession,
    secret: bytes,
    neighbourhoods: Iterable[str] = (),
    now: datetime | None = None,
    *,
    name: str | None = None,
    actor: audit.Actor | None = None,
) -> str:
    """A new single-use code; only its hash is stored. `name`: what the new worker goes
    by, set on them when they use it. `actor` (the CLI's operator, a coordinator in the
    dashboard) is recorded in the audit log; None only for a test's own setup."""
    now = now or utcnow()
    # A name on a code nobody used in time is kept no longer than that.
    await session.execute(
        update(WorkerInvite)
        .where(WorkerInvite.expires_at <= now, WorkerInvite.worker_name.is_not(None))
        .values(worker_name=None)
        .execution_options(synchronize_session=False)
    )
    code = new_code()
    keys = sorted(set(neighbourhoods))
    session.add(
        WorkerInvite(
            code_hash=hash_code(code, secret),
            neighbourhoods=keys,
            created_at=now,
            expires_at=now + CODE_TTL,
            worker_name=(name or "").strip() or None,
        )
    )
    await session.flush()
    if actor is not None:
        await audit.record(session, actor, audit.WORKER_INVITED, audit.places(keys))
    return code


def _about(
    secret: bytes | None, participant: Participant, neighbourhoods: Iterable[str] | None
) -> str:
    """An audit entry's subject about a worker: their pseudonym (never their name, which
    could not be taken out again when they are erased) and the neighbourhoods (`*` the
    whole town; None: the role itself)."""
    if secret is None:
        raise ValueError("an audited change of a worker needs the secret for their pseudonym")
    who = pseudonyms.of(secret, participant)
    return who if neighbourhoods is None else f"{who}: {audit.places(neighbourhoods)}"


async def forget_subject(session: AsyncSession, parts: Parts, participant_id: int) -> None:
    """Before a worker is erased: entries about them keep the action, not their pseudonym."""
    person = await session.get(Participant, participant_id)
    if person is None:
        return
    mark = pseudonyms.of(parts.settings.secret, person)
    await session.execute(
        update(AuditEntry)
        .where(AuditEntry.subject.contains(mark))
        .values(subject=func.replace(AuditEntry.subject, mark, audit.ERASED))
        .execution_options(synchronize_session=False)
    )


async def redeem(
    session: AsyncSession,
    participant: Participant,
    code: str,
    secret: bytes,
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
    via: str = audit.CHAT,
) -> list[str] | None:
    """Use a code: the neighbourhoods it grants ([] for the whole town), or None.

    One UPDATE that only matches an unused, unexpired code, so two people sending the
    same code at once cannot both use it. The name on the invite becomes the worker's
    (and leaves the invite). With `settings`, the new worker's joining is audited.
    """
    now = now or utcnow()
    if len(normalise_code(code)) != CODE_LENGTH:
        return None
    digest = hash_code(code, secret)
    result = await session.execute(
        update(WorkerInvite)
        .where(
            WorkerInvite.code_hash == digest,
            WorkerInvite.used_at.is_(None),
            WorkerInvite.expires_at > now,
        )
        .values(used_at=now, used_by=participant.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    invite = (
        await session.execute(select(WorkerInvite).where(WorkerInvite.code_hash == digest))
    ).scalar_one()
    neighbourhoods = list(invite.neighbourhoods or [])
    if invite.worker_name:
        participant.worker_name = invite.worker_name
        invite.worker_name = None
    await grant(session, participant, neighbourhoods)
    if settings is not None:
        actor = audit.Actor.worker(settings, participant, via)
        await audit.record(session, actor, audit.WORKER_JOINED, audit.places(neighbourhoods))
    return neighbourhoods


# ---- roles and neighbourhoods ----------------------------------------------------------


def is_worker(participant: Participant) -> bool:
    return has_role(participant, "worker")


async def neighbourhoods_of(session: AsyncSession, participant_id: int) -> list[str]:
    rows = await session.execute(
        select(WorkerNeighbourhood.neighbourhood)
        .where(WorkerNeighbourhood.participant_id == participant_id)
        .order_by(WorkerNeighbourhood.neighbourhood)
    )
    return list(rows.scalars())


async def grant(
    session: AsyncSession,
    participant: Participant,
    neighbourhoods: Iterable[str] = (),
    role: str = "worker",
    *,
    name: str | None = None,
    actor: audit.Actor | None = None,
    secret: bytes | None = None,
) -> None:
    """Make someone a worker (or admin) for `neighbourhoods`; none means the whole town.

    A worker who already works in the whole town keeps that; an admin stays an admin.
    `name`: what they go by (kept if not given). `actor` (the operator, a coordinator) is
    recorded in the audit log, naming the worker by pseudonym (under `secret`); an invite
    code's use is recorded by `redeem`.
    """
    wanted = sorted(set(neighbourhoods))
    was_worker = is_worker(participant)
    current = await neighbourhoods_of(session, participant.id) if was_worker else []
    if participant.role != "admin":
        participant.role = role
    if not was_worker:
        participant.worker_since = utcnow()
    if name and name.strip():
        participant.worker_name = name.strip()
    if not was_worker:
        await session.execute(
            delete(WorkerNeighbourhood).where(WorkerNeighbourhood.participant_id == participant.id)
        )
    if not wanted:
        await session.execute(
            delete(WorkerNeighbourhood).where(WorkerNeighbourhood.participant_id == participant.id)
        )
    elif not was_worker or current:
        for key in wanted:
            if key not in current:
                session.add(WorkerNeighbourhood(participant_id=participant.id, neighbourhood=key))
    await session.flush()
    log.info(
        "participant %s is now %s for %s",
        participant.id,
        participant.role,
        ", ".join(wanted) or "the whole town",
    )
    if actor is not None:
        subject = _about(secret, participant, wanted)
        await audit.record(session, actor, audit.WORKER_GRANTED, subject)


async def revoke(
    session: AsyncSession,
    participant: Participant,
    neighbourhoods: Iterable[str] = (),
    *,
    actor: audit.Actor | None = None,
    secret: bytes | None = None,
) -> bool:
    """Take one or more neighbourhoods away, or (with none given) the worker role.

    A worker left without neighbourhoods becomes a resident again, not a town-wide worker.
    `actor` is recorded in the audit log. Their dashboard sessions are ended by
    `bot.community.staff.revoke`, which the CLI and the dashboard call.
    """
    if not is_worker(participant):
        return False
    taken = sorted(set(neighbourhoods))
    subject = _about(secret, participant, taken or None) if actor is not None else ""
    if taken:
        await session.execute(
            delete(WorkerNeighbourhood).where(
                WorkerNeighbourhood.participant_id == participant.id,
                WorkerNeighbourhood.neighbourhood.in_(taken),
            )
        )
        if await neighbourhoods_of(session, participant.id):
            log.info("participant %s no longer works in %s", participant.id, ", ".join(taken))
            if actor is not None:
                await audit.record(session, actor, audit.WORKER_REVOKED, subject)
            return True
    await session.execute(
        delete(WorkerNeighbourhood).where(WorkerNeighbourhood.participant_id == participant.id)
    )
    participant.role = "resident"
    participant.worker_since = None
    log.info("participant %s is no longer a worker", participant.id)
    if actor is not None:
        await audit.record(session, actor, audit.WORKER_REVOKED, subject)
    return True


async def scope(session: AsyncSession, participant: Participant) -> frozenset[str] | None:
    """The neighbourhoods someone may work in: None for the whole town, empty for none."""
    if participant.role == "admin":
        return None
    if not is_worker(participant):
        return frozenset()
    found = await neighbourhoods_of(session, participant.id)
    return frozenset(found) if found else None


def covers(allowed: frozenset[str] | None, neighbourhoods: Iterable[str]) -> bool:
    """Whether a worker with `allowed` may act for all of `neighbourhoods`.

    Something for the whole town (no neighbourhoods) is for town-wide workers only.
    """
    wanted = set(neighbourhoods)
    if allowed is None:
        return True
    return bool(wanted) and wanted <= allowed


def overlaps(allowed: frozenset[str] | None, neighbourhoods: Iterable[str]) -> bool:
    """Whether something in `neighbourhoods` concerns a worker with `allowed` at all."""
    wanted = set(neighbourhoods)
    return allowed is None or not wanted or bool(wanted & allowed)


def may_act_on(allowed: frozenset[str] | None, neighbourhoods: Iterable[str]) -> bool:
    """Whether a worker with `allowed` may change, invite to or cancel an activity in
    `neighbourhoods`: one where they work; a town-wide one only if they work town-wide."""
    wanted = set(neighbourhoods)
    return overlaps(allowed, wanted) and (allowed is None or bool(wanted))


@dataclass
class Refused(Exception):
    """A worker action the server does not allow; the reason is logged, not shown."""

    reason: str


async def require_worker(
    actions: Actions, what: str, neighbourhoods: Iterable[str] | None = None
) -> frozenset[str] | None:
    """The worker's scope, after checking role and neighbourhoods again; else Refused.

    Flows and commands check the role when they start; hooks call this again because a
    role can be revoked mid-flow and a button can be forged.
    """
    participant = actions.participant
    if not is_worker(participant):
        log.warning("%s refused: participant %s is not a worker", what, participant.id)
        raise Refused("not a worker")
    allowed = await scope(actions.session, participant)
    if neighbourhoods is not None and not covers(allowed, neighbourhoods):
        log.warning(
            "%s refused: participant %s does not work in %s",
            what,
            participant.id,
            ", ".join(sorted(neighbourhoods)) or "the whole town",
        )
        raise Refused("outside the worker's neighbourhoods")
    return allowed


async def workers_for(session: AsyncSession, neighbourhood: str | None) -> list[Participant]:
    """The workers to tell about something in `neighbourhood`: those who work there,
    town-wide workers and admins; for something without a neighbourhood, the last two."""
    has_any = exists().where(WorkerNeighbourhood.participant_id == Participant.id)
    conditions = [Participant.role == "admin", ~has_any]
    if neighbourhood:
        conditions.append(
            exists().where(
                WorkerNeighbourhood.participant_id == Participant.id,
                WorkerNeighbourhood.neighbourhood == neighbourhood,
            )
        )
    rows = await session.execute(
        select(Participant)
        .where(
            Participant.role.in_(WORKER_ROLES),
            Participant.opted_out_at.is_(None),
            Participant.unreachable_at.is_(None),
            or_(*conditions),
        )
        .order_by(Participant.id)
    )
    return list(rows.scalars())


async def list_workers(session: AsyncSession) -> list[tuple[Participant, list[str]]]:
    rows = await session.execute(
        select(Participant)
        .where(Participant.role.in_(WORKER_ROLES))
        .order_by(Participant.channel, Participant.id)
    )
    return [(p, await neighbourhoods_of(session, p.id)) for p in rows.scalars()]


# ---- /worker ---------------------------------------------------------------------------


def worker_help(actions: Actions) -> str:
    """The workers' list: the commands of the table listed for workers."""
    t = actions.t
    lines = [t.gettext("You are a community worker. You can type:")]
    lines += [c.help(t) for c in actions.parts.commands.listed("worker") if c.help]
    return "\n".join(lines)


def _pause_survey(actions: Actions) -> None:
    """A new worker is not kept in a residents' flow: it waits until they ask for it
    (`/start` offers to go on)."""
    current = convs.active_in(actions.session, actions.participant.id)
    if current is None or current.flow_id == START_FLOW:
        return
    flow = actions.parts.library.get(current.flow_id)
    if flow is not None and flow.role == "resident":
        convs.set_status(current, convs.PAUSED)


def register(extensions: Extensions) -> None:
    extensions.before_erase(forget_subject)

    @extensions.command(
        "worker",
        help=lambda t: t.gettext("/worker – the commands for community workers"),
        listed="help",
        shown_to="worker",
        order=70,
    )
    async def worker(actions: Actions, argument: str) -> None:
        t = actions.t
        participant = actions.participant
        if not argument.strip():
            if is_worker(participant):
                actions.say(worker_help(actions))
            else:
                actions.say(t.gettext("Send /worker and the code you got, like /worker ABCD-EFGH"))
            return
        settings = actions.parts.settings
        granted = await redeem(
            actions.session, participant, argument, settings.secret, settings=settings
        )
        if granted is None:
            log.warning("/worker refused: participant %s sent a wrong code", participant.id)
            actions.say(
                t.gettext("This code does not work. It may be used or too old. Ask for a new one.")
            )
            return
        deployment = actions.parts.deployment
        names = [found.name if (found := deployment.neighbourhood(key)) else key for key in granted]
        if names:
            actions.say(
                bidi.fill(
                    t.gettext("Welcome! You are now a community worker for {places}."),
                    participant.language,
                    places=", ".join(names),
                )
            )
        else:
            actions.say(t.gettext("Welcome! You are now a community worker for the whole town."))
        actions.say(worker_help(actions))
        _pause_survey(actions)
        if participant.consented_at is None:
            # Messages (proposal notices) only go to people who agreed to the chat.
            actions.say(t.gettext("First, let us get to know each other."))
            await actions.start_flow("onboarding")
