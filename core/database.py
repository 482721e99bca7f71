"""The open database handle every layer above may hold; opening it (or the embedded server) is bot.db's job."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

_scope: ContextVar[list[str] | None] = ContextVar("flyo_db_round_trips", default=None)


class RoundTrips(monitoring.CommandListener):
    """Counts the database commands (round trips) of the current scope — one update, one webhook request, one
    worker step — as "<command> <collection>". PyMongo's async client publishes a command's start in the task
    that awaits it, so a scope set in a task (and the tasks it starts, which copy its context) sees exactly its
    own commands."""

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        scope = _scope.get()
        if scope is not None:
            target = event.command.get(event.command_name)  # the collection, for most commands
            scope.append(f"{event.command_name} {target}" if isinstance(target, str) else event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


ROUND_TRIPS = RoundTrips()  # given to every client FlyO opens (bot.db)


def start_round_trip_scope() -> list[str]:
    """From now on in this task (and tasks it starts), commands are listed in the returned list."""
    scope: list[str] = []
    _scope.set(scope)
    return scope


def current_round_trips() -> list[str] | None:
    return _scope.get()


@contextlib.contextmanager
def counting_round_trips() -> Iterator[list[str]]:
    """`with counting_round_trips() as commands:` — the commands issued inside, by name."""
    scope: list[str] = []
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


class EmbeddedServer(Protocol):
    """A database server process this FlyO started (bot.db.EmbeddedMongo), stopped when the handle closes."""

    process: subprocess.Popen[bytes] | None

    @property
    def uri(self) -> str: ...

    def stop(self) -> None: ...


@dataclass
class Database:
    """An open connection with Beanie initialised; owns the embedded server when it started one."""

    client: AsyncMongoClient[dict[str, Any]]
    db: AsyncDatabase[dict[str, Any]]
    embedded: EmbeddedServer | None = None

    async def ping(self, within: float = 2.0) -> bool:
        try:
            await asyncio.wait_for(self.db.command("ping"), within)
        except (PyMongoError, TimeoutError, OSError):
            return False
        return True

    async def close(self) -> None:
        await self.client.close()
        if self.embedded is not None:
            await asyncio.to_thread(self.embedded.stop)
            self.embedded = None
