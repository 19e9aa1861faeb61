"""/mydata: everything stored about a person, as a readable message and a JSON file.

`collect` reads the person's profile, consent, conversations and every answer, and then
every row of any other table that belongs to them or points at them (the outbox, and the
community tables when they exist): the same schema walk that `erasure` deletes with, so
what can be erased can also be seen. `render_text` writes the short message in the
person's language; `to_json` the complete file; `messages` gives both as outgoing
messages for a channel.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.deployment import Deployment
from bot.flows.events import Document, Outgoing, Say
from bot.flows.library import FlowLibrary
from bot.flows.steps.language import language_name
from bot.i18n.format import format_when
from bot.i18n.translator import Translator
from bot.privacy import pseudonyms
from bot.privacy.erasure import plan
from bot.storage import polls as stored_polls
from bot.storage.models import Answer, Conversation, Participant

FILENAME = "my-data.json"
MAX_MESSAGE = 3500  # Telegram allows 4096 characters; leave room for the footer
CORE_TABLES = frozenset({"participants", "conversations", "answers"})


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


async def collect(
    session: AsyncSession,
    participant: Participant,
    deployment: Deployment,
    *,
    secret: bytes | None = None,
) -> dict[str, Any]:
    """Everything stored about `participant`, as plain JSON-able data."""
    pid = participant.id
    neighbourhood = deployment.neighbourhood(participant.neighbourhood or "")
    org = deployment.organisation
    data: dict[str, Any] = {
        "about": {
            "organisation": org.name,
            "contact": org.contact,
            "privacy_url": org.privacy_url,
            "created": _plain(datetime.now(UTC)),
        },
        "profile": {
            "channel": participant.channel,
            "channel_user_id": participant.channel_user_id,
            "language": participant.language,
            "neighbourhood": participant.neighbourhood,
            "neighbourhood_name": neighbourhood.name if neighbourhood else None,
            "age_group": participant.age_group,
            "interests": list(participant.interests or []),
            "wants_activities": bool(participant.wants_activities),
            "role": participant.role,
            "first_contact": _plain(participant.created_at),
            "last_contact": _plain(participant.last_seen_at),
            "stopped_messages_at": _plain(participant.opted_out_at),
            "unreachable_since": _plain(participant.unreachable_at),
        },
        "consent": {
            "given_at": _plain(participant.consented_at),
            "privacy_version": participant.consent_version,
        },
    }
    if secret is not None:
        data["pseudonym"] = pseudonyms.of(secret, participant)
    conversations = (
        await session.execute(
            select(Conversation).where(Conversation.participant_id == pid).order_by(Conversation.id)
        )
    ).scalars()
    data["conversations"] = [
        {
            "id": c.id,
            "flow": c.flow_id,
            "flow_version": c.flow_version,
            "status": c.status,
            "started_at": _plain(c.started_at),
            "updated_at": _plain(c.updated_at),
            "finished_at": _plain(c.finished_at),
            "reminded_at": _plain(c.reminded_at),
            "state": _plain(c.state),
        }
        for c in conversations
    ]
    the_plan = plan()
    conversation_rows = select(Conversation.id).where(Conversation.participant_id == pid)
    answers = (
        await session.execute(
            select(Answer)
            .where((Answer.participant_id == pid) | Answer.conversation_id.in_(conversation_rows))
            .order_by(Answer.id)
        )
    ).scalars()
    data["answers"] = [
        {
            "id": a.id,
            "flow": a.flow_id,
            "flow_version": a.flow_version,
            "step": a.step_key,
            "value": _plain(a.value),
            "typed": a.raw,
            "skipped": a.skipped,
            "language": a.language,
            "neighbourhood": a.neighbourhood,
            "conversation": a.conversation_id,
            "at": _plain(a.created_at),
        }
        for a in answers
    ]
    # Every other table: rows that belong to the person (erased with them) ...
    other: dict[str, list[dict[str, Any]]] = {}
    for table in the_plan.owned:
        if table.name in CORE_TABLES:
            continue
        rows = (await session.execute(select(table).where(the_plan.condition(table, pid)))).all()
        if rows:
            other[table.name] = [_own_row(table, row, pid) for row in rows]
    # ... and rows of others that name the person (an activity a worker made): on
    # erasure they stay, without the link.
    linked: dict[str, list[dict[str, Any]]] = {}
    for link in the_plan.nulling_links():
        if link.table.name in CORE_TABLES:
            continue
        rows = (await session.execute(select(link.table).where(the_plan.linked(link, pid)))).all()
        if rows:
            linked.setdefault(f"{link.table.name}.{link.column.name}", []).extend(
                _own_row(link.table, row, pid) for row in rows
            )
    data["other"] = other
    data["linked"] = linked
    return data


def _own_row(table: Any, row: Any, participant_id: int) -> dict[str, Any]:
    """A row as plain data, without the ids of other people in it."""
    values = dict(row._mapping)
    for column in table.columns:
        points_at_people = any(fk.column.table.name == "participants" for fk in column.foreign_keys)
        if points_at_people and values.get(column.name) not in (None, participant_id):
            values.pop(column.name, None)
    return _plain(values)


def to_json(data: dict[str, Any]) -> bytes:
    """The complete file, UTF-8, readable (indented, non-ASCII kept)."""
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")


def _when(text: str | None, language: str, zone: ZoneInfo, translator: Translator) -> str:
    """A stored moment as a resident reads it: `zaterdag 5 december 2026 om 14:01`."""
    if not text:
        return "-"
    moment = datetime.fromisoformat(text)
    try:
        return format_when(moment, language or "en", zone, translator=translator, now=None)
    except (ValueError, LookupError):
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def render_text(
    data: dict[str, Any],
    translator: Translator,
    *,
    library: FlowLibrary | None = None,
    deployment: Deployment | None = None,
    timezone: str = "Europe/Amsterdam",
) -> str:
    """A readable message of what is stored, in the person's language.

    With the flow `library` (and `deployment`) questions and options are shown as the
    person saw them; without, as their codes. Long lists are cut off with a pointer to
    the file, which has everything.
    """
    t = translator
    profile = data["profile"]
    language = profile.get("language") or "en"
    zone = ZoneInfo(timezone)
    labels = None
    if library is not None and deployment is not None:
        from bot.flows.labels import Labels

        labels = Labels(library, deployment, translator)
    lines = [t.gettext("This is what we know about you:")]
    code = profile.get("language")
    lines.append(t.gettext("Language: {value}").format(value=language_name(code) if code else "-"))
    lines.append(
        t.gettext("Neighbourhood: {value}").format(
            value=profile.get("neighbourhood_name") or profile.get("neighbourhood") or "-"
        )
    )
    age_group = profile.get("age_group")
    if age_group and labels is not None:
        age_group = labels.profile("age_group", age_group)  # "18 to 27", as it was asked
    lines.append(t.gettext("Age group: {value}").format(value=age_group or "-"))
    interests = profile.get("interests") or []
    if interests:
        shown = [labels.profile("interests", i) if labels else i for i in interests]
        lines.append(t.gettext("Interests: {value}").format(value=", ".join(shown)))
    if profile.get("wants_activities"):
        lines.append(t.gettext("You want invitations to activities in your neighbourhood."))
    consent = data["consent"]
    if consent.get("given_at"):
        lines.append(
            t.gettext("You agreed on {date} (privacy text version {version}).").format(
                date=_when(consent["given_at"], language, zone, t),
                version=consent.get("privacy_version") or "-",
            )
        )
    else:
        lines.append(t.gettext("You have not agreed yet, so we keep no answers."))
    if profile.get("stopped_messages_at"):
        lines.append(t.gettext("You stopped our messages."))
    answers = data.get("answers", [])
    lines.append("")
    lines.append(
        t.ngettext("Your answers ({n}):", "Your answers ({n}):", len(answers)).format(
            n=len(answers)
        )
    )
    if not answers:
        lines.append(t.gettext("(none)"))
    body = "\n".join(lines)
    rest = 0
    for number, answer in enumerate(answers):
        if labels is not None:
            question = labels.question(answer["flow"], answer["step"], width=60)
            value = labels.shown(answer["flow"], answer["step"], answer["value"], answer["skipped"])
        else:
            question = f"{answer['flow']}/{answer['step']}"
            value = (
                t.gettext("Rather not say")
                if answer["skipped"]
                else _shown_plain(answer["value"], t)
            )
        line = f"• {question}: {value}"
        if len(body) + len(line) + 1 > MAX_MESSAGE:
            rest = len(answers) - number
            break
        body += "\n" + line
    footer = []
    if rest:
        footer.append(
            t.ngettext(
                "… and {n} more answer: see the file.",
                "… and {n} more answers: see the file.",
                rest,
            ).format(n=rest)
        )
    planned = _planned(data, t, library, language, zone)
    if planned:
        footer.append(t.gettext("We will send you:"))
        footer.extend(planned)
    others = sum(len(rows) for rows in data.get("other", {}).values())
    if others:
        footer.append(
            t.ngettext(
                "We also keep {n} other thing of yours, like a message, an invitation or an "
                "idea: see the file.",
                "We also keep {n} other things of yours, like messages, invitations or "
                "ideas: see the file.",
                others,
            ).format(n=others)
        )
    made = sum(len(rows) for rows in data.get("linked", {}).values())
    if made:
        footer.append(
            t.ngettext(
                "You also made {n} thing for others, like an activity. If you delete your "
                "data, it stays without your name.",
                "You also made {n} things for others, like activities. If you delete your "
                "data, they stay without your name.",
                made,
            ).format(n=made)
        )
    footer.append(t.gettext("The file {name} has everything we keep.").format(name=FILENAME))
    footer.append(t.gettext("Type /forget to delete it all."))
    return body + "\n\n" + "\n".join(footer)


def _planned(
    data: dict[str, Any],
    t: Translator,
    library: FlowLibrary | None,
    language: str,
    zone: ZoneInfo,
) -> list[str]:
    """The messages waiting in the outbox, each with when it goes: what was promised."""
    lines = []
    for row in data.get("other", {}).get("outbox", []):
        if row.get("status") != "queued":
            continue
        content = row.get("content") or {}
        flow = library.get(str(content.get("flow"))) if library is not None else None
        if flow is not None:
            what = t.pgettext(f"{flow.id}:title", flow.title)
        else:
            what = t.gettext("a message")
        lines.append(f"• {_when(row.get('due_at'), language, zone, t)} – {what}")
    return lines


def _shown_plain(value: Any, t: Translator) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return str(value.get("text") or value.get("kind") or value)
    if value is True:
        return t.gettext("Yes")
    if value is False:
        return t.gettext("No")
    return str(value)


async def messages(
    session: AsyncSession,
    participant: Participant,
    deployment: Deployment,
    translator: Translator,
    *,
    library: FlowLibrary | None = None,
    secret: bytes | None = None,
    timezone: str = "Europe/Amsterdam",
) -> list[Outgoing]:
    """What /mydata sends: the readable message, then the JSON file."""
    data = await collect(session, participant, deployment, secret=secret)
    if library is not None:
        # A poll answered through another process is read here to name its answers.
        for answer in data.get("answers", []):
            await stored_polls.find(session, library, str(answer.get("flow") or ""))
    text = render_text(data, translator, library=library, deployment=deployment, timezone=timezone)
    document = Document(
        filename=FILENAME,
        data=to_json(data),
        caption=translator.gettext("Everything we keep about you"),
        mime_type="application/json",
    )
    return [Say(text), document]
