"""The commands every person can use in any step of any flow, and their texts.

`/start`, `/language`, `/help`, `/privacy`, `/mydata`, `/forget`, `/stop` (DESIGN.md:
"a person can always type ..."), with the plain words for each in every language. The
service registers them into its command table (`bot.conversation.commands`) before the
community's, like any other command; only the turn machinery stays in the service.
"""

from __future__ import annotations

from bot.conversation.commands import Command, CommandTable
from bot.conversation.extensions import Actions, has_role
from bot.i18n.format import format_period
from bot.privacy import mydata
from bot.storage import conversations as convs
from bot.storage.models import utcnow


async def start(actions: Actions, argument: str) -> None:
    await actions.begin(argument)


async def language(actions: Actions, argument: str) -> None:
    await actions.start_flow("language")


async def forget(actions: Actions, argument: str) -> None:
    await actions.start_flow("forget")


async def show_help(actions: Actions, argument: str) -> None:
    actions.say(help_text(actions))
    await actions.repeat_question()


async def privacy(actions: Actions, argument: str) -> None:
    actions.say(privacy_text(actions))
    await actions.repeat_question()


async def my_data(actions: Actions, argument: str) -> None:
    parts = actions.parts
    for message in await mydata.messages(
        actions.session,
        actions.participant,
        parts.deployment,
        actions.t,
        library=parts.library,
        secret=parts.settings.secret,
        timezone=parts.settings.timezone,
    ):
        actions.send(message)
    await actions.repeat_question()


async def stop(actions: Actions, argument: str) -> None:
    actions.participant.opted_out_at = utcnow()
    conversation = actions.active_conversation()
    if conversation is not None:
        convs.set_status(conversation, convs.PAUSED)
    actions.say(
        actions.t.gettext("OK. You will get no more messages from us. Type /start to begin again.")
    )


def help_text(actions: Actions) -> str:
    """`/help`: the listed commands this person may use, then the flows they may start."""
    t = actions.t
    participant = actions.participant
    lines = [t.gettext("You can type these words at any time:")]
    for command in actions.parts.commands.listed("help"):
        if has_role(participant, command.shown_to) and command.help is not None:
            lines.append(command.help(t))
    for flow in actions.parts.library.flows.values():
        if flow.command and has_role(participant, flow.role):
            title = t.pgettext(f"{flow.id}:title", flow.title)
            # TRANSLATORS: a line of /help, as "/stop – get no more messages" is.
            line = t.gettext("{command} – {title}")
            lines.append(line.format(command=f"/{flow.command}", title=title))
    # A worker's /help shows their commands too, not only where to find them.
    listed = actions.parts.commands.listed("worker")
    if has_role(participant, "worker") and listed:
        lines.append(t.gettext("For community workers:"))
        lines += [command.help(t) for command in listed if command.help is not None]
    return "\n".join(lines)


def privacy_text(actions: Actions) -> str:
    """`/privacy`: who asks, what is kept, for how long, and how to see or delete it."""
    t = actions.t
    settings = actions.parts.settings
    org = actions.parts.deployment.organisation
    language = actions.parts.language_of(actions.participant)
    if language not in settings.language_list:
        language = settings.default_language
    period = format_period(settings.retention_days, language)
    return "\n".join(
        [
            t.gettext("This chat is from {organisation}.").format(organisation=org.name),
            t.gettext("We keep your answers, your neighbourhood, age group and language."),
            t.gettext("We do not keep your name or your phone number."),
            t.gettext("After {period}, your answers are no longer linked to you.").format(
                period=period
            ),
            t.gettext("Type /mydata to see your data. Type /forget to delete it."),
            t.gettext("Read more: {url}").format(url=org.privacy_url) if org.privacy_url else "",
        ]
    ).strip()


def register(table: CommandTable) -> None:
    """Add the built-in commands, first in every list."""
    table.add(
        Command(
            "start",
            start,
            words=lambda t: t.pgettext("keywords for /start", "start"),
            description=lambda t: t.gettext("Start, or go on where you were"),
            order=0,
        )
    )
    table.add(
        Command(
            "language",
            language,
            words=lambda t: t.pgettext("keywords for /language", "language"),
            description=lambda t: t.gettext("Choose another language"),
            help=lambda t: t.gettext("/language – choose another language"),
            listed="help",
            order=10,
        )
    )
    table.add(
        Command(
            "help",
            show_help,
            words=lambda t: t.pgettext("keywords for /help", "help"),
            description=lambda t: t.gettext("What you can do"),
            order=20,
        )
    )
    table.add(
        Command(
            "privacy",
            privacy,
            words=lambda t: t.pgettext("keywords for /privacy", "privacy"),
            description=lambda t: t.gettext("What we keep and why"),
            help=lambda t: t.gettext("/privacy – what we keep and why"),
            listed="help",
            order=30,
        )
    )
    table.add(
        Command(
            "mydata",
            my_data,
            words=lambda t: t.pgettext("keywords for /mydata", "my data"),
            description=lambda t: t.gettext("See what we know about you"),
            help=lambda t: t.gettext("/mydata – see what we know about you"),
            listed="help",
            order=40,
        )
    )
    table.add(
        Command(
            "forget",
            forget,
            words=lambda t: t.pgettext("keywords for /forget", "forget me, delete my data"),
            description=lambda t: t.gettext("Delete everything we know about you"),
            help=lambda t: t.gettext("/forget – delete everything we know about you"),
            listed="help",
            order=50,
        )
    )
    table.add(
        Command(
            "stop",
            stop,
            words=lambda t: t.pgettext("keywords for /stop", "stop, unsubscribe"),
            description=lambda t: t.gettext("Get no more messages"),
            help=lambda t: t.gettext("/stop – get no more messages"),
            listed="help",
            order=60,
        )
    )
