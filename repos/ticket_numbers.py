"""Ticket-number serials (`ticket_counters`): one counter document, `_id` "ticket", raised by one atomic `$inc`.

nx-27017: `find_one_and_update` is unreliable with a compound filter (README), but this filter is the `_id` alone;
tests/services/test_ticket_numbers.py proves 20 concurrent allocations never share a serial on it.
"""

from __future__ import annotations

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from models.ticket_counter import TicketCounter
from repos.base import collection

SERIES = "ticket"
MAX_BATCH = 1000  # a booking needs one per passenger per flight: far fewer


class TicketNumberRepo:
    async def next_serials(self, n: int = 1) -> list[int]:
        """`n` fresh serials, consecutive and never handed out before (the first ever is 1)."""
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_BATCH:
            raise ValueError(f"allocate 1..{MAX_BATCH} serials, not {n!r}")
        update = {"$inc": {"serial": n}}
        try:
            found = await collection(TicketCounter).find_one_and_update(
                {"_id": SERIES}, update, upsert=True, return_document=ReturnDocument.AFTER)
        except DuplicateKeyError:  # the very first allocations raced to insert the counter: it exists now
            found = await collection(TicketCounter).find_one_and_update(
                {"_id": SERIES}, update, return_document=ReturnDocument.AFTER)
        if found is None:
            raise RuntimeError("the ticket counter was not written")
        last = int(found["serial"])
        return list(range(last - n + 1, last + 1))
