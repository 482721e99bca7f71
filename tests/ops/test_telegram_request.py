"""FlyO's aiohttp transport for python-telegram-bot (bot/telegram_request.py) against the fake Bot API.

A bare ``telegram.Bot`` on :class:`AiohttpRequest` meets Telegram's answers and the network's failures; PTB's
own status handling must raise exactly what it raises over httpx. The rest of the suite runs FlyO through
``build_application`` and so through this transport (polling in the ``bot`` fixture, webhook mode in
tests/ops/test_telegram_webhook.py, the terminal chat through bot.runtime); the last tests here check the
wiring and one search end to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import hashlib
import io
import os
import socket
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.app import build_application
from bot.runtime import build_services
from bot.telegram_request import AiohttpRequest
from core.clock import Clock
from core.database import Database
from tests.fakes.telegram import FakeTelegram
from tests.flows import search_one_line, travel_day
from tests.harness import RunningBot, make_settings

CHAT = 16101  # chat ids 16101-16109 are this file's


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


def _bot(base: str, token: str = "123456:TEST-TOKEN", **request: Any) -> Bot:
    return Bot(token, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot",
               request=AiohttpRequest(**request), get_updates_request=AiohttpRequest(connection_pool_size=1))


@contextlib.asynccontextmanager
async def _raw_bot(base: str, **request: Any) -> AsyncIterator[Bot]:
    """A Bot not initialized (initialize() would call getMe on a server that cannot answer it)."""
    client = _bot(base, **request)
    try:
        yield client
    finally:
        for each in client._request:
            await each.shutdown()


@pytest.fixture
async def tg(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with _bot(fake.api_root, fake.token, connection_pool_size=4) as client:
        yield client


class _Stub:
    """A loopback HTTP server whose every Bot API answer is ``handler``'s (hangs, garbage, dropped sockets)."""

    def __init__(self, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> None:
        self.handler = handler
        self.requests = 0
        self.arrived = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.base = ""

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        self.arrived.set()
        return await self.handler(request)

    async def __aenter__(self) -> _Stub:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.1)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


async def _never_answer(request: web.Request) -> web.StreamResponse:
    await asyncio.Event().wait()  # cancelled when the client goes away or the server stops
    raise AssertionError("unreachable")


# ---- Telegram's answers: PTB's own status handling over this transport ---------------------------------------


async def test_send_message_arrives(fake: FakeTelegram, tg: Bot) -> None:
    ada = fake.traveller(CHAT)
    sent = await tg.send_message(CHAT, "Your flight <b>LHR → JFK</b>", parse_mode="HTML")
    assert sent.text == "Your flight LHR → JFK"
    assert (await ada.next_message()).plain_text() == "Your flight LHR → JFK"
    assert (await tg.get_me()).username == "flyo_test_bot"


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # PTB's own, at RetryAfter()
async def test_429_is_retry_after_with_telegrams_seconds(fake: FakeTelegram, tg: Bot) -> None:
    fake.traveller(CHAT)
    fake.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await tg.send_message(CHAT, "hello")
    assert caught.value._retry_after == dtm.timedelta(seconds=7)
    assert "Retry in 7" in str(caught.value)
    await tg.send_message(CHAT, "hello")  # the next call goes through


async def test_400_is_bad_request_with_telegrams_description(fake: FakeTelegram, tg: Bot) -> None:
    fake.traveller(CHAT)
    fake.fail_next("sendMessage", 400, description="Bad Request: message text is empty")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await tg.send_message(CHAT, "hello")
    with pytest.raises(BadRequest, match="Chat not found"):
        await tg.send_message(999_999_991, "nobody opened this chat")


async def test_403_is_forbidden(fake: FakeTelegram, tg: Bot) -> None:
    fake.traveller(CHAT)
    fake.fail_next("sendMessage", 403, description="Forbidden: bot was blocked by the user")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await tg.send_message(CHAT, "hello")


@pytest.mark.parametrize("code", [500, 502])
async def test_server_errors_are_network_errors(fake: FakeTelegram, tg: Bot, code: int) -> None:
    fake.traveller(CHAT)
    fake.fail_next("sendMessage", code, description="Internal Server Error: restart")
    with pytest.raises(NetworkError, match="restart") as caught:
        await tg.send_message(CHAT, "hello")
    assert not isinstance(caught.value, TimedOut)


async def test_a_non_json_error_page_is_a_network_error_naming_the_status() -> None:
    async def proxy_page(request: web.Request) -> web.StreamResponse:
        return web.Response(status=502, text="<html>Bad gateway</html>", content_type="text/html")

    async with _Stub(proxy_page) as stub, _raw_bot(stub.base) as client:
        with pytest.raises(NetworkError, match=r"Bad Gateway \(502\)"):
            await client.send_message(CHAT, "hello")


# ---- the network's failures ---------------------------------------------------------------------------------


async def test_a_server_that_never_answers_times_out_within_the_read_timeout() -> None:
    async with _Stub(_never_answer) as stub, _raw_bot(stub.base, read_timeout=0.3) as client:
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await client.send_message(CHAT, "hello")
        assert 0.25 <= time.monotonic() - started < 2.0
        # A call's own read timeout wins over the default (PTB passes DEFAULT_NONE when the call sets none).
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await client.send_message(CHAT, "hello", read_timeout=0.1)
        assert time.monotonic() - started < 0.25
        assert stub.requests == 2


async def test_connection_refused_is_a_network_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with _raw_bot(f"http://127.0.0.1:{port}", connect_timeout=2.0) as client:
        with pytest.raises(NetworkError, match=r"aiohttp\.ClientConnectorError") as caught:
            await client.send_message(CHAT, "hello")
        assert not isinstance(caught.value, TimedOut)


async def test_a_dropped_connection_is_a_network_error() -> None:
    async def drop(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async with _Stub(drop) as stub, _raw_bot(stub.base) as client:
        with pytest.raises(NetworkError, match=r"aiohttp\.ServerDisconnectedError"):
            await client.send_message(CHAT, "hello")


async def test_a_full_pool_times_out_without_sending_the_request() -> None:
    async with _Stub(_never_answer) as stub, _raw_bot(stub.base, connection_pool_size=1, read_timeout=10.0,
                                                   pool_timeout=0.2) as client:
        first = asyncio.create_task(client.send_message(CHAT, "holds the only connection"))
        await asyncio.wait_for(stub.arrived.wait(), 5)
        started = time.monotonic()
        with pytest.raises(TimedOut, match="Pool timeout"):
            await client.send_message(CHAT, "waits for it")
        assert 0.15 <= time.monotonic() - started < 2.0
        assert stub.requests == 1  # the second request was never sent
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first


async def test_failures_give_their_connection_back(fake: FakeTelegram) -> None:
    """25 failing calls through a one-connection pool, then 25 at once: none is stuck behind a leaked slot."""
    fake.traveller(CHAT + 1)
    async with _bot(fake.api_root, fake.token, connection_pool_size=1, pool_timeout=0.5) as client:
        fake.fail_next("sendMessage", 500, times=25)
        for _ in range(25):
            with pytest.raises(NetworkError):
                await client.send_message(CHAT + 1, "hello")
        sent = await asyncio.gather(*(client.send_message(CHAT + 1, f"#{k}", pool_timeout=None)
                                      for k in range(25)))
        assert sorted(m.text or "" for m in sent) == sorted(f"#{k}" for k in range(25))


async def test_callers_cancelled_while_waiting_for_the_pool_leak_no_slot(fake: FakeTelegram) -> None:
    """25 calls queue for one connection and every other one is abandoned mid-wait (a handler timed out)."""
    fake.traveller(CHAT + 7)
    async with _bot(fake.api_root, fake.token, connection_pool_size=1, pool_timeout=5.0) as client:
        calls = [asyncio.create_task(client.send_message(CHAT + 7, f"#{k}")) for k in range(25)]
        await asyncio.sleep(0)  # let them all reach the pool
        for task in calls[1::2]:
            task.cancel()
        results = await asyncio.gather(*calls, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results[1::2])
        assert sorted(r.text or "" for r in results[0::2] if not isinstance(r, BaseException)) \
            == sorted(f"#{k}" for k in range(0, 25, 2))
        assert (await client.send_message(CHAT + 7, "after", pool_timeout=0.5)).text == "after"


async def test_environment_proxy_is_ignored(fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.traveller(CHAT + 2)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy"):
        monkeypatch.setitem(os.environ, name, "http://127.0.0.1:9")
    async with _bot(fake.api_root, fake.token) as client:
        assert (await client.send_message(CHAT + 2, "direct")).text == "direct"


# ---- bodies -------------------------------------------------------------------------------------------------


async def test_send_document_of_bytes_arrives_intact(fake: FakeTelegram, tg: Bot) -> None:
    ada = fake.traveller(CHAT + 3)
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 4096  # 1 MiB, every byte value
    sent = await tg.send_document(CHAT + 3, document=pdf, filename="itinerary.pdf",
                                  caption="Your <b>e-ticket</b>", parse_mode="HTML")
    assert sent.document is not None and sent.document.file_name == "itinerary.pdf"
    upload = fake.calls_of("sendDocument")[0].params["document"]
    assert (upload.filename, upload.content_type) == ("itinerary.pdf", "application/pdf")
    assert hashlib.sha256(upload.content).digest() == hashlib.sha256(pdf).digest()  # (no 1 MiB diff on failure)
    message = await ada.next_message()
    assert message.document is not None
    assert hashlib.sha256(message.document.content).digest() == hashlib.sha256(pdf).digest()
    assert message.plain_text() == "Your e-ticket"
    # A file object and a non-ASCII name go through too.
    await tg.send_document(CHAT + 3, document=io.BytesIO(b"bytes from a handle"), filename="Reise-Übersicht.txt")
    upload = fake.calls_of("sendDocument")[1].params["document"]
    assert upload.content == b"bytes from a handle" and upload.filename == "Reise-Übersicht.txt"


async def test_a_4_kb_message_goes_and_one_more_character_is_refused(fake: FakeTelegram, tg: Bot) -> None:
    ada = fake.traveller(CHAT + 4)
    text = "✈ & <b> ; = ?x=1&y=2 " * 200
    text = text[:4096]
    assert (await tg.send_message(CHAT + 4, text)).text == text
    assert (await ada.next_message()).text == text
    with pytest.raises(BadRequest, match="too long"):
        await tg.send_message(CHAT + 4, text + "!")


# ---- lifecycle ----------------------------------------------------------------------------------------------


async def test_shutdown_closes_the_session_without_a_warning(fake: FakeTelegram) -> None:
    fake.traveller(CHAT + 5)
    request = AiohttpRequest()
    client = Bot(fake.token, base_url=fake.base_url, request=request)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        await client.initialize()
        session = request.session
        assert session is not None and not session.closed
        await client.send_message(CHAT + 5, "hello")
        await client.shutdown()
        assert session.closed and request.session is None
        await request.shutdown()  # twice is harmless
        with pytest.raises(NetworkError, match="not initialized"):  # PTB wraps the RuntimeError
            await client.send_message(CHAT + 5, "after shutdown")
        await client.initialize()  # and it comes back
        assert (await client.send_message(CHAT + 5, "again")).text == "again"
        await client.shutdown()
    assert request.session is None


async def test_works_without_initialize_like_httpx_request(fake: FakeTelegram) -> None:
    request = AiohttpRequest()
    me = await request.post(f"{fake.base_url}{fake.token}/getMe")  # PTB's post() returns the "result"
    assert isinstance(me, dict) and me["username"] == "flyo_test_bot"
    await request.shutdown()


# ---- FlyO's wiring ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("with_updater", [True, False])
async def test_build_application_uses_aiohttp_in_both_modes(inventory_db: Database, fake: FakeTelegram,
                                                            tmp_path: Path, with_updater: bool) -> None:
    settings = make_settings(fake, tmp_path)
    services = await build_services(settings, inventory_db, Clock())
    app = build_application(settings, services, with_updater=with_updater)
    request, updates = app.bot._request[1], app.bot._request[0]
    assert isinstance(request, AiohttpRequest) and isinstance(updates, AiohttpRequest)
    assert (request.connection_pool_size, request.pool_timeout) == (64, 10.0)
    assert (updates.connection_pool_size, updates.read_timeout) == (1, 5.0)
    assert (app.updater is not None) == with_updater


async def test_a_search_end_to_end_runs_over_aiohttp(bot: RunningBot) -> None:
    assert isinstance(bot.application.bot.request, AiohttpRequest)
    t = bot.telegram.traveller(CHAT + 6)
    offers = await search_one_line(t, "LHR", "JFK", travel_day(bot.clock), 1)
    assert offers.button_labels()
