"""Load generation on the loopback fake Bot API: timed travellers and the echo-bot baseline.

The travellers are tests/fakes/telegram.py's `Traveller`s (so the scripts in tests/flows.py drive
them unchanged), wrapped to time each action until the bot's answer the script waits for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

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


# ---- the echo-bot baseline ------------------------------------------------------------------------
async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text)


def build_echo_application(telegram: FakeTelegram, concurrent_updates: int) -> Application:  # type: ignore[type-arg]
    """A bare PTB echo bot built like bot/app.py builds FlyO (same base URLs, same concurrency, no limiter)."""
    app = (
        ApplicationBuilder()
        .token(telegram.token)
        .base_url(telegram.base_url)
        .base_file_url(telegram.base_file_url)
        .concurrent_updates(concurrent_updates)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    return app


@asynccontextmanager
async def running_echo_bot(telegram: FakeTelegram, concurrent_updates: int) -> AsyncIterator[Any]:
    """Start the echo bot with the same polling parameters bot/runtime.py uses; stop it in order."""
    app = build_echo_application(telegram, concurrent_updates)
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
