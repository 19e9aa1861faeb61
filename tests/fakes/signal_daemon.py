"""A fake signal-cli daemon (`signal-cli daemon --http`) that the Signal channel talks to.

It answers like signal-cli 0.13.19 in multi-account mode, over real HTTP on 127.0.0.1:

* `POST /api/v1/rpc` — JSON-RPC 2.0, single or batch; 415 without a JSON content type;
  `-32700` for malformed JSON, `-32600` without a method, `-32601 Method not
  implemented`, `-32602 Specified account does not exist` / `Method requires valid
  account parameter`. `version`, `listAccounts`, `send`, `sendTyping`, `sendReceipt`,
  `sendReaction`, `submitRateLimitChallenge`. A failed send is signal-cli's error with
  the per-recipient results in `data.response.results`.
* `GET /api/v1/events?account=...` — Server-Sent Events: `event:receive` and
  `data:{"envelope": ..., "account": ...}` frames, a `:` keep-alive line every
  `keepalive` seconds; 400 with an empty body for an unknown account. Like a daemon
  started with `--receive-mode=on-connection`, what people send while no stream is open
  waits and is delivered on the next connection.
* `GET /api/v1/check` — 200.

Tests can drop the stream (`drop_streams`), make the next connection replay events it
already delivered (`replay_on_reconnect`, as the daemon and the Signal server do after a
crash), make every send take a while (`send_delay`, seconds), make sends fail with a
rate limit (`rate_limit`, optionally with a captcha token) or an unregistered recipient
(`unregister`), and play people who send text, attachments and reactions (`person`).
Every call is recorded in `calls`; anything a real daemon or Signal would take badly (a
body over 2,000 UTF-8 bytes, which Signal turns into a long-text attachment; a list
where signal-cli wants one string; timestamps that are not numbers) is appended to
`violations`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import uuid as uuid_module
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

VERSION = "0.13.19"
MAX_BODY_BYTES = 2000
DEFAULT_ACCOUNT = "+31600000001"


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]


@dataclass(frozen=True)
class SentMessage:
    """A message the bot sent to one person."""

    timestamp: int
    recipient: str
    message: str
    attachments: tuple[str, ...] = ()


@dataclass
class _Failure:
    """An error the next matching send(s) get."""

    code: int
    message: str
    result_type: str
    recipient: str | None = None
    times: int = 1
    token: str | None = None
    retry_after: int | None = None
    after: int = 0


@dataclass
class _Stream:
    queue: asyncio.Queue[dict[str, Any] | None] = field(default_factory=asyncio.Queue)
    request: web.Request | None = None
    abrupt: bool = False


class FakeSignalPerson:
    """Someone on Signal writing to the bot."""

    def __init__(
        self, daemon: FakeSignalDaemon, uuid: str, number: str | None, name: str = ""
    ) -> None:
        self.daemon = daemon
        self.uuid = uuid
        self.number = number
        self.name = name
        self.inbox: list[SentMessage] = []
        self._read = 0

    # ---- what the person does ---------------------------------------------------------

    def send_text(self, text: str, group_id: str | None = None) -> int:
        return self._data({"message": text}, group_id)

    def send_attachment(
        self,
        content_type: str,
        caption: str | None = None,
        text: str | None = None,
        filename: str | None = None,
        group_id: str | None = None,
    ) -> int:
        attachment = {
            "contentType": content_type,
            "filename": filename,
            "id": uuid_module.uuid4().hex[:20] + "." + content_type.split("/")[-1],
            "size": 12345,
            "width": 640 if content_type.startswith("image/") else None,
            "height": 480 if content_type.startswith("image/") else None,
            "caption": caption,
            "uploadTimestamp": None,
        }
        return self._data({"message": text, "attachments": [attachment]}, group_id)

    def react(
        self, emoji: str, target_timestamp: int, remove: bool = False, group_id: str | None = None
    ) -> int:
        reaction = {
            "emoji": emoji,
            "targetAuthor": self.daemon.account,
            "targetAuthorNumber": self.daemon.account,
            "targetAuthorUuid": self.daemon.account_uuid,
            "targetSentTimestamp": target_timestamp,
            "isRemove": remove,
        }
        return self._data({"message": None, "reaction": reaction}, group_id)

    def send_receipt(self, target_timestamp: int) -> int:
        ts = self.daemon.now()
        self.daemon.deliver(
            self._envelope(
                ts,
                receiptMessage={
                    "when": ts,
                    "isDelivery": False,
                    "isRead": True,
                    "isViewed": False,
                    "timestamps": [target_timestamp],
                },
            )
        )
        return ts

    def typing(self) -> int:
        ts = self.daemon.now()
        self.daemon.deliver(
            self._envelope(ts, typingMessage={"action": "STARTED", "timestamp": ts})
        )
        return ts

    def key(self, timestamp: int) -> str:
        """The channel's key for a message this person sent."""
        return f"{self.uuid}:{timestamp}"

    # ---- what the person got ----------------------------------------------------------

    def take(self) -> list[str]:
        """The texts received since the last call."""
        new = self.inbox[self._read :]
        self._read = len(self.inbox)
        return [message.message for message in new]

    def text(self) -> str:
        return "\n".join(self.take())

    def last_question(self, containing: str = "1. ") -> SentMessage:
        """The most recent message with numbered options (to react on)."""
        for message in reversed(self.inbox):
            if containing in message.message:
                return message
        raise AssertionError(f"no options message in {[m.message for m in self.inbox]}")

    # ---- envelopes --------------------------------------------------------------------

    def _data(self, fields: dict[str, Any], group_id: str | None) -> int:
        ts = self.daemon.now()
        data: dict[str, Any] = {
            "timestamp": ts,
            "message": None,
            "expiresInSeconds": 0,
            "viewOnce": False,
        }
        data.update({k: v for k, v in fields.items() if v is not None})
        if group_id:
            data["groupInfo"] = {
                "groupId": group_id,
                "groupName": "Buurtgroep",
                "revision": 3,
                "type": "DELIVER",
            }
        self.daemon.deliver(self._envelope(ts, dataMessage=data))
        return ts

    def _envelope(self, ts: int, **content: Any) -> dict[str, Any]:
        return {
            "source": self.number or self.uuid,
            "sourceNumber": self.number,
            "sourceUuid": self.uuid,
            "sourceName": self.name,
            "sourceDevice": 1,
            "timestamp": ts,
            "serverReceivedTimestamp": ts + 40,
            "serverDeliveredTimestamp": ts + 45,
            **content,
        }


class FakeSignalDaemon:
    """See the module docstring. Use as `async with FakeSignalDaemon() as daemon:`."""

    def __init__(
        self,
        account: str = DEFAULT_ACCOUNT,
        *,
        accounts: list[str] | None = None,
        keepalive: float = 15.0,
        host: str = "127.0.0.1",
    ) -> None:
        self.account = account
        self.account_uuid = str(uuid_module.uuid4())
        self.accounts = list(accounts) if accounts is not None else [account]
        self.keepalive = keepalive
        self.host = host
        self.port = 0
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.sent: list[SentMessage] = []
        self.receipts: list[dict[str, Any]] = []
        self.people: dict[str, FakeSignalPerson] = {}
        self.unregistered: set[str] = set()
        self.connections = 0
        self.send_delay = 0.0  # seconds each send takes before it is answered
        self.stream_requests: list[dict[str, str]] = []
        self._failures: list[_Failure] = []
        self._pending: deque[dict[str, Any]] = deque()
        self._delivered: list[dict[str, Any]] = []
        self._replay = 0
        self._streams: list[_Stream] = []
        self._last_ts = 0
        self._numbers = itertools.count(1)
        self._changed: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None

    # ---- lifecycle --------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def __aenter__(self) -> FakeSignalDaemon:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_post("/api/v1/rpc", self._rpc)
        app.router.add_get("/api/v1/events", self._events)
        app.router.add_get("/api/v1/check", self._check)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[union-attr]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        for stream in list(self._streams):
            stream.queue.put_nowait(None)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ---- people -----------------------------------------------------------------------

    def person(
        self, name: str = "", number: str | None = None, uuid: str | None = None
    ) -> FakeSignalPerson:
        uuid = uuid or str(uuid_module.uuid4())
        if number is None:
            number = f"+316{next(self._numbers):08d}"
        person = FakeSignalPerson(self, uuid, number or None, name)
        self.people[uuid] = person
        return person

    def now(self) -> int:
        """A unique, increasing millisecond timestamp, as Signal uses for message ids."""
        ts = max(int(time.time() * 1000), self._last_ts + 1)
        self._last_ts = ts
        return ts

    # ---- the event stream -------------------------------------------------------------

    def deliver(self, envelope: dict[str, Any], account: str | None = None) -> None:
        """Put one envelope on the event stream (or keep it until a stream is open)."""
        payload = {"envelope": envelope, "account": account or self.account}
        if self._streams:
            for stream in self._streams:
                stream.queue.put_nowait(payload)
        else:
            self._pending.append(payload)

    def drop_streams(self, abrupt: bool = True) -> None:
        """End every open event stream: `abrupt` cuts the connection, else a clean end."""
        for stream in list(self._streams):
            stream.abrupt = abrupt
            stream.queue.put_nowait(None)

    def replay_on_reconnect(self, count: int) -> None:
        """The next connection first gets the last `count` events again."""
        self._replay = count

    @property
    def streams_open(self) -> int:
        return len(self._streams)

    async def wait_connections(self, count: int, timeout: float = 10.0) -> None:
        """Until `count` event-stream connections have been opened in all."""
        assert self._changed is not None
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: self.connections >= count and self._streams)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        account = request.query.get("account")
        self.stream_requests.append(dict(request.headers))
        if account and account not in self.accounts:
            return web.Response(status=400)
        response = web.StreamResponse(status=200, headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        stream = _Stream(request=request)
        backlog = self._delivered[-self._replay :] if self._replay else []
        self._replay = 0
        for payload in [*backlog, *self._pending]:
            stream.queue.put_nowait(payload)
        self._pending.clear()
        self._streams.append(stream)
        self.connections += 1
        await self._notify()
        try:
            while True:
                try:
                    payload = await asyncio.wait_for(stream.queue.get(), self.keepalive)
                except TimeoutError:
                    await response.write(b":\n")
                    continue
                if payload is None:
                    break
                frame = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
                try:
                    await response.write(b"event:receive\ndata:" + frame.encode() + b"\n\n")
                except (ConnectionError, RuntimeError):
                    self._pending.appendleft(payload)
                    break
                self._delivered.append(payload)
        finally:
            self._streams.remove(stream)
            # What was not written yet waits for the next connection (on-connection mode).
            while not stream.queue.empty():
                left = stream.queue.get_nowait()
                if left is not None:
                    self._pending.append(left)
            await self._notify()
        if stream.abrupt and request.transport is not None:
            request.transport.close()
            return response
        with contextlib.suppress(ConnectionError, RuntimeError):
            await response.write_eof()
        return response

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    async def _check(self, request: web.Request) -> web.Response:
        return web.Response(status=200)

    # ---- failures ---------------------------------------------------------------------

    def rate_limit(
        self,
        retry_after: int | None = 3,
        token: str | None = None,
        times: int = 1,
        recipient: str | None = None,
        after: int = 0,
    ) -> None:
        """The next `times` sends fail as rate limited (-5); with `token`: captcha needed.

        `after` lets that many sends through first (to fail a reply halfway).
        """
        self._failures.append(
            _Failure(
                -5,
                "Failed to send message due to rate limiting",
                "RATE_LIMIT_FAILURE",
                recipient,
                times,
                token,
                retry_after,
                after,
            )
        )

    def unregister(self, uuid: str) -> None:
        """The person left Signal: sends to them fail with UNREGISTERED_FAILURE (-1)."""
        self.unregistered.add(uuid)

    # ---- JSON-RPC ---------------------------------------------------------------------

    async def _rpc(self, request: web.Request) -> web.Response:
        if not request.content_type.startswith("application/json"):
            return web.Response(status=415)
        body = await request.read()
        try:
            message = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            return self._json(_error(None, -32700, f"Failed to parse: {error}"))
        if isinstance(message, list):
            return self._json([await self._one(item) for item in message])
        return self._json(await self._one(message))

    def _json(self, payload: Any) -> web.Response:
        return web.Response(
            status=200,
            body=json.dumps(payload, ensure_ascii=False).encode(),
            content_type="application/json",
        )

    async def _one(self, message: Any) -> dict[str, Any]:
        if not isinstance(message, dict) or not message.get("method"):
            ident = message.get("id") if isinstance(message, dict) else None
            return _error(ident, -32600, "method field must be set")
        ident = message.get("id")
        method = str(message["method"])
        params = message.get("params") or {}
        if not isinstance(params, dict):
            return _error(ident, -32602, "params must be an object")
        self.calls.append(Call(method, dict(params)))
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(ident, -32601, "Method not implemented")
        if method not in ("version", "listAccounts"):
            account = params.pop("account", None)
            if account is None and len(self.accounts) != 1:
                return _error(ident, -32602, "Method requires valid account parameter")
            if account is not None and account not in self.accounts:
                return _error(ident, -32602, "Specified account does not exist")
        try:
            result = await handler(params)
        except _RpcFailure as failure:
            return _error(ident, failure.code, failure.message, failure.data)
        return {"jsonrpc": "2.0", "result": result, "id": ident}

    async def _m_version(self, params: dict[str, Any]) -> Any:
        return {"version": VERSION}

    async def _m_listAccounts(self, params: dict[str, Any]) -> Any:
        return [{"number": number} for number in self.accounts]

    async def _m_send(self, params: dict[str, Any]) -> Any:
        if self.send_delay:
            await asyncio.sleep(self.send_delay)
        recipients = params.get("recipient") or []
        if isinstance(recipients, str):
            recipients = [recipients]
        if params.get("groupId"):
            self.violations.append("send to a group: the bot answers people privately")
        message = params.get("message") or ""
        attachments = params.get("attachments") or params.get("attachment") or []
        if isinstance(attachments, str):
            attachments = [attachments]
        if not isinstance(message, str):
            self.violations.append(f"send: message is not a string: {message!r}")
            message = str(message)
        if len(message.encode("utf-8")) >= MAX_BODY_BYTES:
            self.violations.append(
                f"send: body of {len(message.encode())} bytes; Signal cuts it at 2,000"
            )
        for attachment in attachments:
            if not attachment.startswith("data:") and not attachment.startswith("/"):
                self.violations.append("send: attachment is neither a path nor a data URI")
        if not message and not attachments:
            raise _RpcFailure(
                -1,
                "Sending empty message is not allowed, either a message, attachment or "
                "sticker must be given.",
            )
        ts = self.now()
        results = []
        failed = []
        for recipient in recipients:
            person = self.people.get(recipient)
            address = {
                "uuid": recipient if person else None,
                "number": person.number if person else recipient,
                "username": None,
            }
            failure = self._take_failure(recipient)
            if failure is not None:
                entry: dict[str, Any] = {"recipientAddress": address, "type": failure.result_type}
                if failure.token:
                    entry["token"] = failure.token
                    entry["retryAfterSeconds"] = failure.retry_after
                elif failure.retry_after is not None:
                    entry["retryAfterSeconds"] = failure.retry_after
                results.append(entry)
                failed.append(failure)
                continue
            if recipient in self.unregistered:
                results.append({"recipientAddress": address, "type": "UNREGISTERED_FAILURE"})
                failed.append(_Failure(-1, "Failed to send message", "UNREGISTERED_FAILURE"))
                continue
            results.append({"recipientAddress": address, "type": "SUCCESS"})
            sent = SentMessage(ts, recipient, message, tuple(attachments))
            self.sent.append(sent)
            if person is not None:
                person.inbox.append(sent)
        if recipients and len(failed) == len(recipients):
            response = {"timestamp": ts, "results": results}
            if all(f.result_type == "RATE_LIMIT_FAILURE" for f in failed):
                raise _RpcFailure(-5, failed[0].message, {"response": response})
            raise _RpcFailure(-1, "Failed to send message", {"response": response})
        return {"timestamp": ts, "results": results}

    def _take_failure(self, recipient: str) -> _Failure | None:
        for failure in self._failures:
            if failure.recipient in (None, recipient) and failure.times > 0:
                if failure.after > 0:
                    failure.after -= 1
                    return None
                failure.times -= 1
                if failure.times == 0:
                    self._failures.remove(failure)
                return failure
        return None

    async def _m_sendReceipt(self, params: dict[str, Any]) -> Any:
        recipient = params.get("recipient")
        if not isinstance(recipient, str):
            self.violations.append(f"sendReceipt: recipient must be one string: {recipient!r}")
        stamps = params.get("targetTimestamp")
        stamps = stamps if isinstance(stamps, list) else [stamps]
        if not all(isinstance(s, int) and not isinstance(s, bool) for s in stamps):
            self.violations.append(f"sendReceipt: timestamps must be numbers: {stamps!r}")
        self.receipts.append(dict(params))
        return {"timestamp": self.now(), "results": []}

    async def _m_sendTyping(self, params: dict[str, Any]) -> Any:
        return {}

    async def _m_sendReaction(self, params: dict[str, Any]) -> Any:
        if not isinstance(params.get("targetTimestamp"), int):
            self.violations.append("sendReaction: targetTimestamp must be a number")
        return {"timestamp": self.now(), "results": []}

    async def _m_submitRateLimitChallenge(self, params: dict[str, Any]) -> Any:
        self._failures = [f for f in self._failures if f.token != params.get("challenge")]
        return {}


class _RpcFailure(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def _error(ident: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "error": {"code": code, "message": message, "data": data},
        "id": ident,
    }
