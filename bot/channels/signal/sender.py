"""Sending to Signal: one reply to one person, and what signal-cli's answers mean.

`SignalSender` is the channel's side of the outbox (`bot.delivery.sender.Sender`) and
also sends the channel's direct replies. signal-cli answers a send that reached nobody
with an error whose `data.response.results` says why, per recipient:

* -1 with `UNREGISTERED_FAILURE` (or "... is not registered"): the person left Signal.
  UNREACHABLE, and the person is marked so.
* -5 with `RATE_LIMIT_FAILURE` (and maybe `retryAfterSeconds`): too fast. RETRY after
  that long (a minute if it names no time); the whole channel waits.
* -5 with a `token`: Signal wants a captcha ("proof required"). The token and the
  operator's `submitRateLimitChallenge` command are logged once; sending is held; RETRY.
* -4 or `IDENTITY_FAILURE`: a safety number changed and is not trusted. Logged for the
  operator; RETRY later.
* -3, `NETWORK_FAILURE`, or the daemon not answering: passing trouble. RETRY.
* -32602 "Specified account does not exist": the bot's number is not on the daemon.
  Logged for the operator; RETRY later.
* anything else: a request we got wrong. FAILED.

A reply of several messages that fails halfway is resumed, not repeated: the parts that
went out are remembered for a while, and a retry of the same reply skips them.
Every options message's timestamp is remembered with its question (`AskMemory`), so a
reaction on it can be read as the answer to that question.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.channels.signal.client import (
    INTERNAL_ERROR,
    IO_ERROR,
    RATE_LIMIT_ERROR,
    UNTRUSTED_KEY_ERROR,
    USER_ERROR,
    DaemonUnavailable,
    RpcError,
    SignalClient,
)
from bot.channels.signal.render import Part, render
from bot.conversation.turns import Reply
from bot.delivery.sender import Delivery, Status
from bot.flows.events import Ask
from bot.i18n.translator import Translator

log = logging.getLogger(__name__)

CHANNEL = "signal"
RATE_LIMIT_PAUSE = 60.0
"""How long to wait after a rate-limit answer that names no time."""
PROOF_REQUIRED_HOLD = 900.0
"""Longest hold after a captcha request: then one send tries whether it was solved."""
TRANSIENT_RETRY = 15.0
OPERATOR_RETRY = 300.0
MAX_WAIT_IN_DELIVER = 5.0
"""A pause longer than this is not waited out inside `deliver`: it answers RETRY."""
CAPTCHA_PAGE = "https://signalcaptchas.org/challenge/generate.html"


# ---- the questions sent, for reactions ------------------------------------------------


@dataclass(frozen=True)
class SentAsk:
    """A question as sent: enough to read a reaction on it as an answer."""

    step: str
    values: tuple[str, ...]
    multiple: bool
    conversation_id: int | None

    @classmethod
    def of(cls, ask: Ask, conversation_id: int | None) -> SentAsk:
        values = tuple(option.value for option in ask.options)
        return cls(ask.step, values, ask.multiple, conversation_id)


class AskMemory:
    """The last few options messages sent to each person, by their Signal timestamp.

    Kept in memory only: after a restart a reaction on an older message is not read as
    an answer (the person is asked to answer again), which is safe.
    """

    def __init__(self, per_person: int = 8, people: int = 20_000):
        self.per_person = per_person
        self.people = people
        self._sent: OrderedDict[str, OrderedDict[int, SentAsk]] = OrderedDict()
        self._latest: dict[str, SentAsk] = {}

    def remember(self, user_id: str, timestamp: int, ask: SentAsk) -> None:
        sent = self._sent.setdefault(user_id, OrderedDict())
        self._sent.move_to_end(user_id)
        sent[timestamp] = ask
        self._latest[user_id] = ask
        while len(sent) > self.per_person:
            sent.popitem(last=False)
        while len(self._sent) > self.people:
            gone, _ = self._sent.popitem(last=False)
            self._latest.pop(gone, None)

    def lookup(self, user_id: str, timestamp: int) -> SentAsk | None:
        return self._sent.get(user_id, {}).get(timestamp)

    def latest(self, user_id: str) -> SentAsk | None:
        """The question most recently sent to the person (None after a reply without one)."""
        return self._latest.get(user_id)

    def no_question(self, user_id: str) -> None:
        self._latest.pop(user_id, None)


# ---- pacing ---------------------------------------------------------------------------


class Limiter:
    """At most `rate` sends a second over the whole channel, and a channel-wide pause."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.clock = clock
        self._next = 0.0
        self._paused_until = 0.0

    @property
    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self.clock())

    def pause(self, seconds: float) -> None:
        until = self.clock() + max(0.0, seconds)
        self._paused_until = max(self._paused_until, until)
        self._next = max(self._next, self._paused_until)

    def resume(self) -> None:
        """End a pause now (the operator solved the captcha)."""
        self._paused_until = 0.0
        self._next = min(self._next, self.clock())

    async def wait(self) -> None:
        now = self.clock()
        slot = max(now, self._next, self._paused_until)
        self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


# ---- the sender -----------------------------------------------------------------------


@dataclass
class _Partial:
    fingerprint: str
    sent: int
    until: float


class SignalSender:
    """Delivers replies over signal-cli; see the module docstring for the error mapping."""

    channel = CHANNEL

    def __init__(
        self,
        client: SignalClient,
        translators: Callable[[str], Translator] | None = None,
        *,
        rate: float = 2.0,
        per_chat_interval: float = 1.0,
        asks: AskMemory | None = None,
        on_unreachable: Callable[[str], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.client = client
        self.translators = translators
        self.rate = rate
        self.per_chat_interval = per_chat_interval
        self.asks = asks or AskMemory()
        self.on_unreachable = on_unreachable
        self.clock = clock
        self.limiter = Limiter(rate, clock)
        self._partial: dict[str, _Partial] = {}
        self._told: set[str] = set()

    # ---- Sender ----------------------------------------------------------------------

    async def deliver(self, user_id: str, reply: Reply) -> Delivery:
        """Send every message of `reply` to the person; say how it went."""
        parts = self.parts(reply)
        if not parts:
            return Delivery(Status.SENT)
        paused = self.limiter.paused_for
        if paused > MAX_WAIT_IN_DELIVER:
            return Delivery(Status.RETRY, retry_after=paused, error="Signal sending is on hold")
        fingerprint = _fingerprint(user_id, parts)
        skip = 0
        partial = self._partial.get(user_id)
        if partial and partial.fingerprint == fingerprint and partial.until > self.clock():
            skip = partial.sent  # these went out before the failure
        self._partial.pop(user_id, None)
        for index in range(skip, len(parts)):
            part = parts[index]
            await self.limiter.wait()
            try:
                result = await self.client.send(
                    user_id, part.text, [part.attachment] if part.attachment else None
                )
            except (RpcError, DaemonUnavailable) as error:
                delivery = await self._failed(user_id, error)
                if delivery.status is Status.RETRY and index > 0:
                    self._partial[user_id] = _Partial(fingerprint, index, self.clock() + 3600)
                return delivery
            own = _own_result(result.results, user_id)
            if own is not None and own.get("type") not in (None, "SUCCESS"):
                # signal-cli reports a failure per recipient; with one recipient it raises,
                # but read the results anyway.
                refused = RpcError(USER_ERROR, "", {"results": result.results}, "send")
                delivery = await self._failed(user_id, refused)
                if delivery.status is Status.RETRY and index > 0:
                    self._partial[user_id] = _Partial(fingerprint, index, self.clock() + 3600)
                return delivery
            if part.ask is not None and result.timestamp:
                self.asks.remember(
                    user_id, result.timestamp, SentAsk.of(part.ask, reply.conversation_id)
                )
        if reply.conversation_id is None and not any(part.ask for part in parts):
            self.asks.no_question(user_id)
        return Delivery(Status.SENT)

    def parts(self, reply: Reply) -> list[Part]:
        t = self.translators(reply.language) if self.translators else None
        parts: list[Part] = []
        for message in reply.messages:
            parts.extend(render(message, reply.language, t))
        return [part for part in parts if part.text or part.attachment]

    # ---- what went wrong -------------------------------------------------------------

    async def _failed(self, user_id: str, error: RpcError | DaemonUnavailable) -> Delivery:
        if isinstance(error, DaemonUnavailable):
            return Delivery(Status.RETRY, retry_after=TRANSIENT_RETRY, error=str(error))
        results = [r for r in error.results if _is_for(r, user_id)] or error.results
        types = {str(r.get("type")) for r in results}
        tokens = [str(r["token"]) for r in results if r.get("token")]
        waits = [float(r["retryAfterSeconds"]) for r in results if r.get("retryAfterSeconds")]
        text = error.message or ", ".join(sorted(types))
        if tokens:
            hold = min(max(waits, default=PROOF_REQUIRED_HOLD), PROOF_REQUIRED_HOLD)
            self.limiter.pause(hold)
            self._tell_captcha(tokens[0], max(waits, default=0.0))
            return Delivery(Status.RETRY, retry_after=hold, error=f"proof required: {text}")
        if error.code == RATE_LIMIT_ERROR or "RATE_LIMIT_FAILURE" in types:
            wait = max(waits, default=RATE_LIMIT_PAUSE)
            self.limiter.pause(wait)
            log.warning("Signal: rate limited; sending waits %.0f s", wait)
            return Delivery(Status.RETRY, retry_after=wait, error=f"rate limited: {text}")
        if "UNREGISTERED_FAILURE" in types or (
            error.code == USER_ERROR and "not registered" in error.message
        ):
            if self.on_unreachable is not None:
                await self.on_unreachable(user_id)
            return Delivery(Status.UNREACHABLE, error=f"not on Signal: {text}")
        if error.code == UNTRUSTED_KEY_ERROR or "IDENTITY_FAILURE" in types:
            self._tell_once(
                "identity",
                "Signal: a person's safety number changed and signal-cli does not trust the "
                "new one; start the daemon with --trust-new-identities=always (see README, "
                "Signal). Their messages wait.",
            )
            return Delivery(Status.RETRY, retry_after=OPERATOR_RETRY, error=f"untrusted: {text}")
        if error.account_missing:
            self._tell_once(
                "account",
                f"Signal: the daemon no longer has the bot's number {self.client.account}: "
                "register or link it again (see README, Signal). Messages wait.",
            )
            return Delivery(Status.RETRY, retry_after=OPERATOR_RETRY, error=text)
        transient = {"NETWORK_FAILURE", "INVALID_PRE_KEY_FAILURE"}
        if error.code in (IO_ERROR, INTERNAL_ERROR) or types & transient:
            return Delivery(Status.RETRY, retry_after=TRANSIENT_RETRY, error=text)
        return Delivery(Status.FAILED, error=f"{error.code}: {text}")

    def _tell_captcha(self, token: str, wait: float) -> None:
        call = (
            '{"jsonrpc":"2.0","id":1,"method":"submitRateLimitChallenge","params":'
            f'{{"account":"{self.client.account}","challenge":"{token}",'
            '"captcha":"signalcaptcha://..."}}'
        )
        after = f" or wait {wait:.0f} s" if wait else ""
        self._tell_once(
            f"captcha:{token}",
            f"Signal wants a captcha before the bot may send more (proof required, challenge "
            f"token {token}). Solve it at {CAPTCHA_PAGE}, then submit it{after}: "
            f"signal-cli -a {self.client.account} submitRateLimitChallenge --challenge {token} "
            f"--captcha 'signalcaptcha://...' (with the daemon running: curl -s -H "
            f"'Content-Type: application/json' -d '{call}' {self.client.rpc_url}). "
            "Sending is on hold until then.",
        )

    def _tell_once(self, key: str, message: str) -> None:
        if key in self._told:
            return
        self._told.add(key)
        log.error(message)


def _fingerprint(user_id: str, parts: list[Part]) -> str:
    digest = hashlib.sha256(user_id.encode())
    for part in parts:
        digest.update(b"\0" + part.text.encode() + b"\0" + (part.attachment or "").encode())
    return digest.hexdigest()


def _is_for(result: dict[str, Any], user_id: str) -> bool:
    address = result.get("recipientAddress")
    if not isinstance(address, dict):
        return False
    return user_id in (address.get("uuid"), address.get("number"))


def _own_result(results: list[dict[str, Any]], user_id: str) -> dict[str, Any] | None:
    return next((r for r in results if _is_for(r, user_id)), None)
