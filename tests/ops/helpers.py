"""Small helpers for the operations tests: HTTP calls, metric samples, booking documents."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any

import aiohttp

from models import Booking, BookingStatus, Passenger, PriceSnapshot
from models.booking import PaymentState, Segment
from models.flight import FlightSnapshot
from services.metrics import REGISTRY


async def http(method: str, url: str, **kwargs: Any) -> tuple[int, dict[str, str], bytes]:
    async with aiohttp.ClientSession() as client, client.request(method, url, **kwargs) as response:
        return response.status, dict(response.headers), await response.read()


def sample(name: str, **labels: str) -> float:
    """Current value of one metric sample in FlyO's registry (0 when it was never touched)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within: float = 5.0) -> None:
    """For effects that finish after the reply with nothing to wait on (a background DB write)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached within {within}s")
        await asyncio.sleep(0.02)


_serial = itertools.count(1)


def _reference(n: int) -> str:
    digits = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    out = ""
    for _ in range(5):
        n, rest = divmod(n, len(digits))
        out = digits[rest] + out
    return "T" + out


async def make_booking(*, status: BookingStatus, created_at: datetime, total: int = 45_000,
                       currency: str = "EUR", origin: str = "LHR", destination: str = "JFK",
                       payment_status: str = "none", user_id: int = 7001) -> Booking:
    """A booking document as the booking service stores it (the fields /stats and /metrics read)."""
    n = next(_serial)
    departs = created_at + timedelta(days=20)
    booking = Booking(
        reference=_reference(n), user_id=user_id, chat_id=user_id, status=status,
        segments=[Segment(flight=FlightSnapshot(
            flight_id=f"f{n}", flight_number="FO100", origin=origin, destination=destination, departs_at=departs,
            arrives_at=departs + timedelta(hours=8), aircraft="A320", cabin="economy"), seats=["12A"],
            fare_per_passenger=total)],
        passengers=[Passenger(full_name="Ada Lovelace", birth_date=date(1985, 12, 10))],
        email="ada@example.com",
        price=PriceSnapshot(currency=currency, fare_per_passenger=total, passengers=1, total=total),
        created_at=created_at, updated_ms=0, hold_expires_ms=0, payment=PaymentState(status=payment_status),
    )
    await booking.insert()
    return booking
