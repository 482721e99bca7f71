"""The open database handle every layer above may hold; opening it (or the embedded server) is bot.db's job."""

from __future__ import annotations

import asyncio
import subprocess
from dataclasses import dataclass
from typing import Any, Protocol

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError


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
