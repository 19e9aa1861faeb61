"""PTB's HTTP requests over aiohttp instead of httpx.

python-telegram-bot makes every Bot API call through a `BaseRequest`; its default,
`HTTPXRequest`, spends most of a call's CPU time in httpx/httpcore (and, without the
optional `sniffio`, in a failed import on every request). aiohttp, already a Buurtbot
dependency, does the same work in a fraction of the time, so the bot answers more
people on the same core (see benchmarks/README.md).

The mapping follows `HTTPXRequest`: form-encoded parameters (a JSON body for the
channel's own `CallParameters`), multipart for uploads, the connect/read/write/pool
timeouts, `TimedOut` for timeouts and `NetworkError` for
every other transport failure. HTTP statuses and Telegram's JSON answers are PTB's
business (`BaseRequest.post`).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

Timeout = Any  # a number of seconds, None (no limit) or BaseRequest.DEFAULT_NONE
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_JSON = {"Content-Type": "application/json"}


class CallParameters(RequestData):
    """Parameters of one Bot API call, ready for `BaseRequest.post` (see `api.BotApi`).

    PTB builds its request data from its own objects; these are plain values. No files.
    `AiohttpRequest` sends them as one JSON body (the Bot API takes `application/json`
    for every call without files): one `json.dumps`, in C, where a form needs a JSON
    string for each value that is not one and then the form encoding of them all, in
    Python. Any other `BaseRequest` reads them as PTB's own (`json_parameters`).
    """

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, Any]):
        super().__init__()
        self._values = {name: value for name, value in values.items() if value is not None}

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self._values)

    @property
    def json_parameters(self) -> dict[str, str]:
        return {
            name: value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            for name, value in self._values.items()
        }

    @property
    def json_payload(self) -> bytes:
        return json.dumps(self._values, ensure_ascii=False).encode()


def _seconds(value: Timeout, default: float | None) -> float | None:
    return default if value is BaseRequest.DEFAULT_NONE else value


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` on one `aiohttp.ClientSession` with a bounded connection pool."""

    __slots__ = (
        "_connect_timeout",
        "_connections",
        "_media_write_timeout",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        connections: int = 128,
        read_timeout: float | None = 20.0,
        write_timeout: float | None = 20.0,
        connect_timeout: float | None = 10.0,
        pool_timeout: float | None = 30.0,
        media_write_timeout: float | None = 60.0,
    ):
        self._connections = connections
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._connections, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
                timeout=aiohttp.ClientTimeout(total=None),
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        write_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        connect_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        pool_timeout: Timeout = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        data: Any = None
        headers: dict[str, str] | None = None
        if isinstance(request_data, CallParameters):
            data, headers = request_data.json_payload, _JSON
        elif request_data is not None:
            parameters = request_data.json_parameters
            if parameters:
                # Encoded here rather than by aiohttp: its form class costs more than the call.
                data, headers = urlencode(parameters).encode(), _FORM
        if files:
            form = aiohttp.FormData()
            for name, value in (request_data.json_parameters if request_data else {}).items():
                form.add_field(name, value)
            for name, (filename, content, mime_type) in files.items():
                form.add_field(name, content, filename=filename, content_type=mime_type)
            data, headers = form, None
        read = _seconds(read_timeout, self._read_timeout)
        write = _seconds(write_timeout, self._media_write_timeout if files else self._write_timeout)
        connect = _seconds(connect_timeout, self._connect_timeout)
        pool = _seconds(pool_timeout, self._pool_timeout)
        # aiohttp has no write timeout of its own: the whole exchange is bounded by the
        # write and read budgets together, the wait for a connection by pool + connect.
        total = None if read is None or write is None else read + write + (connect or 0)
        waiting = None if pool is None and connect is None else (pool or 0) + (connect or 0)
        timeout = aiohttp.ClientTimeout(
            total=total, connect=waiting, sock_connect=connect, sock_read=read
        )
        try:
            async with self._session.request(
                method, url, data=data, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error
