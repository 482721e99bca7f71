"""The 13-digit ticket number (issue #17): a 3-digit airline prefix and a 10-digit serial, "0001234567890".

An airline's ticket numbers start with its IATA accounting code (American Airlines 001, British Airways 125,
Air China 999…), so travellers, agents and airport systems read the first three digits as the issuing airline.
FlyO is no IATA airline and must not issue numbers that look like another airline's documents. Codes are assigned
from 001 upwards and the high ones are in use too (Virgin Atlantic 932, Air China 999), so no range at the top is
free; 000 is the one prefix no airline holds — IATA numbering starts at 001, and an all-zero code is what
systems treat as "no airline". A FlyO ticket number can therefore never be mistaken for, or collide with, a real
carrier's ticket. (Were FlyO to join BSP/ARC it would get its own code and only TICKET_PREFIX would change.)

Serials come from one atomic counter (repos.ticket_numbers.TicketNumberRepo.next_serials), never reused.
"""

from __future__ import annotations

import re

TICKET_PREFIX = "000"
SERIAL_DIGITS = 10
MAX_SERIAL = 10**SERIAL_DIGITS - 1  # 9_999_999_999
_TICKET = re.compile(rf"{TICKET_PREFIX}[0-9]{{{SERIAL_DIGITS}}}")


def ticket_number(serial: int) -> str:
    """Serial 42 → "0000000000042". ValueError outside 1..9_999_999_999 (0 is never handed out)."""
    if isinstance(serial, bool) or not isinstance(serial, int):
        raise ValueError(f"a ticket serial is an integer, not {type(serial).__name__}")
    if not 1 <= serial <= MAX_SERIAL:
        raise ValueError(f"ticket serial {serial} is outside 1..{MAX_SERIAL}")
    return f"{TICKET_PREFIX}{serial:0{SERIAL_DIGITS}d}"


def is_ticket_number(text: object) -> bool:
    """Exactly 13 ASCII digits, FlyO's prefix first and a serial other than 0 (no spaces, dashes or other digits)."""
    return isinstance(text, str) and _TICKET.fullmatch(text) is not None and int(text[len(TICKET_PREFIX):]) > 0
