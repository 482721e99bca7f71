"""Load generation on the loopback fake Bot API: timed travellers and the echo-bot baseline.

The travellers are tests/fakes/telegram.py's `Traveller`s (so the scripts in tests/flows.py drive
them unchanged), wrapped to time each action until the bot's answer the script waits for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

from tests.fakes.telegram import BotMessage, FakeTelegram, Traveller

# Under a closed loop of hundreds of travellers one answer can take seconds (latency ≈ N ÷ throughput);
# the tests' 5 s default would turn a slow run into a failed one.
ANSWER_TIMEOUT = 120.0


class TimedTraveller:
    """A Traveller that records, per update it sends, the time until the answer it then waits for."""

    def __init__(self, inner: Traveller, samples: list[float]) -> None:
        self.inner = inner
        self.samples = samples
        self.updates = 0
        self._sent_at: float | None = None

    @property
    def user_id(self) -> int:
        return self.inner.user_id

    @property
    def chat_id(self) -> int:
        return self.inner.chat_id

    def _mark(self) -> None:
        self.updates += 1
        self._sent_at = time.perf_counter()

    async def send(self, text: str) -> Any:
        self._mark()
        return await self.inner.send(text)

    async def press(self, label: str, message: BotMessage | int | None = None) -> Any:
        self._mark()
        return await self.inner.press(label, message)

    async def wait_for(self, match: str | Callable[[BotMessage], bool],
                       timeout: float = ANSWER_TIMEOUT) -> BotMessage:  # noqa: ASYNC109 - Traveller's API
        message = await self.inner.wait_for(match, timeout=max(timeout, ANSWER_TIMEOUT))
        if self._sent_at is not None:  # only the first answer after an action counts as its latency
            self.samples.append(time.perf_counter() - self._sent_at)
            self._sent_at = None
        return message


async def run_together(travellers: list[TimedTraveller],
                       script: Callable[[TimedTraveller], Awaitable[None]]) -> float:
    """Start every traveller's script at once; wall seconds until the last one finishes.

    Any traveller's failure fails the run (asyncio.gather re-raises the first exception).
    """
    started = time.perf_counter()
    await asyncio.gather(*(script(t) for t in travellers))
    return time.perf_counter() - started


def busy_routes(count: int = 40) -> list[tuple[str, str]]:
    """The network's busiest routes: travellers spread over them (and over days) so no flight fills up."""
    from services.inventory.network import network_routes

    routes = sorted(network_routes(), key=lambda r: (-len(r.base_times), r.key))
    return [(r.origin, r.destination) for r in routes[:count]]


# ---- the echo-bot baseline ------------------------------------------------------------------------
async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text)


@dataclass(frozen=True)
class BuilderSettings:
    """The ApplicationBuilder knobs that decide throughput: updates in flight and the HTTP pool behind them."""

    concurrent_updates: int
    pool_size: int
    pool_timeout: float | None
    client: str = ""  # the class of the product's Bot API request object (reported, never copied)

    def __str__(self) -> str:
        return (f"concurrent_updates={self.concurrent_updates}, connection_pool_size={self.pool_size}, "
                f"pool_timeout={self.pool_timeout}")


# What the echo baseline falls back to when the product's request object says nothing (bot/app.py's values).
DEFAULT_POOL_SIZE = 64
DEFAULT_POOL_TIMEOUT = 10.0


def request_pool_of(request: Any) -> tuple[int, float | None]:
    """(pool size, pool timeout) of a PTB request object, whatever its class.

    bot/app.py passes its own `BaseRequest` (AiohttpRequest: `connection_pool_size` / `pool_timeout`
    properties) to `.request()`, so the builder's `.connection_pool_size()` is no longer called; an
    `HTTPXRequest` keeps them in the httpx.AsyncClient arguments. Anything else: 64 / 10 s.
    """
    size, timeout = getattr(request, "connection_pool_size", None), getattr(request, "pool_timeout", None)
    if isinstance(size, int) and not isinstance(size, bool) and size > 0:
        return size, (float(timeout) if isinstance(timeout, int | float) else None if timeout is None
                      else DEFAULT_POOL_TIMEOUT)
    kwargs = getattr(request, "_client_kwargs", None)  # HTTPXRequest keeps the httpx.AsyncClient arguments
    if isinstance(kwargs, dict):
        limits, client_timeout = kwargs.get("limits"), kwargs.get("timeout")
        max_connections = getattr(limits, "max_connections", None)
        pool_timeout = getattr(client_timeout, "pool", DEFAULT_POOL_TIMEOUT)
        return (max_connections if isinstance(max_connections, int) and max_connections > 0 else DEFAULT_POOL_SIZE,
                pool_timeout if pool_timeout is None or isinstance(pool_timeout, int | float) else DEFAULT_POOL_TIMEOUT)
    return DEFAULT_POOL_SIZE, DEFAULT_POOL_TIMEOUT


def builder_settings_of(app: Application) -> BuilderSettings:  # type: ignore[type-arg]
    """Read what bot/app.py configured from the running Application, so the baseline copies it exactly
    (and keeps copying it when someone retunes the product): updates in flight and the Bot API call pool."""
    pool_size, pool_timeout = request_pool_of(app.bot.request)
    return BuilderSettings(
        concurrent_updates=int(app.update_processor.max_concurrent_updates),
        pool_size=pool_size,
        pool_timeout=pool_timeout,
        client=type(app.bot.request).__name__,
    )


def build_echo_application(token: str, api_root: str, like: BuilderSettings) -> Application:  # type: ignore[type-arg]
    """A bare PTB echo bot on the same fake Bot API, with FlyO's concurrency and pool size / pool timeout, but
    PTB's **default HTTP client** (`HTTPXRequest`), built explicitly: the baseline is "what stock PTB does",
    so it must not follow FlyO when FlyO changes its own Bot API client. No rate limiter. getUpdates keeps
    PTB's default request (its own one-connection HTTPXRequest)."""
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api_root}/bot")
        .base_file_url(f"{api_root}/file/bot")
        .concurrent_updates(like.concurrent_updates)
        .request(HTTPXRequest(connection_pool_size=like.pool_size, pool_timeout=like.pool_timeout))
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    return app


@asynccontextmanager
async def running_echo_bot(telegram: FakeTelegram, like: BuilderSettings) -> AsyncIterator[Any]:
    """Start the echo bot with the same polling parameters bot/runtime.py uses; stop it in order."""
    app = build_echo_application(telegram.token, telegram.api_root, like)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=10, drop_pending_updates=False)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def echo_script(t: TimedTraveller, updates: int) -> None:
    """`updates` messages, each waiting for its echo — the same number of round trips as a booking."""
    for k in range(updates):
        text = f"hello {t.user_id} #{k}"
        await t.send(text)
        await t.wait_for(text)


async def product_builder_settings(database: Any, data_dir: Any) -> BuilderSettings:
    """Build (not start) FlyO's Application as bot/app.py does and read its knobs — no network involved."""
    from bot.app import build_application
    from bot.runtime import build_services
    from core.config import Settings

    settings = Settings(TELEGRAM_BOT_TOKEN="123456:BENCH", TELEGRAM_API_URL="http://127.0.0.1:9",  # never called
                        DATA_DIR=data_dir, TELEGRAM_RATE_LIMIT=False)
    services = await build_services(settings, database)
    return builder_settings_of(build_application(settings, services, with_updater=False))
