"""What a coordinator does about workers: invite one by name, make or unmake one, list
them. The rules live here, once, for the command line and the dashboard.

Each change is recorded in the audit log (by `roles`), and revoking a worker ends their
dashboard sessions at once (not only at their next request), so an open page stops
working. Who may do this is a coordinator: the operator, or a worker with the admin role
(`bot.community.logins.Viewer.admin`); the dashboard refuses anyone else with 403.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.community import audit, logins, roles
from bot.deployment import Deployment
from bot.i18n.translator import Translator
from bot.privacy import pseudonyms
from bot.settings import Settings
from bot.storage.models import Participant

LONGEST_NAME = 80  # participants.worker_name


def invite_problems(
    t: Translator, deployment: Deployment, name: str, neighbourhoods: Iterable[str]
) -> dict[str, str]:
    """What is wrong with an invite, by field (`name`, `neighbourhoods`); empty: fine."""
    problems: dict[str, str] = {}
    name = name.strip()
    if not name:
        problems["name"] = t.gettext("Write the name the worker goes by.")
    elif len(name) > LONGEST_NAME:
        problems["name"] = t.gettext("This name is too long: at most {n} characters.").format(
            n=LONGEST_NAME
        )
    elif any(not ch.isprintable() for ch in name):
        problems["name"] = t.gettext("Write the name on one line.")
    if any(deployment.neighbourhood(key) is None for key in neighbourhoods):
        problems["neighbourhoods"] = t.gettext("Choose neighbourhoods from the list.")
    return problems


async def invite(
    session: AsyncSession,
    settings: Settings,
    actor: audit.Actor,
    name: str,
    neighbourhoods: Iterable[str] = (),
) -> str:
    """A new single-use code for a worker called `name` (checked with `invite_problems`)."""
    return await roles.create_invite(
        session, settings.secret, neighbourhoods, name=name.strip() or None, actor=actor
    )


async def grant(
    session: AsyncSession,
    settings: Settings,
    actor: audit.Actor,
    person: Participant,
    neighbourhoods: Iterable[str] = (),
    *,
    role: str = "worker",
    name: str | None = None,
) -> None:
    await roles.grant(
        session, person, neighbourhoods, role, name=name, actor=actor, secret=settings.secret
    )


async def revoke(
    session: AsyncSession,
    settings: Settings,
    actor: audit.Actor,
    person: Participant,
    neighbourhoods: Iterable[str] = (),
) -> bool:
    """Take neighbourhoods or the worker role away; with the role, their dashboard
    sessions end now. False if they were no worker."""
    if not await roles.revoke(session, person, neighbourhoods, actor=actor, secret=settings.secret):
        return False
    if not roles.is_worker(person):
        await logins.end_sessions_of(session, person.id)
    return True


@dataclass(frozen=True)
class Worker:
    """A worker as coordinators see them: never their platform id."""

    id: int
    name: str | None
    pseudonym: str
    role: str
    neighbourhoods: list[str]  # empty: the whole town
    since: datetime | None


async def workers(session: AsyncSession, settings: Settings) -> list[Worker]:
    return [
        Worker(
            p.id,
            p.worker_name,
            pseudonyms.of(settings.secret, p),
            p.role,
            keys,
            p.worker_since,
        )
        for p, keys in await roles.list_workers(session)
    ]


async def worker(session: AsyncSession, person_id: int) -> Participant | None:
    """A worker's row by id, or None (not there, or no worker)."""
    found = await session.get(Participant, person_id)
    return found if found is not None and roles.is_worker(found) else None
