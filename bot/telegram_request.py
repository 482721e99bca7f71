"""python-telegram-bot's HTTP transport on aiohttp (FlyO issue #16): the Bot API calls without httpx/anyio.

Profiling showed httpx/httpcore/anyio at about a quarter of the bot's CPU per update; aiohttp, which FlyO
already runs for its web server, does the same work for half the CPU per Bot API call.

:class:`AiohttpRequest` is a drop-in :class:`telegram.request.BaseRequest` that mirrors PTB's own
``HTTPXRequest`` (22.x) exactly where it matters:

* ``do_request`` returns ``(status, body)`` for every HTTP answer; PTB's ``BaseRequest._request_wrapper``
  turns non-2xx answers into ``RetryAfter`` / ``BadRequest`` / ``Forbidden`` / ``InvalidToken`` /
  ``Conflict`` / ``NetworkError`` itself.  Only transport failures are raised here: timeouts as
  ``TimedOut`` (a full pool as ``TimedOut("Pool timeout: …")``, the request was not sent), any other
  aiohttp failure (refused connection, reset, broken payload) as ``NetworkError("aiohttp.<Error>: …")``.
* Bodies: parameters as a form (``application/x-www-form-urlencoded``), or ``multipart/form-data`` with the
  ``InputFile`` parts when the call uploads files -- what httpx sends for ``data=`` / ``files=``.
* Timeouts: ``BaseRequest.DEFAULT_NONE`` means this object's default; ``None`` means no limit.

  - connect → ``ClientTimeout.sock_connect`` (and ``connect``: the pool never queues, see below);
  - read → ``ClientTimeout.sock_read`` (aiohttp starts it once the body is written, between chunks too);
  - write: aiohttp has no per-write timeout, so the whole call is bounded by ``ClientTimeout.total =
    connect + write + read`` when all three are finite -- a stalled upload ends as ``TimedOut``;
    uploads use ``media_write_timeout`` (20 s) unless the call passes its own, as in ``HTTPXRequest``;
  - pool: aiohttp has no pool wait timeout; a semaphore of ``connection_pool_size`` (the connector's
    ``limit`` too) admits requests, waited for at most ``pool_timeout``.

* One ``aiohttp.ClientSession`` per object: created by :meth:`initialize` (or on the first call, as
  ``HTTPXRequest`` works before ``initialize``), closed by :meth:`shutdown`; a call after ``shutdown``
  raises ``RuntimeError`` until ``initialize`` again.  No proxy: ``trust_env=False`` ignores
  ``HTTP(S)_PROXY``.
"""

from __future__ import annotations

import asyncio
import io

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

POOL_TIMEOUT_MESSAGE = (
    "Pool timeout: All connections in the connection pool are occupied. Request was *not* sent to "
    "Telegram. Consider adjusting the connection pool size or the pool timeout."
)


class AiohttpRequest(BaseRequest):
    """PTB ``BaseRequest`` on aiohttp; the arguments and their defaults are ``HTTPXRequest``'s."""

    __slots__ = ("_closed", "_connect_timeout", "_media_write_timeout", "_pool", "_pool_size",
                 "_pool_timeout", "_read_timeout", "_session", "_write_timeout")

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._pool: asyncio.Semaphore | None = None
        self._closed = False

    @property
    def connection_pool_size(self) -> int:
        """Requests in flight at once (the connector's limit); more wait up to the pool timeout."""
        return self._pool_size

    @property
    def pool_timeout(self) -> float | None:
        """Default wait for a free connection, seconds (``None``: no limit)."""
        return self._pool_timeout

    @property
    def read_timeout(self) -> float | None:
        """See :attr:`BaseRequest.read_timeout` (PTB adds the long-poll timeout to it for getUpdates)."""
        return self._read_timeout

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The open session, if any (for tests and diagnostics)."""
        return self._session

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size)
        self._session = aiohttp.ClientSession(
            connector=connector,
            trust_env=False,  # no proxy from the environment
            timeout=aiohttp.ClientTimeout(total=None),  # each call passes its own
            headers={"User-Agent": self.USER_AGENT},
        )
        self._pool = asyncio.Semaphore(self._pool_size)
        self._closed = False
        return self._session

    async def initialize(self) -> None:
        """See :meth:`BaseRequest.initialize`: opens the session (again, after a shutdown)."""
        if self._session is None or self._session.closed:
            self._open()

    async def shutdown(self) -> None:
        """See :meth:`BaseRequest.shutdown`: closes the session and its connections; idempotent."""
        session, self._session, self._closed = self._session, None, True
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See :meth:`BaseRequest.do_request`."""
        session = self._session
        if session is None or session.closed:
            if self._closed:
                raise RuntimeError("This AiohttpRequest is not initialized!")
            session = self._open()
        pool = self._pool
        assert pool is not None

        files = request_data.multipart_data if request_data else None
        params = request_data.json_parameters if request_data else None

        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        wait = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write = self._write_timeout if not files else self._media_write_timeout
        else:
            write = write_timeout
        total = connect + write + read if connect is not None and write is not None and read is not None else None
        timeout = aiohttp.ClientTimeout(total=total, connect=connect, sock_connect=connect, sock_read=read)

        data: aiohttp.FormData | dict[str, str] | None
        if files:
            form = aiohttp.FormData(quote_fields=False)  # UTF-8 file names as-is, as httpx sends them
            for name, value in (params or {}).items():
                form.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                # Bytes go as a stream: aiohttp warns (ResourceWarning) about large raw bytes bodies.
                part = io.BytesIO(content) if isinstance(content, bytes) else content
                form.add_field(name, part, filename=filename, content_type=mimetype)
            data = form
        else:
            data = params or None

        if pool.locked():  # the fast path (a free slot) does not pay for a timer
            try:
                # asyncio.timeout, not wait_for: on 3.11 a slot acquired just as wait_for is cancelled is lost.
                async with asyncio.timeout(wait):
                    await pool.acquire()
            except TimeoutError as err:
                raise TimedOut(POOL_TIMEOUT_MESSAGE) from err
        else:
            await pool.acquire()
        try:
            async with session.request(method, url, data=data, timeout=timeout, allow_redirects=False) as response:
                return response.status, await response.read()
        except TimeoutError as err:  # aiohttp's ServerTimeoutError / ConnectionTimeoutError are TimeoutErrors
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err
        finally:
            pool.release()
