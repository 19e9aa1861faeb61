"""Community work: roles, activities, invitations with RSVP, and youth proposals.

`register(extensions)` adds the commands (`/worker`, `/newactivity`, `/invite`,
`/activities`, `/proposals`, `/news`, `/dashboard`) and the hooks that run when the
community flows end. Worker commands and hooks check the role and the neighbourhood on
the server; the flows they start are stale for anyone else (buttons carry the
conversation id).
See docs/community.md.
"""

from __future__ import annotations

from bot.conversation.extensions import Extensions


def register(extensions: Extensions) -> None:
    from bot.community import (
        activities,
        audit,
        feedback,
        invite,
        logins,
        manage,
        news,
        proposals,
        results,
        roles,
        rsvp,
    )

    for part in (
        roles,
        activities,
        invite,
        rsvp,
        proposals,
        news,
        results,
        logins,
        manage,
        feedback,
        audit,
    ):
        part.register(extensions)
