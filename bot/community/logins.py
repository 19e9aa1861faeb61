"""Who may open the coordinators' dashboard, and for which neighbourhoods.

A login link is made by the operator (`buurtbot dashboard link`) or by a worker sending
`/dashboard` in the chat. It carries a random token (256 bits); only its HMAC under the
deployment's secret is stored. It works once and for 15 minutes. Using it opens a
session: another random token, kept in an HttpOnly cookie and as a hash in
`dashboard_sessions`, that ends after 8 hours, after an hour unused, or on log out.

Every request checks the session *and the person's role again* (`check_session`): a
worker whose role is revoked, or who is erased, is logged out at once, and a worker's
neighbourhoods are always the current ones. Links and sessions over for a day are
deleted (`forget_old`), and a person's go with them when they are erased. The rule
lives here, at the level of community work, so the chat, the command line and the
dashboard share it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.community.common import log
from bot.community.roles import is_worker, scope
from bot.conversation.extensions import Actions, Extensions
from bot.storage.models import Participant, utcnow
from bot.storage.models.dashboard import DashboardLink, DashboardSession

LINK_TTL = timedelta(minutes=15)
SESSION_TTL = timedelta(hours=8)
IDLE_TTL = timedelta(hours=1)
KEEP_ENDED = timedelta(days=1)
LOGIN_PATH = "/login/"


def _hash(token: str, secret: bytes) -> str:
    return hmac.new(secret, b"dashboard:" + token.encode(), hashlib.sha256).hexdigest()


def login_url(public_url: str, token: str) -> str:
    return public_url.rstrip("/") + LOGIN_PATH + token


@dataclass(frozen=True)
class Viewer:
    """Who is looking: a worker (with their neighbourhoods) or the operator.

    `neighbourhoods` None means the whole town (an admin, the operator or a town-wide
    worker); otherwise only those. `admin`: a coordinator (the operator's `--admin` link,
    or a worker with the admin role), who may manage workers and read the audit log.
    """

    session_id: int
    participant_id: int | None
    admin: bool
    neighbourhoods: frozenset[str] | None
    csrf_token: str
    language: str | None = None

    def may_see(self, neighbourhood: str) -> bool:
        return self.neighbourhoods is None or neighbourhood in self.neighbourhoods


async def create_link(
    session: AsyncSession,
    secret: bytes,
    participant: Participant | None = None,
    *,
    admin: bool = False,
    now: datetime | None = None,
) -> str | None:
    """A new login token for a worker, or for the operator (`admin`); None for anyone
    who is not a worker."""
    if participant is None and not admin:
        raise ValueError("a login link is for a worker or for the operator")
    if participant is not None and not is_worker(participant):
        log.warning("dashboard link refused: participant %s is not a worker", participant.id)
        return None
    now = now or utcnow()
    await forget_old(session, now)
    token = secrets.token_urlsafe(32)
    session.add(
        DashboardLink(
            token_hash=_hash(token, secret),
            participant_id=participant.id if participant is not None else None,
            admin=participant is None,
            created_at=now,
            expires_at=now + LINK_TTL,
        )
    )
    await session.flush()
    return token


async def link_usable(
    session: AsyncSession, secret: bytes, token: str, now: datetime | None = None
) -> bool:
    """Whether a link would still log someone in (without using it)."""
    now = now or utcnow()
    link = (
        await session.execute(
            select(DashboardLink).where(DashboardLink.token_hash == _hash(token, secret))
        )
    ).scalar_one_or_none()
    return link is not None and link.used_at is None and link.expires_at > now


async def redeem_link(
    session: AsyncSession, secret: bytes, token: str, now: datetime | None = None
) -> str | None:
    """Use a login link: a new session token, or None (used, too old, unknown, or its
    worker is no longer one).

    One UPDATE that matches only an unused, unexpired link, so a link opened twice at
    the same moment logs in once.
    """
    now = now or utcnow()
    digest = _hash(token, secret)
    result = await session.execute(
        update(DashboardLink)
        .where(
            DashboardLink.token_hash == digest,
            DashboardLink.used_at.is_(None),
            DashboardLink.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        log.warning("dashboard login refused: a used, expired or unknown link")
        return None
    link = (
        await session.execute(select(DashboardLink).where(DashboardLink.token_hash == digest))
    ).scalar_one()
    if link.participant_id is not None:
        person = await session.get(Participant, link.participant_id)
        if person is None or not is_worker(person):
            log.warning("dashboard login refused: participant %s is no worker", link.participant_id)
            return None
    session_token = secrets.token_urlsafe(32)
    session.add(
        DashboardSession(
            token_hash=_hash(session_token, secret),
            participant_id=link.participant_id,
            admin=link.admin,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + SESSION_TTL,
        )
    )
    await session.flush()
    log.info(
        "dashboard login: %s",
        f"participant {link.participant_id}" if link.participant_id else "operator",
    )
    return session_token


async def check_session(
    session: AsyncSession, secret: bytes, token: str, now: datetime | None = None
) -> Viewer | None:
    """The viewer of a live session (and it is marked as used now), or None.

    A session past its 8 hours or its hour unused, or whose worker is no longer a
    worker, is ended here and then.
    """
    if not token:
        return None
    now = now or utcnow()
    row = (
        await session.execute(
            select(DashboardSession).where(
                DashboardSession.token_hash == _hash(token, secret),
                DashboardSession.ended_at.is_(None),
            )
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    if row.expires_at <= now or row.last_seen_at + IDLE_TTL <= now:
        row.ended_at = now
        return None
    neighbourhoods: frozenset[str] | None = None
    admin = row.admin
    if not row.admin:
        person = await session.get(Participant, row.participant_id) if row.participant_id else None
        if person is None or not is_worker(person):
            row.ended_at = now
            log.info("dashboard session %s ended: no longer a worker", row.id)
            return None
        neighbourhoods = await scope(session, person)
        admin = person.role == "admin"
    # Written at most once a minute, so that reading pages stays cheap.
    if now - row.last_seen_at > timedelta(minutes=1):
        row.last_seen_at = now
    return Viewer(
        row.id,
        row.participant_id,
        admin,
        neighbourhoods,
        row.csrf_token,
    )


async def forget_old(session: AsyncSession, now: datetime | None = None) -> int:
    """Delete links and sessions over for a day: when someone logged in is nobody's
    business for longer. Runs whenever a new link is made."""
    before = (now or utcnow()) - KEEP_ENDED
    links = await session.execute(
        delete(DashboardLink)
        .where(DashboardLink.expires_at < before)
        .execution_options(synchronize_session=False)
    )
    sessions = await session.execute(
        delete(DashboardSession)
        .where(
            or_(
                DashboardSession.expires_at < before,
                DashboardSession.ended_at < before,
                DashboardSession.last_seen_at < before - IDLE_TTL,
            )
        )
        .execution_options(synchronize_session=False)
    )
    return (links.rowcount or 0) + (sessions.rowcount or 0)


async def end_session(session: AsyncSession, session_id: int, now: datetime | None = None) -> None:
    """Log out: the session's cookie opens nothing any more."""
    await session.execute(
        update(DashboardSession)
        .where(DashboardSession.id == session_id, DashboardSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )


async def end_sessions_of(session: AsyncSession, participant_id: int) -> int:
    """End every session of a person (their role was taken away)."""
    result = await session.execute(
        update(DashboardSession)
        .where(
            DashboardSession.participant_id == participant_id,
            DashboardSession.ended_at.is_(None),
        )
        .values(ended_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# ---- /dashboard ------------------------------------------------------------------------


def register(extensions: Extensions) -> None:
    @extensions.command(
        "dashboard",
        role="worker",
        help=lambda t: t.gettext("/dashboard – a link to the results in your browser"),
        listed="worker",
        order=170,
    )
    async def dashboard(actions: Actions, argument: str) -> None:
        """`/dashboard`: a worker's own login link for the web dashboard."""
        t = actions.t
        settings = actions.parts.settings
        if not settings.dashboard_listen:
            actions.say(t.gettext("The dashboard is not switched on for this bot."))
            return
        token = await create_link(actions.session, settings.secret, actions.participant)
        if token is None:
            actions.say(t.gettext("Sorry, only community workers can do that."))
            return
        actions.say(
            t.gettext(
                "Your link to the dashboard. It works once, for 15 minutes. "
                "Do not share it: it opens your neighbourhoods' results."
            )
        )
        actions.say(login_url(settings.public_url, token))
