"""The bot process of the memory scenario: `python -m bench.botproc [--echo CONC POOL POOL_TIMEOUT]`.

Default: FlyO exactly as `python -m bot` serves it (`create_web_app`, settings from the environment, polling
the Bot API at TELEGRAM_API_URL), plus one bench-only route. `--echo`: the bare PTB echo bot, built like
FlyO (bench/load.py), plus the same route. The route, GET /_bench/rss, runs a full garbage collection and
answers this process's VmRSS and live object count — measured in the process that holds the chats, not in
the parent that simulates the travellers and the Bot API.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
from collections.abc import AsyncIterator

from aiohttp import web

from bench.common import rss_bytes

RSS_ROUTE = "/_bench/rss"


async def _rss(request: web.Request) -> web.Response:
    gc.collect()
    return web.json_response({"rss": rss_bytes(), "objects": len(gc.get_objects())})


async def _serve(app: web.Application, port: int) -> None:
    app.router.add_get(RSS_ROUTE, _rss)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


async def run_flyo() -> None:
    from bot.logs import setup_logging
    from bot.runtime import create_web_app
    from core.config import load_settings

    settings = load_settings()
    setup_logging(settings.LOG_LEVEL, settings.LOG_FORMAT, settings.DATA_DIR, console=False)
    await _serve(create_web_app(settings, seed=False), settings.HTTP_PORT)


async def run_echo(concurrency: int, pool: int, pool_timeout: float) -> None:
    from bench.load import BuilderSettings, build_echo_application

    like = BuilderSettings(concurrency, pool, pool_timeout)
    bot = build_echo_application(os.environ["TELEGRAM_BOT_TOKEN"], os.environ["TELEGRAM_API_URL"], like)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await bot.initialize()
        await bot.start()
        assert bot.updater is not None
        await bot.updater.start_polling(poll_interval=0.0, timeout=10, drop_pending_updates=False)
        yield
        await bot.updater.stop()
        await bot.stop()
        await bot.shutdown()

    app = web.Application()
    app.cleanup_ctx.append(lifecycle)
    await _serve(app, int(os.environ["HTTP_PORT"]))


def main(argv: list[str]) -> int:
    if argv[:1] == ["--echo"]:
        asyncio.run(run_echo(int(argv[1]), int(argv[2]), float(argv[3])))
    else:
        asyncio.run(run_flyo())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
