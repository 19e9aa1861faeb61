"""The conversation service: one incoming event in, the messages to send out.

Everything for one event happens in one database transaction: the receipt that makes a
redelivered update harmless, the participant, the conversation state and the answers.
So a crash at any point either keeps the whole turn or none of it, and the person's
next message lands in the right step.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.conversation import builtins
from bot.conversation.commands import parse_command
from bot.conversation.extensions import Actions, Extensions, has_role
from bot.conversation.parts import Parts
from bot.conversation.turns import Incoming, Reply
from bot.deployment import Deployment
from bot.flows import engine
from bot.flows.context import FlowContext
from bot.flows.engine import PREFILL
from bot.flows.events import (
    Ask,
    Done,
    Event,
    Outgoing,
    Pick,
    Say,
    Skip,
    Text,
    Toggle,
    Turn,
)
from bot.flows.library import FlowLibrary
from bot.flows.model import Flow
from bot.flows.state import State
from bot.i18n.catalogs import Catalogs
from bot.i18n.format import format_period
from bot.i18n.translator import base_language
from bot.outbox.followups import schedule_followups
from bot.privacy import erasure
from bot.settings import Settings
from bot.storage import conversations as convs
from bot.storage import participants, receipts, write_through
from bot.storage import polls as stored_flows
from bot.storage.db import Database
from bot.storage.models import Conversation, Participant, utcnow

log = logging.getLogger(__name__)

# How long a reply that could not be delivered is tried again through the outbox.
UNDELIVERED_QUESTION_KEPT = timedelta(days=1)
UNDELIVERED_TEXT_KEPT = timedelta(hours=1)

START_FLOW = "onboarding"
RESUME_FLOW = "resume"
MOVE_FLOW = "move"
LINK_FLOW = "neighbourhood-link"
# The profile's one-value fields a flow in between may fill for the onboarding.
PROFILE_ANSWERS = ("neighbourhood", "age_group")
#: Subflows one turn may enter in a row (a flow that enters itself through another).
MAX_SUBFLOWS = 8


@dataclass(frozen=True)
class StartPayload:
    """What a deep link (`t.me/<bot>?start=n-kerkelanden_c-poster`) tells us."""

    neighbourhood: str | None = None
    campaign: str | None = None


#: Deep links that run a command: `t.me/<bot>?start=w-CODE` is `/worker CODE` (the
#: dashboard's worker invites). Letter, then the command it stands for.
START_COMMANDS = {"w": "worker"}


def start_command(text: str) -> tuple[str, str] | None:
    """The command a deep link's payload stands for, with its argument, or None."""
    kind, dash, argument = text.strip().partition("-")
    command = START_COMMANDS.get(kind)
    return (command, argument) if command and dash and argument else None


def parse_start_payload(text: str, deployment: Deployment) -> StartPayload | None:
    """`n-<neighbourhood>` and `c-<campaign>` parts, joined by `_`; unknown parts are ignored."""
    text = text.strip()
    if not text or len(text) > 64:
        return None
    neighbourhood = campaign = None
    for part in text.split("_"):
        kind, _, value = part.partition("-")
        if kind == "n" and deployment.neighbourhood(value) is not None:
            neighbourhood = value
        elif kind == "c" and value and all(ch.isalnum() or ch == "-" for ch in value):
            campaign = value[:40]
        elif deployment.neighbourhood(part) is not None:
            neighbourhood = part
    if neighbourhood is None and campaign is None:
        return None
    return StartPayload(neighbourhood, campaign)


@dataclass
class _Turn:
    session: AsyncSession
    participant: Participant
    incoming: Incoming
    reply: Reply
    erased: bool = False
    restart_flow: str | None = None
    start_payload: StartPayload | None = None
    subflows: int = 0


class _EffectTarget:
    """What an effect of a turn may do (`bot.flows.effects.EffectTarget`)."""

    def __init__(self, service: ConversationService, turn: _Turn, conversation: Conversation):
        self.service = service
        self.turn = turn
        self.conversation = conversation
        self.refused = False
        self.forgotten = False
        self.entering: str | None = None

    def set_profile(self, field: str, value: object) -> None:
        setattr(self.turn.participant, field, value)

    def consent(self, given: bool) -> None:
        participant = self.turn.participant
        if given:
            participant.consented_at = utcnow()
            participant.consent_version = self.service.deployment.organisation.privacy_version
        else:
            self.refused = True

    async def forget(self) -> None:
        self.forgotten = True

    async def resume(self, restart: bool) -> None:
        await self.service._resume_or_restart(self.turn, self.conversation, restart=restart)

    def enter_flow(self, flow: str) -> None:
        self.entering = flow  # started once the conversation's state is saved


class ConversationService:
    """Runs people's conversations; shared by every channel."""

    def __init__(
        self,
        database: Database,
        library: FlowLibrary,
        deployment: Deployment,
        settings: Settings,
        catalogs: Catalogs | None = None,
        extensions: Extensions | None = None,
    ):
        self.extensions = extensions or Extensions()
        self.commands = self.extensions.commands
        if "start" not in self.commands:
            builtins.register(self.commands)
        self.db = database
        self.library = library
        self.deployment = deployment
        self.settings = settings
        self.catalogs = catalogs or Catalogs(default=settings.default_language)
        # What community handlers, hooks and channels are handed instead of the service.
        self.parts = Parts(
            settings, deployment, library, self.catalogs, database, self.commands, self.context
        )
        self.zone = ZoneInfo(settings.timezone)
        # In every language, as flows show it: the language may change mid-flow.
        days = settings.retention_days
        self.retention_periods = {
            "_": format_period(days, settings.default_language),
            **{code: format_period(days, code) for code in settings.language_list},
        }
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    # ---- entry point ----------------------------------------------------------------

    async def handle(self, incoming: Incoming) -> Reply:
        """Handle one event; events of one person are handled one at a time, in order."""
        async with self._lock(incoming.channel, incoming.user_id):
            reply = await self._handle(incoming)
        if reply.messages is None:
            reply.messages = []
        return reply

    def _lock(self, channel: str, user_id: str) -> asyncio.Lock:
        """One lock a person, so their events (and flows started for them) take turns."""
        lock = self._locks.get((channel, user_id))
        if lock is None:
            lock = asyncio.Lock()
            self._locks[(channel, user_id)] = lock
        return lock

    async def _handle(self, incoming: Incoming) -> Reply:
        erased = False
        async with self.db.transaction() as session:
            if incoming.key and not await receipts.first_time(
                session, incoming.channel, incoming.key, self.settings.secret
            ):
                return await self._duplicate(session, incoming)
            # The active conversation is loaded before anything changes: `convs.active_in`
            # relies on it for the rest of the turn.
            participant, _ = await participants.arrive(session, incoming.channel, incoming.user_id)
            if participant.language is None:
                participant.language = self._initial_language(incoming.language_hint)
            if participant.unreachable_at is not None:
                participant.unreachable_at = None  # they wrote, so they can be reached again
            turn = _Turn(session, participant, incoming, Reply(language=participant.language))
            await self._dispatch(turn)
            erased = turn.erased
            reply = turn.reply
            if not erased:
                reply.language = participant.language or reply.language
                current = self._active(turn)
                reply.conversation_id = current.id if current else None
                # The participant's and the conversation's changes as plain UPDATEs: the
                # commit then has nothing to flush (see `write_through`).
                await write_through.write(session)
        if erased:
            await self._after_erase()
        return reply

    async def _duplicate(self, session: AsyncSession, incoming: Incoming) -> Reply:
        """An update handled before comes again: the platform did not see our reply.

        The answer was stored then; the reply may not have reached the person (a crash
        between storing and sending). So ask the current question again rather than
        stay silent: at worst the person sees it twice, never not at all. A button press
        too: pressed twice it would be a new update, so one coming again is a redelivery
        (a process killed while it replied), and the next question may never have gone.
        """
        reply = Reply(duplicate=True)
        participant = await participants.get(session, incoming.channel, incoming.user_id)
        if participant is None or participant.opted_out_at is not None:
            return reply
        conversation = await convs.active(session, participant.id)
        if conversation is not None:
            reply.messages = await self._question_again(session, conversation, participant)
            reply.conversation_id = conversation.id if reply.messages else None
            reply.language = participant.language or reply.language
        return reply

    # ---- what kind of event ----------------------------------------------------------

    async def _dispatch(self, turn: _Turn) -> None:
        event = turn.incoming.event
        participant = turn.participant
        if isinstance(event, Text):
            command = self._command(event.text, participant)
            if command is not None:
                name, argument = command
                await self._command_turn(turn, name, argument)
                return
        if participant.opted_out_at is not None:
            self._say(
                turn,
                self._t(participant).gettext(
                    "You stopped the messages. Type /start to begin again."
                ),
            )
            return
        conversation = self._active(turn)
        if conversation is None:
            if _is_button(event):
                self._stale(turn)
                return
            await self._no_conversation(turn)
            return
        origin = turn.incoming.conversation_id
        if _is_button(event) and origin is not None and origin != conversation.id:
            await self._earlier_button(turn, conversation, origin, event)
            return
        await self._engine_turn(turn, conversation, event)

    async def _earlier_button(
        self, turn: _Turn, current: Conversation, origin: int, event: Event
    ) -> None:
        """A button of a conversation that waits behind the current one.

        Two invitations in a row: the second pauses the first, yet the person may well
        answer the first one's buttons. Their answer counts: that conversation takes
        over, and the current one waits and is asked again after it. A button of a
        conversation that ended, or of somebody else's, is stale.
        """
        earlier = await turn.session.get(Conversation, origin)
        if (
            earlier is None
            or earlier.participant_id != turn.participant.id
            or earlier.status != convs.PAUSED
        ):
            log.info("stale or foreign button: conversation %s is not the active one", origin)
            self._stale(turn)
            return
        waited_since = earlier.updated_at
        convs.set_status(current, convs.PAUSED)
        convs.set_status(earlier, convs.ACTIVE)
        await self._engine_turn(turn, earlier, event)
        if turn.reply.stale:  # not its current question either: nothing changes
            convs.set_status(earlier, convs.PAUSED)
            earlier.updated_at = waited_since
            convs.set_status(current, convs.ACTIVE)
        elif self._active(turn) is None and current.status == convs.PAUSED:
            # Its flow was gone (closed kindly): the current conversation goes on.
            convs.set_status(current, convs.ACTIVE)

    def _command(self, text: str, participant: Participant) -> tuple[str, str] | None:
        parsed = parse_command(text)
        if parsed is not None:
            return parsed
        languages = [participant.language or self.settings.default_language, "en"]
        translators = [self.catalogs(code) for code in dict.fromkeys(languages)]
        keyword = self.commands.match_word(text, translators)
        return (keyword, "") if keyword else None

    async def _no_conversation(self, turn: _Turn) -> None:
        if turn.participant.consented_at is None:
            await self._start_flow(turn, self.library[START_FLOW])
            return
        t = self._t(turn.participant)
        self._say(turn, t.gettext("Hello again! Type /help to see what you can do."))

    # ---- commands --------------------------------------------------------------------

    async def _command_turn(self, turn: _Turn, name: str, argument: str) -> None:
        """A command of the table (`bot.conversation.commands`), or a flow's command."""
        participant = turn.participant
        t = self._t(participant)
        if (command := self.commands.get(name)) is not None:
            if not has_role(participant, command.role):
                self._not_allowed(turn, name)
                return
            await command.handler(self._actions(turn), argument)
        elif (flow := self.library.by_command(name)) is not None:
            if participant.consented_at is None and flow.role == "resident":
                self._say(turn, t.gettext("First, let us get to know each other."))
                await self._restart_onboarding(turn)
                return
            if not has_role(participant, flow.role):
                self._not_allowed(turn, name)
                return
            await self._interrupt(turn, flow)
        else:
            self._say(
                turn,
                t.gettext("Sorry, I do not know that command. Type /help to see what you can do."),
            )
            await self._repeat_current(turn)

    async def _cmd_start(self, turn: _Turn, argument: str) -> None:
        """Begin, come back after /stop, or pick up an unfinished conversation."""
        participant = turn.participant
        if (wanted := start_command(argument)) is not None and self.commands.get(wanted[0]):
            await self._command_turn(turn, *wanted)
            return
        t = self._t(participant)
        was_stopped = participant.opted_out_at is not None
        participant.opted_out_at = None
        turn.start_payload = parse_start_payload(argument, self.deployment)
        if await self._ask_before_moving(turn):
            return
        conversation = self._active(turn)
        if conversation is None:
            conversation = await convs.latest_unfinished(turn.session, participant.id)
        if conversation is not None:
            self._payload_into(turn, conversation)
            flow = await self._flow(turn.session, conversation.flow_id)
            state = State.from_json(conversation.state)
            answered = any(not key.startswith("_") for key in state.values)
            if flow is not None and participant.consented_at is not None and answered:
                convs.set_status(conversation, convs.PAUSED)
                title = (
                    self.context(participant).for_flow(flow.written).flow_title(flow.id, flow.title)
                )
                await self._start_flow(
                    turn,
                    self.library[RESUME_FLOW],
                    {"flow_title": title, "resume_conversation": conversation.id},
                )
                return
            convs.set_status(conversation, convs.ACTIVE)
            self._say(turn, t.gettext("Welcome back! Let us go on where we were."))
            await self._repeat_current(turn)
            return
        if participant.consented_at is None:
            await self._start_flow(turn, self.library[START_FLOW], self._start_variables(turn))
            return
        if turn.start_payload and turn.start_payload.neighbourhood:
            participant.neighbourhood = turn.start_payload.neighbourhood
        if was_stopped:
            self._say(
                turn,
                t.gettext(
                    "Welcome back! You will get our messages again. "
                    "Type /help to see what you can do."
                ),
            )
        else:
            self._say(turn, t.gettext("Hello again! Type /help to see what you can do."))

    async def _ask_before_moving(self, turn: _Turn) -> bool:
        """A link for another neighbourhood than the one a person gave: ask first.

        People scan posters where they shop, work or visit, so a link does not move
        anyone on its own. The `move` flow asks; its neighbourhood question is answered
        from the link once they say yes. Someone who answered "somewhere else" or "I would
        rather not say" is asked too (`neighbourhood-link`): their answer stands until
        they say yes. What they were doing waits and resumes after it. True when the
        question was asked (the /start ends there).
        """
        payload = turn.start_payload
        participant = turn.participant
        if (
            payload is None
            or not payload.neighbourhood
            or participant.consented_at is None
            or participant.neighbourhood == payload.neighbourhood
            or (there := self.deployment.neighbourhood(payload.neighbourhood)) is None
        ):
            return False
        own = self.deployment.neighbourhood(participant.neighbourhood or "")
        variables: dict[str, object] = {
            "link_neighbourhood": there.name,
            PREFILL: {"neighbourhood": there.key},
        }
        if own is not None:
            flow = self.library.get(MOVE_FLOW)
            variables["own_neighbourhood"] = own.name
        elif self._neighbourhood_asked(turn):
            flow = self.library.get(LINK_FLOW)
        else:  # the onboarding asks it next: the link answers it (`_payload_into`)
            return False
        if flow is None:
            return False
        turn.start_payload = StartPayload(None, payload.campaign)
        current = self._active(turn)
        if current is not None and current.flow_id in (MOVE_FLOW, LINK_FLOW):
            convs.set_status(current, convs.ABANDONED)  # a second link: this one asks
        elif current is not None:
            self._payload_into(turn, current)  # the campaign still counts
        await self._interrupt(turn, flow, variables)
        return True

    def _neighbourhood_asked(self, turn: _Turn) -> bool:
        """Whether the person has answered the onboarding's neighbourhood question (a
        neighbourhood, somewhere else, or rather not say); not while the onboarding
        they are in has yet to ask it."""
        current = self._active(turn)
        if current is None or current.flow_id != START_FLOW:
            return True
        values = State.from_json(current.state).values
        asked = [s.answer_as for s in self.library[START_FLOW].steps if s.kind == "neighbourhood"]
        return any(key in values for key in asked)

    def _payload_into(self, turn: _Turn, conversation: Conversation) -> None:
        """A deep link scanned mid-conversation counts too: its neighbourhood (on the
        profile once consented, else taken when the question comes) and campaign."""
        payload = turn.start_payload
        if payload is None:
            return
        state = State.from_json(conversation.state)
        variables = dict(state.variables)
        if payload.neighbourhood:
            if turn.participant.consented_at is not None:
                turn.participant.neighbourhood = payload.neighbourhood
            variables[PREFILL] = {
                **(variables.get(PREFILL) or {}),
                "neighbourhood": payload.neighbourhood,
            }
        if payload.campaign:
            variables["campaign"] = payload.campaign
        state.variables = variables
        convs.save_state(conversation, state)

    def _start_variables(self, turn: _Turn) -> dict[str, object]:
        payload = turn.start_payload
        if payload is None:
            return {}
        variables: dict[str, object] = {}
        if payload.neighbourhood:
            variables[PREFILL] = {"neighbourhood": payload.neighbourhood}
        if payload.campaign:
            variables["campaign"] = payload.campaign
        return variables

    def _not_allowed(self, turn: _Turn, name: str) -> None:
        # A resident trying a worker's command is ordinary, not a fault: not a warning
        # (warnings interrupt the terminal chat on the operator's screen).
        log.info("/%s refused: participant %s is not allowed", name, turn.participant.id)
        t = self._t(turn.participant)
        self._say(turn, t.gettext("Sorry, only community workers can do that."))

    def _actions(self, turn: _Turn) -> Actions:
        async def start(flow_id: str, variables: dict[str, object] | None) -> None:
            flow = await self._flow(turn.session, flow_id)
            if flow is None:
                raise KeyError(flow_id)
            await self._interrupt(turn, flow, variables)

        async def repeat() -> None:
            await self._repeat_current(turn)

        async def begin(argument: str) -> None:
            await self._cmd_start(turn, argument)

        return Actions(
            self.parts,
            turn.session,
            turn.participant,
            self._t(turn.participant),
            turn.reply.messages,
            start,
            _repeat=repeat,
            _active=lambda: self._active(turn),
            _begin=begin,
        )

    async def _restart_onboarding(self, turn: _Turn) -> None:
        conversation = self._active(turn)
        if conversation is not None and conversation.flow_id == START_FLOW:
            await self._repeat_current(turn)
            return
        await self._start_flow(turn, self.library[START_FLOW])

    async def _interrupt(
        self, turn: _Turn, flow: Flow, variables: dict[str, object] | None = None
    ) -> None:
        """Start `flow` now; the current conversation waits and resumes after it."""
        current = self._active(turn)
        if current is not None:
            if current.flow_id == flow.id and not variables:
                await self._repeat_current(turn)
                return
            convs.set_status(current, convs.PAUSED)
        await self._start_flow(turn, flow, variables)

    # ---- running flows ---------------------------------------------------------------

    def context(self, participant: Participant, hint: str | None = None) -> FlowContext:
        t = self._t(participant)
        return FlowContext(
            language=participant.language or self.settings.default_language,
            translators=self.catalogs,
            deployment=self.deployment,
            languages=tuple(self.settings.language_list),
            suggested_language=self._suggested(hint),
            today=datetime.now(self.zone).date(),
            variables={
                "retention_days": self.settings.retention_days,
                "retention_period": self.retention_periods,
                # A worker's own words replace this once they set them for the neighbourhood.
                "neighbourhood_update": t.gettext(
                    "The community workers read all answers from your neighbourhood. "
                    "They are now making plans together with residents."
                ),
            },
        )

    async def _start_flow(
        self, turn: _Turn, flow: Flow, variables: dict[str, object] | None = None
    ) -> None:
        ctx = self.context(turn.participant, turn.incoming.language_hint)
        provided: dict[str, object] = {}
        for provider in self.extensions.variable_providers:
            provided.update(await provider(turn.session, turn.participant))
        result, state = engine.start(flow, ctx, {**provided, **(variables or {})})
        conversation = await convs.begin(turn.session, turn.participant.id, state)
        await self._apply(turn, conversation, result, state)

    async def _engine_turn(self, turn: _Turn, conversation: Conversation, event: Event) -> None:
        flow = await self._flow(turn.session, conversation.flow_id)
        state = State.from_json(conversation.state)
        if flow is None or state.step is None or not flow.has_step(state.step):
            # The flow was removed or changed under this conversation: close it kindly.
            convs.set_status(conversation, convs.ABANDONED)
            await self._no_conversation(turn)
            return
        ctx = self.context(turn.participant, turn.incoming.language_hint)
        result, state = engine.handle(flow, state, event, ctx)
        if result.stale:
            turn.reply.stale = True
            turn.reply.messages.extend(result.messages)
            return
        await self._apply(turn, conversation, result, state)

    async def _apply(
        self, turn: _Turn, conversation: Conversation, result: Turn, state: State
    ) -> None:
        """Store what the engine decided, then go on with the next flow if this one ended."""
        participant = turn.participant
        session = turn.session
        turn.reply.accepted = result.accepted or turn.reply.accepted
        target = _EffectTarget(self, turn, conversation)
        for effect in result.effects:
            await effect.apply(target)
            if target.forgotten:
                turn.reply.messages.extend(result.messages)
                await self._forget(turn)
                return
        refused = target.refused
        if result.language:
            turn.reply.language = result.language
        turn.reply.messages.extend(result.messages)
        if refused:
            # No consent: keep nothing more about this person than the row of this turn,
            # which goes too.
            await erasure.erase_person(session, participant.id)
            turn.erased = True
            return
        if participant.consented_at is not None and result.answers:
            await write_through.write(session)  # before the insert's autoflush would
            await convs.store_answers(
                session,
                conversation,
                result.answers,
                participant.language,
                participant.neighbourhood,
            )
        convs.save_state(conversation, state)
        if target.entering is not None:
            await self._enter(turn, conversation, target.entering)
            return
        if state.finished:
            for hook in self.extensions.finish_hooks.get(conversation.flow_id, []):
                await hook(self._actions(turn), conversation, state)
            await self._after_finish(turn, conversation)

    async def _enter(self, turn: _Turn, conversation: Conversation, flow_id: str) -> None:
        """A `subflow` step: `flow_id` runs now, this conversation goes on after it.

        The conversation waits as paused; when the subflow ends, `_after_finish` makes
        it active again and `_repeat_current` takes it on from the step's `next`
        (`engine.returned`). A subflow that is gone, or one too many in a row (flows
        that enter each other), is passed by: the flow goes on at once.
        """
        child = self.library.get(flow_id)
        turn.subflows += 1
        if child is None or turn.subflows > MAX_SUBFLOWS:
            log.warning(
                "subflow %r of %s passed by: %s",
                flow_id,
                conversation.flow_id,
                "no such flow" if child is None else "too many in a row",
            )
            await self._go_on_after_subflow(turn, conversation)
            return
        convs.set_status(conversation, convs.PAUSED)
        await self._start_flow(turn, child)

    async def _go_on_after_subflow(self, turn: _Turn, conversation: Conversation) -> None:
        flow = self.library.get(conversation.flow_id)
        if flow is None:
            return
        state = State.from_json(conversation.state)
        ctx = self.context(turn.participant, turn.incoming.language_hint)
        result, state = engine.returned(flow, state, ctx)
        await self._apply(turn, conversation, result, state)

    async def _resume_or_restart(
        self, turn: _Turn, conversation: Conversation, restart: bool
    ) -> None:
        """The person chose, in the resume flow, to go on or to start again."""
        target_id = State.from_json(conversation.state).variables.get("resume_conversation")
        target = await turn.session.get(Conversation, target_id) if target_id else None
        if target is None or target.participant_id != turn.participant.id:
            return
        if restart:
            convs.set_status(target, convs.ABANDONED)
            turn.restart_flow = target.flow_id
        else:
            convs.set_status(target, convs.PAUSED)

    async def _after_finish(self, turn: _Turn, conversation: Conversation) -> None:
        flow = await self._flow(turn.session, conversation.flow_id)
        participant = turn.participant
        if flow is not None and flow.followups and participant.consented_at is not None:
            await schedule_followups(
                turn.session,
                participant.id,
                flow,
                conversation.id,
                conversation.finished_at or utcnow(),
                values=State.from_json(conversation.state).values,
            )
        if self._active(turn) is not None:
            return  # a hook started a flow: what waits resumes after that one ends
        again = await self._flow(turn.session, turn.restart_flow) if turn.restart_flow else None
        if again is not None:
            turn.restart_flow = None
            await self._start_flow(turn, again)
            return
        if flow is not None and flow.then and participant.consented_at is not None:
            following = self.library.get(flow.then)
            if following is not None and not _survey_for_worker(participant, following):
                await self._start_flow(turn, following)
                return
        paused = await convs.latest_paused(turn.session, participant.id)
        paused_flow = await self._flow(turn.session, paused.flow_id) if paused else None
        if paused is not None and not (
            flow is not None
            and flow.role != "resident"
            and _survey_for_worker(participant, paused_flow)
        ):
            convs.set_status(paused, convs.ACTIVE)
            if (
                paused_flow is not None
                and paused.flow_id == START_FLOW
                and await self._answered_from_profile(turn, paused, paused_flow)
            ):
                return
            await self._repeat_current(turn)

    async def _answered_from_profile(
        self, turn: _Turn, conversation: Conversation, flow: Flow
    ) -> bool:
        """The onboarding goes on after a flow that ran in between (a poster's, or
        `chat --flow`, right after consent). What that flow put in the person's profile
        (a `set` or a question with `store_as`: a neighbourhood, an age group) answers the
        onboarding's question for it: nobody is asked twice. False when it had nothing
        to answer (the question is then asked again as usual)."""
        participant = turn.participant
        state = State.from_json(conversation.state)
        known = {
            step.answer_as: value
            for step in flow.steps
            if step.store_as in PROFILE_ANSWERS
            and step.answer_as not in state.values
            and (value := getattr(participant, step.store_as))
        }
        if not known or engine.waiting_for(flow, state):
            return False
        prefill = {**(state.variables.get(PREFILL) or {}), **known}
        state.variables = {**state.variables, PREFILL: prefill}
        ctx = self.context(participant, turn.incoming.language_hint)
        result, state = engine.resumed(flow, state, ctx)
        await self._apply(turn, conversation, result, state)
        return True

    async def _repeat_current(self, turn: _Turn) -> None:
        conversation = self._active(turn)
        if conversation is None:
            if turn.participant.consented_at is None and turn.participant.opted_out_at is None:
                await self._start_flow(turn, self.library[START_FLOW])
            return
        flow = self.library.get(conversation.flow_id)
        if flow is not None and engine.waiting_for(flow, State.from_json(conversation.state)):
            # It waited for a subflow, which has ended: go on after it.
            await self._go_on_after_subflow(turn, conversation)
            return
        hint = turn.incoming.language_hint
        turn.reply.messages.extend(
            await self._question_again(turn.session, conversation, turn.participant, hint)
        )

    async def _question_again(
        self,
        session: AsyncSession,
        conversation: Conversation,
        participant: Participant,
        hint: str | None = None,
    ) -> list[Outgoing]:
        """The current question of a conversation, asked again; nothing if it has none."""
        flow = await self._flow(session, conversation.flow_id)
        state = State.from_json(conversation.state)
        if flow is None or state.step is None or not flow.has_step(state.step):
            return []
        return list(engine.repeat(flow, state, self.context(participant, hint)).messages)

    # ---- rights ----------------------------------------------------------------------

    async def _forget(self, turn: _Turn) -> None:
        t = self._t(turn.participant)
        for hook in self.extensions.erase_hooks:
            await hook(turn.session, self.parts, turn.participant.id)
        await erasure.erase_person(turn.session, turn.participant.id)
        turn.erased = True
        self._say(
            turn,
            t.gettext("Done. We deleted everything we knew about you. Type /start to begin again."),
        )

    async def _after_erase(self) -> None:
        """Make erased rows leave the database file and its journal too."""
        await erasure.vacuum_after_erase(self.db)

    # ---- for channels and the outbox -------------------------------------------------

    async def mark_unreachable(self, channel: str, user_id: str) -> None:
        """The person blocked the bot or left the platform: send them nothing more."""
        async with self.db.transaction() as session:
            participant = await participants.get(session, channel, user_id)
            if participant is not None and participant.unreachable_at is None:
                participant.unreachable_at = utcnow()

    async def undelivered(self, channel: str, user_id: str, reply: Reply) -> bool:
        """A direct reply the platform would not take, after every retry: queue it again.

        The outbox tries later, however long the platform is down: the current question
        again when the reply asked one (it is what the person needs to go on), otherwise
        the reply's texts, which are worth less the later they come. Files are not kept
        (the person can ask again). Returns whether anything was queued.
        """
        messages = reply.messages or []
        texts = [m.text for m in messages if isinstance(m, Say) and m.text.strip()]
        asked = reply.conversation_id if any(isinstance(m, Ask) for m in messages) else None
        if asked is None and not texts:
            return False
        now = utcnow()
        async with self.db.transaction() as session:
            participant = await participants.get(session, channel, user_id)
            if participant is None or participant.opted_out_at or participant.unreachable_at:
                return False
            if asked is not None:
                content = outbox.question(asked)
                expires = now + UNDELIVERED_QUESTION_KEPT
            else:
                content = outbox.text("\n\n".join(texts))
                expires = now + UNDELIVERED_TEXT_KEPT
            await outbox.enqueue(
                session,
                participant.id,
                "reply",
                content,
                urgent=True,  # an answer to what the person just wrote: not held
                channel=channel,
                expires_at=expires,
                now=now,
            )
        return True

    async def start_flow_for(
        self, participant_id: int, flow_id: str, variables: dict[str, object] | None = None
    ) -> Reply:
        """Start a flow for someone who did not write first (a follow-up, an invitation).

        The conversation they are in waits and resumes when this one ends.
        """
        async with self.db.transaction() as session:
            found = await session.get(Participant, participant_id)
            if found is None:
                return Reply()
            channel, user_id = found.channel, found.channel_user_id
        async with self._lock(channel, user_id), self.db.transaction() as session:
            participant = await session.get(Participant, participant_id)
            if participant is None:
                return Reply()
            incoming = Incoming(participant.channel, participant.channel_user_id, Text(""))
            turn = _Turn(session, participant, incoming, Reply(language=participant.language or ""))
            current = await convs.active(session, participant.id)
            if current is not None:
                convs.set_status(current, convs.PAUSED)
            flow = await self._flow(session, flow_id)
            if flow is None:
                log.warning("flow %r is not known: not started", flow_id)
                return Reply()
            await self._start_flow(turn, flow, dict(variables or {}))
            active = self._active(turn)
            turn.reply.conversation_id = active.id if active else None
            return turn.reply

    async def start_chosen_flow(self, channel: str, user_id: str, flow_id: str) -> Reply | None:
        """Start `flow_id` at once for a person who consented (`buurtbot chat --flow`).

        None when they have not consented yet: the welcome and consent come first.
        """
        async with self.db.transaction() as session:
            found = await participants.get(session, channel, user_id)
            if found is None or found.consented_at is None or found.opted_out_at is not None:
                return None
            participant_id = found.id
        return await self.start_flow_for(participant_id, flow_id)

    async def reply_for(self, conversation_id: int) -> Reply:
        """The current question of a conversation again (to resend what did not arrive)."""
        async with self.db.transaction() as session:
            conversation = await session.get(Conversation, conversation_id)
            if conversation is None or conversation.status != convs.ACTIVE:
                return Reply()
            participant = await session.get(Participant, conversation.participant_id)
            if participant is None:
                return Reply()
            messages = await self._question_again(session, conversation, participant)
            return Reply(
                messages=messages,
                language=participant.language or self.settings.default_language,
                conversation_id=conversation.id if messages else None,
            )

    # ---- small helpers ---------------------------------------------------------------

    async def _flow(self, session: AsyncSession, flow_id: str | None) -> Flow | None:
        """A flow by id: the deployment's, or a poll written while the bot runs (read from
        the database the first time this process needs it, so another process's new
        poll runs here too)."""
        return await stored_flows.find(session, self.library, flow_id)

    @staticmethod
    def _active(turn: _Turn) -> Conversation | None:
        """The person's active conversation as this turn has left it so far."""
        return None if turn.erased else convs.active_in(turn.session, turn.participant.id)

    def _stale(self, turn: _Turn) -> None:
        turn.reply.stale = True
        self._say(
            turn, self._t(turn.participant).gettext("This button is from an earlier question.")
        )

    def _t(self, participant: Participant):
        return self.catalogs(participant.language or self.settings.default_language)

    def _say(self, turn: _Turn, message: str) -> None:
        turn.reply.messages.append(Say(message))

    def _suggested(self, hint: str | None) -> str | None:
        if not hint:
            return None
        offered = self.settings.language_list
        for code in (hint, base_language(hint)):
            if code in offered:
                return code
        return None

    def _initial_language(self, hint: str | None) -> str:
        return self._suggested(hint) or self.settings.default_language


def _survey_for_worker(participant: Participant, flow: Flow | None) -> bool:
    """Whether `flow` is a residents' flow the bot would push at a community worker.

    Workers are not walked into the residents' survey (after onboarding), nor back into
    it after each worker flow; they answer it only when they ask (`/matters`, `/start`).
    """
    return flow is not None and flow.role == "resident" and has_role(participant, "worker")


def _is_button(event: Event) -> bool:
    return isinstance(event, Pick | Toggle | Done | Skip)
