"""What the loopback fakes share: an aiohttp server on 127.0.0.1:0, request recording and fault injection.

Why: the Stripe, SendGrid and Amadeus fakes (and the Telegram fake's lifecycle) each need the same plumbing
- bind an ephemeral loopback port, record every request for assertions, make the next requests fail on
demand - and only differ in how they parse bodies, which requests a fault may hit and what an error looks
like. Those differences are the hooks below; everything else lives here once.

Two layers, because the Telegram fake has its own per-method `fail_next` and no request list:

* `LoopbackServer`: start/stop/`async with`, `port`, `url`. Subclasses build the app (`_build_app`) and may
  run code right after binding (`_started`) or before shutting down (`_stopping`).
* `RecordingServer`: adds `requests`, `delay`, `fail_next(...)` and a middleware running
  record -> injected fault -> `_serve` (auth, idempotency, `delay`, handler: the fake's own order).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, Self, TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler

__all__ = ["Fault", "LoopbackServer", "RecordedRequest", "RecordingServer", "route"]

_Endpoint = TypeVar("_Endpoint", bound=Callable[..., Awaitable[web.StreamResponse]])
_ROUTES_ATTR = "_loopback_routes"


def route(method: str, path: str) -> Callable[[_Endpoint], _Endpoint]:
    """Serve `method path` (aiohttp path syntax, e.g. `/v1/refunds/{id}`) with the decorated handler method.

    Why a decorator: each fake's routes then sit next to their handlers, and `RecordingServer` registers them
    all (in definition order, GET also answering HEAD) followed by the catch-all `_unknown`.
    """

    def mark(handler: _Endpoint) -> _Endpoint:
        setattr(handler, _ROUTES_ATTR, (*getattr(handler, _ROUTES_ATTR, ()), (method, path)))
        return handler

    return mark


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake saw it; `body` is what the fake parsed (JSON, a form as dicts, or None)."""

    method: str
    path: str
    query: dict[str, Any]
    headers: dict[str, str]
    body: Any
    raw: bytes = b""

    def header(self, name: str, default: str | None = None) -> str | None:
        """Case-insensitive header lookup (HTTP header names are case-insensitive; dict keys are not)."""
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return default


@dataclass
class Fault:
    """An injected failure: answer `remaining` more matching requests with `status`/`body` after `delay`."""

    status: int
    body: object
    remaining: int
    delay: float
    path: str | None


class LoopbackServer:
    """An aiohttp server bound to an ephemeral loopback port; `async with Fake() as fake:` runs it."""

    _backlog: ClassVar[int] = 128  # aiohttp's default; raise it for fakes that take bursts of connections

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        """The bound port (e.g. for `amadeus.Client(host="127.0.0.1", port=fake.port, ssl=False)`)."""
        if self._port is None:
            name = type(self).__name__
            raise RuntimeError(f"{name} is not running; use `async with {name}()` or `await start()`")
        return self._port

    @property
    def url(self) -> str:
        """Base URL (`http://127.0.0.1:PORT`) to point the client under test at."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> Self:
        """Bind an ephemeral loopback port (port 0) so parallel test runs never collide; no-op when running."""
        if self._runner is not None:
            return self
        runner = web.AppRunner(self._build_app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=self._backlog)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        await self._started()
        return self

    async def stop(self) -> None:
        """Close the listener; recorded state stays readable for assertions after the block."""
        await self._stopping()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ---- hooks ---------------------------------------------------------------------------------------------
    def _build_app(self) -> web.Application:
        """The application to serve (routes, middlewares, size limits)."""
        raise NotImplementedError

    async def _started(self) -> None:
        """Runs once the port is bound (e.g. to open client sessions the fake needs)."""

    async def _stopping(self) -> None:
        """Runs before the listener closes (e.g. to release long-polls so shutdown does not wait on them)."""


class RecordingServer(LoopbackServer):
    """A loopback fake that records every request and can be told to fail the next ones.

    Subclasses add their routes (`_add_routes`), and override what differs: `_parse_body`/`_parse_query`
    (what `RecordedRequest.body`/`.query` hold), `_fault_matches` (which requests a fault may hit),
    `_default_fault_body`, `_encode_json`/`_response_headers` (how an error is rendered), `_serve`
    (what runs after the fault check: auth, idempotency, `delay`, the handler) and `_unknown` (the answer for
    a path no `@route` serves).
    """

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[RecordedRequest] = []
        self.delay: float = 0.0
        self._faults: list[Fault] = []

    def fail_next(
        self,
        status: int,
        body: object = None,
        times: int = 1,
        delay: float = 0.0,
        *,
        path: str | None = None,
    ) -> None:
        """Answer the next `times` matching requests (path starts with `path`, if given) with `status`.

        Why: retry, timeout and error-mapping code needs the service to misbehave on demand. `body` may be a
        dict (sent as JSON), str/bytes (sent raw) or None (the fake's service-shaped error for that status).
        `delay` sleeps first, to trip client timeouts. Injected faults are answered before auth and before
        the handler, so nothing they hit is stored or delivered.
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        self._faults.append(Fault(status, body, times, delay, path))

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        for method, path, handler in self._routes():
            if method == "GET":
                app.router.add_get(path, handler)
            else:
                app.router.add_route(method, path, handler)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        return app

    def _routes(self) -> Iterator[tuple[str, str, Handler]]:
        """The `@route`-marked handlers, base classes first, each in definition order."""
        for klass in reversed(type(self).__mro__):
            for name, member in vars(klass).items():
                for method, path in getattr(member, _ROUTES_ATTR, ()):
                    yield method, path, getattr(self, name)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        raw = await request.read()
        recorded = RecordedRequest(
            request.method,
            request.path,
            self._parse_query(request),
            dict(request.headers),
            self._parse_body(request, raw),
            raw,
        )
        self.requests.append(recorded)
        fault = self._take_fault(request.path)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            return self._fault_response(fault, request)
        return await self._serve(request, handler, recorded)

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self._faults:
            if self._fault_matches(fault, path):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _fault_response(self, fault: Fault, request: web.Request) -> web.Response:
        body = fault.body if fault.body is not None else self._default_fault_body(fault.status)
        if isinstance(body, str):
            data = body.encode()
        elif isinstance(body, bytes):
            data = body
        else:
            data = self._encode_json(body)
        return web.Response(status=fault.status, body=data, headers=self._response_headers(request))

    async def _sleep(self) -> None:
        """Apply `delay` (set it to trip client timeouts on every request)."""
        if self.delay:
            await asyncio.sleep(self.delay)

    # ---- hooks ---------------------------------------------------------------------------------------------
    async def _unknown(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotFound()

    def _parse_body(self, request: web.Request, raw: bytes) -> Any:
        """Default: the JSON body, or None when it is empty or not JSON."""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    def _parse_query(self, request: web.Request) -> dict[str, Any]:
        return dict(request.query)

    def _fault_matches(self, fault: Fault, path: str) -> bool:
        return fault.path is None or path.startswith(fault.path)

    def _default_fault_body(self, status: int) -> object:
        return {"error": f"Injected HTTP {status} from {type(self).__name__}"}

    def _encode_json(self, body: object) -> bytes:
        return json.dumps(body).encode()

    def _response_headers(self, request: web.Request) -> dict[str, str]:
        """Headers of an injected fault's response (the service's content type, request ids...)."""
        return {"Content-Type": "application/json"}

    async def _serve(self, request: web.Request, handler: Handler, recorded: RecordedRequest) -> web.StreamResponse:
        """What runs when no fault was injected. Default: `delay`, then the handler."""
        await self._sleep()
        return await handler(request)
