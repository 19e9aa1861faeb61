"""A client for signal-cli's HTTP daemon: JSON-RPC requests and the event stream.

signal-cli (`signal-cli daemon --http HOST:PORT`) offers three endpoints:

* `POST /api/v1/rpc` — JSON-RPC 2.0 (`send`, `sendReceipt`, `version`, ...). In
  multi-account mode (no `-a`) every call names the account; a single-account daemon
  ignores the extra parameter, so this client always sends it.
* `GET /api/v1/events` — Server-Sent Events, one `event:receive` / `data:{json}` frame a
  message and a `:` keep-alive line every 15 s. The data is `{"account", "envelope"}`.
* `GET /api/v1/check` — 200 when the daemon runs.

`EventStream` keeps the event stream open: when it drops it reconnects with growing,
jittered pauses. Started with `--receive-mode=on-connection`, the daemon keeps what
arrives while nobody listens, so a reconnect loses nothing; what it (or the Signal
server) delivers twice the channel recognises by sender and timestamp.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

# JSON-RPC's own codes, and signal-cli's (SignalJsonRpcCommandHandler).
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
USER_ERROR = -1
IO_ERROR = -3
UNTRUSTED_KEY_ERROR = -4
RATE_LIMIT_ERROR = -5

DEFAULT_TIMEOUT = 30.0
DEFAULT_READ_TIMEOUT = 60.0
"""Longest silence on the event stream before it counts as dropped (keep-alives: 15 s)."""


class SignalError(Exception):
    """Something went wrong talking to the signal-cli daemon."""


class DaemonUnavailable(SignalError):
    """The daemon cannot be reached, timed out, or answered with an HTTP error."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class RpcError(SignalError):
    """A JSON-RPC error answer: `code`, `message` and signal-cli's `data`."""

    def __init__(self, code: int, message: str, data: Any = None, method: str = ""):
        super().__init__(f"{method or 'rpc'}: {message} ({code})")
        self.code = code
        self.message = message
        self.data = data
        self.method = method

    @property
    def results(self) -> list[dict[str, Any]]:
        """The per-recipient results signal-cli attaches to a failed send."""
        return send_results(self.data)

    @property
    def method_not_found(self) -> bool:
        return self.code == METHOD_NOT_FOUND

    @property
    def account_missing(self) -> bool:
        """The daemon has no such account (not registered or linked there)."""
        return self.code == INVALID_PARAMS and "account" in self.message.lower()


def send_results(data: Any) -> list[dict[str, Any]]:
    """`results` from a send's result or from an error's `data.response`."""
    if not isinstance(data, dict):
        return []
    if isinstance(data.get("response"), dict):
        data = data["response"]
    results = data.get("results")
    return [r for r in results if isinstance(r, dict)] if isinstance(results, list) else []


@dataclass(frozen=True)
class SendResult:
    """What `send` answered: the message's timestamp (its id) and per-recipient results."""

    timestamp: int
    results: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ServerEvent:
    """One Server-Sent Event."""

    event: str
    data: str
    id: str | None = None


class SignalClient:
    """JSON-RPC calls to one account of a signal-cli daemon, over HTTP."""

    def __init__(
        self,
        base_url: str,
        account: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
    ):
        self.base_url = base_url.rstrip("/")
        self.account = account
        self.timeout = timeout
        self.read_timeout = read_timeout
        self._ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None

    @property
    def rpc_url(self) -> str:
        return f"{self.base_url}/api/v1/rpc"

    @property
    def events_url(self) -> str:
        return f"{self.base_url}/api/v1/events"

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers={"User-Agent": "buurtbot"},
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def __aenter__(self) -> SignalClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---- plain HTTP ------------------------------------------------------------------

    async def check(self) -> None:
        """Raise `DaemonUnavailable` unless `GET /api/v1/check` answers 200."""
        try:
            async with self._http().get(f"{self.base_url}/api/v1/check") as response:
                if response.status != 200:
                    raise DaemonUnavailable(
                        f"{self.base_url}/api/v1/check answered HTTP {response.status}",
                        response.status,
                    )
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DaemonUnavailable(f"cannot reach {self.base_url}: {_describe(error)}") from None

    # ---- JSON-RPC --------------------------------------------------------------------

    async def rpc(self, method: str, params: dict[str, Any] | None = None, account: bool = True):
        """Call `method`; returns its `result` or raises `RpcError` / `DaemonUnavailable`."""
        payload: dict[str, Any] = {"jsonrpc": "2.0", "id": next(self._ids), "method": method}
        params = dict(params or {})
        if account:
            params["account"] = self.account
        if params:
            payload["params"] = params
        try:
            async with self._http().post(self.rpc_url, json=payload) as response:
                if response.status != 200:
                    raise DaemonUnavailable(
                        f"{method}: the daemon answered HTTP {response.status}", response.status
                    )
                try:
                    answer = await response.json(content_type=None)
                except (json.JSONDecodeError, aiohttp.ContentTypeError, ValueError):
                    raise DaemonUnavailable(f"{method}: the daemon's answer is not JSON") from None
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DaemonUnavailable(f"{method}: {_describe(error)}") from None
        if not isinstance(answer, dict):
            raise DaemonUnavailable(f"{method}: unexpected answer {answer!r:.200}")
        error = answer.get("error")
        if error is not None:
            if not isinstance(error, dict):
                raise RpcError(INTERNAL_ERROR, str(error), None, method)
            raise RpcError(
                int(error.get("code", INTERNAL_ERROR)),
                str(error.get("message", "")),
                error.get("data"),
                method,
            )
        return answer.get("result")

    async def version(self) -> str:
        result = await self.rpc("version", account=False)
        return str((result or {}).get("version", "")) if isinstance(result, dict) else ""

    async def list_accounts(self) -> list[str]:
        """The numbers (or account ids) the daemon has; a single-account daemon refuses."""
        result = await self.rpc("listAccounts", account=False)
        accounts = []
        for entry in result or []:
            if isinstance(entry, dict):
                accounts.extend(str(entry[k]) for k in ("number", "aci", "uuid") if entry.get(k))
            elif isinstance(entry, str):
                accounts.append(entry)
        return accounts

    async def send(
        self, recipient: str, message: str, attachments: list[str] | None = None
    ) -> SendResult:
        params: dict[str, Any] = {"recipient": [recipient], "message": message}
        if attachments:
            params["attachments"] = attachments
        result = await self.rpc("send", params)
        result = result if isinstance(result, dict) else {}
        return SendResult(int(result.get("timestamp") or 0), send_results(result))

    async def send_receipt(self, recipient: str, timestamps: list[int], kind: str = "read") -> None:
        # `recipient` is one string here, not a list; timestamps are JSON numbers.
        await self.rpc(
            "sendReceipt",
            {"recipient": recipient, "targetTimestamp": [int(t) for t in timestamps], "type": kind},
        )

    # ---- the event stream ------------------------------------------------------------

    async def events(
        self,
        on_event: Callable[[ServerEvent], Awaitable[None]],
        last_event_id: str | None = None,
        on_open: Callable[[], None] | None = None,
    ) -> None:
        """Read one connection of the event stream until it ends; raise on failure.

        Keep-alive comments reset the read timeout; every complete frame goes to
        `on_event`. Returns when the daemon closes the stream.
        """
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.timeout, sock_read=None)
        try:
            async with self._http().get(
                self.events_url,
                params={"account": self.account},
                headers=headers,
                timeout=timeout,
            ) as response:
                if response.status != 200:
                    raise DaemonUnavailable(
                        f"the event stream answered HTTP {response.status}"
                        + (" (the account is not on the daemon)" if response.status == 400 else ""),
                        response.status,
                    )
                if on_open is not None:
                    on_open()
                parser = SseParser()
                while True:
                    # `asyncio.timeout`, not `wait_for`: on Python 3.11 `wait_for` drops
                    # a cancellation that comes as a keep-alive arrives, and this loop
                    # would read on after `stop` for good.
                    try:
                        async with asyncio.timeout(self.read_timeout):
                            chunk = await response.content.readany()
                    except TimeoutError:
                        raise DaemonUnavailable(
                            f"no data on the event stream for {self.read_timeout:.0f} s"
                        ) from None
                    if not chunk:
                        return
                    for event in parser.feed(chunk):
                        await on_event(event)
        except (aiohttp.ClientError, ConnectionError) as error:
            raise DaemonUnavailable(f"event stream: {_describe(error)}") from None


class SseParser:
    """Server-Sent Events, as the WHATWG spec reads them, fed in arbitrary chunks."""

    def __init__(self) -> None:
        self._buffer = b""
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None
        self.last_id: str | None = None

    def feed(self, chunk: bytes) -> list[ServerEvent]:
        self._buffer += chunk
        events: list[ServerEvent] = []
        while True:
            line, found = self._next_line()
            if not found:
                return events
            event = self._line(line)
            if event is not None:
                events.append(event)

    def _next_line(self) -> tuple[str, bool]:
        buffer = self._buffer
        ends = [i for i in (buffer.find(b"\n"), buffer.find(b"\r")) if i >= 0]
        if not ends:
            return "", False
        index = min(ends)
        end = index + 1
        if buffer[index] == 0x0D:
            if index + 1 == len(buffer):
                return "", False  # wait: it may be the first half of \r\n
            if buffer[index + 1] == 0x0A:
                end = index + 2
        self._buffer = buffer[end:]
        return buffer[:index].decode("utf-8", errors="replace"), True

    def _line(self, line: str) -> ServerEvent | None:
        if line == "":
            if not self._data and not self._event:
                return None
            event = ServerEvent(self._event or "message", "\n".join(self._data), self._id)
            self._event, self._data = "", []
            return event
        if line.startswith(":"):
            return None  # a comment: the keep-alive
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value or None
            self.last_id = self._id
        return None


class EventStream:
    """Keeps the event stream open and hands each `receive` payload to `handler`.

    Reconnects after any failure with pauses of `initial_backoff` doubling to
    `max_backoff` (with jitter); a connection that delivered anything resets the pause.
    """

    def __init__(
        self,
        client: SignalClient,
        handler: Callable[[dict[str, Any]], Awaitable[None]],
        initial_backoff: float = 0.5,
        max_backoff: float = 30.0,
        may_read: Callable[[], bool] = lambda: True,
        on_reading: Callable[[], Awaitable[None]] | None = None,
    ):
        self.client = client
        self.handler = handler
        # Several processes: only the one that `may_read` reads the stream; the others
        # wait, and `on_reading` runs each time this one begins to read (a take-over).
        self.may_read = may_read
        self.on_reading = on_reading
        self.standby = False
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.connections = 0
        self.connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_id: str | None = None
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="signal-events")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        backoff = self.initial_backoff
        failures = 0
        while not self._stopping:
            if not self.may_read():
                self.standby = True
                await asyncio.sleep(STANDBY_LOOK)
                continue
            if self.standby:
                self.standby = False
                log.info("Signal: this process reads the event stream now")
                if self.on_reading is not None:
                    await self.on_reading()
            received = False

            def opened() -> None:
                self.connections += 1
                self.connected.set()
                if self.connections > 1:
                    log.info("Signal event stream open again (connection %d)", self.connections)

            async def on_event(event: ServerEvent) -> None:
                nonlocal received
                received = True
                if event.id:
                    self._last_id = event.id
                if event.event != "receive":
                    return
                try:
                    payload = json.loads(event.data)
                except json.JSONDecodeError:
                    log.warning("Signal event stream: a frame that is not JSON, skipped")
                    return
                if not isinstance(payload, dict):
                    return
                try:
                    await self.handler(payload)
                except Exception:  # a single bad update never stops the bot
                    log.exception("Signal: an incoming event could not be handled")
                if not self.may_read():
                    raise _Standby  # another process reads from now on

            try:
                await self.client.events(on_event, self._last_id, on_open=opened)
                problem = "the daemon closed the event stream"
            except DaemonUnavailable as error:
                problem = str(error)
            except _Standby:
                self.standby = True
                continue
            except asyncio.CancelledError:
                raise
            except Exception as error:  # never let one bad frame end the channel
                log.exception("Signal event stream failed")
                problem = _describe(error)
            finally:
                self.connected.clear()
            if self._stopping:
                return
            if received:
                backoff, failures = self.initial_backoff, 0
            failures += 1
            pause = min(backoff, self.max_backoff) * random.uniform(0.8, 1.2)
            level = logging.WARNING if failures in (1, 5) or failures % 50 == 0 else logging.DEBUG
            log.log(level, "Signal event stream: %s; reconnecting in %.1f s", problem, pause)
            await asyncio.sleep(pause)
            backoff = min(backoff * 2, self.max_backoff)


class _Standby(Exception):
    """This process no longer leads the reading of the event stream."""


STANDBY_LOOK = 1.0  # seconds between looks whether this process may read the stream


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
