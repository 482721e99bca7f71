"""Shared test harness: no internet, one embedded database per session, clean collections per test."""

from __future__ import annotations

import ipaddress
import os
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.db import EmbeddedMongo, open_database
from core.config import Settings
from core.database import Database
from models import ALL_DOCUMENTS

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT.parent / "shared" / "fixtures"
# The data encryption key of every FlyO a test starts (tests.harness, tests.children) and of the test process's own
# reads: replicas of one test share it, as DATA_ENCRYPTION_KEYS makes them share it in production.
TEST_DATA_KEY = "Zmx5by10ZXN0LWRhdGEta2V5LTMyLWJ5dGVzLWxvbmc="


# ---- network guard -----------------------------------------------------------------------------
class ExternalNetworkBlocked(RuntimeError):
    pass


def _is_loopback(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        host = address[0]
    else:
        return True  # AF_UNIX paths and the like never leave the machine
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # an unresolved host name: refuse


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
        raise ExternalNetworkBlocked(f"test tried to connect to {address!r}; only 127.0.0.1 is allowed")
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
        raise ExternalNetworkBlocked(f"test tried to connect to {address!r}; only 127.0.0.1 is allowed")
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if name not in (None, "localhost") and not _is_loopback((name, 0)):
        raise ExternalNetworkBlocked(f"test tried to resolve {name!r}; only 127.0.0.1 is allowed")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(scope="session", autouse=True)
def _no_internet() -> Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = _guarded_getaddrinfo
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _real_getaddrinfo


@pytest.fixture(autouse=True)
def _data_key_ring() -> None:
    """The test process reads and writes personal data under the key its FlyOs use (a test may install another)."""
    from core import crypto

    crypto.install(crypto.KeyRing.from_text(TEST_DATA_KEY))


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's exported FlyO variables must not leak into tests (and never real keys)."""
    settings = set(Settings.model_fields)  # every setting, so a new one can't leak in unnoticed
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "STRIPE_", "SENDGRID_", "AMADEUS_", "MONGODB_")) or name in settings:
            monkeypatch.delenv(name, raising=False)


# ---- database ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real mongod via TEST_MONGODB_URI, else one embedded nx-27017 for the whole session."""
    external = os.environ.get("TEST_MONGODB_URI", "")
    if external:
        yield external
        return
    server = EmbeddedMongo(tmp_path_factory.mktemp("nx"))
    server.start()
    try:
        yield server.uri
    finally:
        server.stop()


@pytest.fixture(scope="session")
async def database_session(mongo_uri: str) -> AsyncIterator[Database]:
    name = f"flyo_test_{os.getpid()}"
    database = await open_database(mongo_uri, name, Path(tempfile.gettempdir()))
    yield database
    await database.client.drop_database(name)
    await database.close()


@pytest.fixture
async def db(database_session: Database) -> AsyncIterator[Database]:
    """The session database with every collection emptied first (indexes kept)."""
    _inventory_state["fresh"] = False
    for model in ALL_DOCUMENTS:
        await model.get_pymongo_collection().delete_many({})  # type: ignore[attr-defined]
    yield database_session


def fixture_path(*parts: str) -> Path:
    """A file under ../shared/fixtures, or skip the test with the reason when the folder is absent."""
    path = FIXTURES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared fixtures not available at {path}")
    return path


# ---- inventory and running bot -------------------------------------------------------------------
INVENTORY_COLLECTIONS = {"airports", "aircraft_types", "flights"}
_inventory_state = {"fresh": False}  # True while the session's 30-day inventory is known to be intact


@pytest.fixture
async def inventory_db(database_session: Database) -> AsyncIterator[Database]:
    """Clean bookings/holds/conversations, but keep a seeded inventory (seeded once, 30 days)."""
    from core.clock import Clock
    from services.inventory.seed import seed_inventory

    for model in ALL_DOCUMENTS:
        collection = model.get_pymongo_collection()  # type: ignore[attr-defined]
        if collection.name in INVENTORY_COLLECTIONS:
            if collection.name == "flights":
                await collection.delete_many({"source": {"$ne": "local"}})
            continue
        await collection.delete_many({})
    if not _inventory_state["fresh"]:
        # A `db` test may have wiped it or seeded another window: start from a clean, known inventory.
        for name in INVENTORY_COLLECTIONS:
            await database_session.db[name].delete_many({})
        await seed_inventory(Clock(), days=30)
        _inventory_state["fresh"] = True
    yield database_session


@pytest.fixture
async def telegram() -> AsyncIterator[Any]:
    from tests.fakes.telegram import FakeTelegram

    async with FakeTelegram() as fake:
        yield fake
        # Runs after the bot stopped: a press left unanswered keeps its spinner on a real client.
        unanswered = [(c.user_id, c.data) for c in fake.unanswered_callbacks()]
        assert not unanswered, f"callback queries FlyO never answered (user, data): {unanswered}"


@pytest.fixture
async def bot(inventory_db: Database, telegram: Any, tmp_path: Path) -> AsyncIterator[Any]:
    """The real FlyO on the fake Bot API and the test database."""
    from tests.harness import running_bot

    async with running_bot(inventory_db, telegram, tmp_path, FLOOD_MAX_UPDATES=SCRIPTED_FLOOD_LIMIT) as running:
        yield running


# A script taps faster than a person: a return trip for two is ~30 updates within seconds. Flood control has its
# own tests (tests/ops/test_rate_limits.py) at the real default of 20 per 10 s.
SCRIPTED_FLOOD_LIMIT = 100

from tests.paying import paying  # noqa: E402,F401 - a FlyO with Stripe and SendGrid at loopback fakes


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line, where Chromium is missing, saying how to run the skipped browser tests (tests.browser)."""
    from tests.browser import CHROMIUM, DRIVER

    if CHROMIUM is None or DRIVER is None:
        terminalreporter.write_line("browser tests skipped: no Chromium here — `sudo apt install chromium "
                                    "chromium-driver` (Debian) enables them; .ci/run installs them in CI")
