"""A tiny round-robin reverse proxy for multi-replica tests: each request goes to the next backend in turn. A
backend that refuses the connection is skipped, as nginx's `proxy_next_upstream error` and Caddy's retries do; a
request cut off after it reached a backend is a 502, which the sender (Telegram) delivers again."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from bot.db import free_port

FORWARDED = ("Content-Type", "X-Telegram-Bot-Api-Secret-Token", "Stripe-Signature", "Authorization")


class RoundRobin:
    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.served: Counter[str] = Counter()  # requests each backend answered
        self.cut_off = 0  # requests lost inside a backend (answered 502)
        self._next = 0
        self._session: aiohttp.ClientSession | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k in FORWARDED}
        for _ in range(len(self.backends)):
            backend = self.backends[self._next % len(self.backends)]
            self._next += 1
            try:
                async with self._session.request(request.method, backend + request.path_qs, data=body,
                                                 headers=headers) as answer:
                    payload = await answer.read()
            except aiohttp.ClientConnectorError:
                continue  # nobody listens there (a killed replica): the next one
            except (aiohttp.ClientError, TimeoutError):
                self.cut_off += 1
                return web.Response(status=502, text="backend went away")
            self.served[backend] += 1
            return web.Response(status=answer.status, body=payload,
                                content_type=answer.content_type or "application/octet-stream")
        return web.Response(status=502, text="no backend")


@contextlib.asynccontextmanager
async def round_robin(backends: list[str]) -> AsyncIterator[tuple[RoundRobin, str]]:
    """The proxy listening on a free loopback port: (proxy, its base URL)."""
    proxy = RoundRobin(backends)
    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_route("*", "/{path:.*}", proxy.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    timeout = aiohttp.ClientTimeout(total=30, connect=2)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        proxy._session = session
        try:
            yield proxy, f"http://127.0.0.1:{port}"
        finally:
            await runner.cleanup()
