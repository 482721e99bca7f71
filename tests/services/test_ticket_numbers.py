"""Ticket numbers (services.tickets.numbers) and their serials (repos.ticket_numbers): 13 digits under FlyO's prefix,
bounded, and allocated atomically — concurrent bookings never share a number."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core.database import Database
from models.ticket_counter import TicketCounter
from repos.base import collection
from repos.ticket_numbers import MAX_BATCH, TicketNumberRepo
from services.tickets.numbers import MAX_SERIAL, TICKET_PREFIX, is_ticket_number, ticket_number


def test_the_prefix_is_three_digits_no_airline_holds() -> None:
    assert len(TICKET_PREFIX) == 3 and TICKET_PREFIX.isdigit()
    assert TICKET_PREFIX not in {"001", "006", "016", "057", "074", "125", "176", "220", "235", "932", "999"}


@pytest.mark.parametrize(("serial", "number"), [
    (1, "0000000000001"),
    (42, "0000000000042"),
    (1_234_567_890, "0001234567890"),
    (MAX_SERIAL, "0009999999999"),
])
def test_a_serial_becomes_thirteen_digits_under_the_prefix(serial: int, number: str) -> None:
    assert ticket_number(serial) == number
    assert len(number) == 13 and number.startswith(TICKET_PREFIX)
    assert is_ticket_number(number)


@pytest.mark.parametrize("serial", [0, -1, MAX_SERIAL + 1, 10**40, True, 1.0, "1", None])
def test_a_serial_outside_the_range_is_refused(serial: Any) -> None:
    with pytest.raises(ValueError):
        ticket_number(serial)


@pytest.mark.parametrize("text", [
    "", "0000000000000", "000000000001", "00000000000001", "1250000000001", "000-0000000001", " 0000000000001",
    "0000000000001\n", "000000000000١", "000000000000a", "０００0000000001", "0" * 4096, None, 1, b"0000000000001",
])
def test_anything_else_is_not_a_ticket_number(text: Any) -> None:
    assert not is_ticket_number(text)


async def test_serials_start_at_one_and_a_batch_is_consecutive(db: Database) -> None:
    repo = TicketNumberRepo()
    assert await repo.next_serials() == [1]
    assert await repo.next_serials(4) == [2, 3, 4, 5]
    assert await repo.next_serials(1) == [6]
    counter = await collection(TicketCounter).find_one({"_id": "ticket"})
    assert counter is not None and counter["serial"] == 6
    assert await collection(TicketCounter).count_documents({}) == 1


@pytest.mark.parametrize("n", [0, -3, MAX_BATCH + 1, True, 2.5, "2"])
async def test_a_bad_batch_size_allocates_nothing(db: Database, n: Any) -> None:
    repo = TicketNumberRepo()
    with pytest.raises(ValueError):
        await repo.next_serials(n)
    assert await collection(TicketCounter).count_documents({}) == 0
    assert await repo.next_serials() == [1]


async def test_twenty_concurrent_allocations_never_share_a_serial(db: Database) -> None:
    """The first allocations race to create the counter too (upsert on an `_id`-only filter)."""
    repo = TicketNumberRepo()
    singles = await asyncio.gather(*(repo.next_serials() for _ in range(20)))
    flat = [s for batch in singles for s in batch]
    assert sorted(flat) == list(range(1, 21))  # distinct, and no serial skipped


async def test_concurrent_batches_are_each_consecutive_and_disjoint(db: Database) -> None:
    repo = TicketNumberRepo()
    await repo.next_serials()  # the counter exists: this round races only the $inc
    sizes = [1, 2, 3, 4, 5] * 4
    batches = await asyncio.gather(*(repo.next_serials(n) for n in sizes))
    for n, batch in zip(sizes, batches, strict=True):
        assert len(batch) == n and batch == list(range(batch[0], batch[0] + n))
    flat = [s for batch in batches for s in batch]
    assert sorted(flat) == list(range(2, 2 + sum(sizes)))
    assert all(is_ticket_number(ticket_number(s)) for s in flat)
