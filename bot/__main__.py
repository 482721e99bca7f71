"""`python -m bot` runs FlyO; `python -m bot seed` loads the inventory; `python -m bot console` chats here;
`python -m bot rotate-keys` re-encrypts personal data under the first data key; `python -m bot new-key` makes one."""

from __future__ import annotations

import asyncio
import sys

from telegram.error import TelegramError

from bot.db import DatabaseError
from bot.logs import redact, setup_logging
from core.config import ConfigError, Settings, load_settings

NO_TOKEN = """\
FlyO needs a Telegram bot token to talk to Telegram. Create a bot with @BotFather, then run
  TELEGRAM_BOT_TOKEN=123456:ABC... make run
(see .env.example for every setting). Without a token, `python -m bot console` chats with the
real bot right here in the terminal."""


USAGE = """\
usage: python -m bot [run | seed | console [--admin] | rotate-keys | new-key | --help]

  run       the bot: Telegram (polling, or webhook mode with TELEGRAM_WEBHOOK_URL), its web server, the sweeps;
            without TELEGRAM_BOT_TOKEN, the terminal chat (the default command)
  seed      load the local flight inventory into the database (a first start does it by itself)
  console   the terminal chat: the real bot on a Bot API of its own, here in the terminal
  rotate-keys  re-encrypt every birth date and document number under the first key of DATA_ENCRYPTION_KEYS
            (in batches; safe to rerun; docs/operations.md says when)
  new-key   print a new data encryption key for DATA_ENCRYPTION_KEYS

Settings come from the environment (see .env.example for every one)."""


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "run"
    if command in ("--help", "-h", "help"):
        print(USAGE)
        return 0
    if command == "new-key":  # before the settings: a malformed DATA_ENCRYPTION_KEYS must not stop this
        from core.crypto import generate_key

        print(generate_key())
        return 0
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"flyo: {exc}", file=sys.stderr)
        return 2
    try:
        if command == "seed":
            return asyncio.run(_seed(settings))
        if command == "rotate-keys":
            return asyncio.run(_rotate_keys(settings))
        if command == "console" or (command == "run" and not settings.bot_token):
            from bot.console import run_console

            return run_console(settings, admin="--admin" in argv)
        if command == "run":
            setup_logging(settings.LOG_LEVEL, settings.LOG_FORMAT, settings.DATA_DIR)
            from bot.runtime import serve

            asyncio.run(serve(settings))
            return 0
    except ConfigError as exc:  # a rule the runtime checks again (e.g. demo payments outside the console)
        print(f"flyo: {exc}", file=sys.stderr)
        return 2
    except DatabaseError as exc:
        print(f"flyo: {exc}", file=sys.stderr)
        return 1
    except TelegramError as exc:  # e.g. a bad token or an unreachable Bot API at start-up
        # PTB's InvalidToken quotes the token ("The token `…` was rejected"): never print it.
        print(f"flyo: Telegram refused to start the bot: {redact_token(str(exc), settings.bot_token)}",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    print(f"flyo: unknown command {command!r}; use run, seed, console or rotate-keys (--help says more)",
          file=sys.stderr)
    return 2


def redact_token(text: str, token: str) -> str:
    """The text without the bot token (whole, or its secret half after the colon) or anything token-shaped."""
    if token:
        text = text.replace(token, "<TELEGRAM_BOT_TOKEN>")
        secret = token.partition(":")[2]
        if len(secret) >= 8:
            text = text.replace(secret, "***")
    return redact(text)


async def _seed(settings: Settings) -> int:
    from bot.db import open_database
    from core.clock import Clock
    from services.inventory.seed import seed_inventory

    setup_logging(settings.LOG_LEVEL, settings.LOG_FORMAT, settings.DATA_DIR)
    database = await open_database(settings.mongodb_uri, settings.MONGODB_DB, settings.DATA_DIR)
    try:
        report = await seed_inventory(Clock())
    finally:
        await database.close()
    print(f"seeded: {report.airports} airports, {report.aircraft} aircraft types, {report.routes} routes, "
          f"{report.flights_total} flights ({report.flights_added} new) in {report.seconds:.1f} s")
    return 0


async def _rotate_keys(settings: Settings) -> int:
    from bot.db import open_database
    from core import crypto
    from core.data_keys import ring_for
    from services.key_rotation import KeyRotation, report

    crypto.install(ring_for(settings))  # ConfigError (exit 2) as at start-up: no keys with MONGODB_URI
    setup_logging(settings.LOG_LEVEL, settings.LOG_FORMAT, settings.DATA_DIR)
    database = await open_database(settings.mongodb_uri, settings.MONGODB_DB, settings.DATA_DIR)
    try:
        tallies = await KeyRotation().run()
    finally:
        await database.close()
    for line in report(tallies):
        print(line)
    return 1 if any(t.unreadable or t.busy for t in tallies.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
