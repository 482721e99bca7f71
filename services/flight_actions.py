"""The admins' flight status commands (/delay, /gate, /cancelflight): a card that says what will happen and to how
many travellers, then "Yes, send" records the event once (services.flight_status) — audited at every step.

A /delay's minutes count from the scheduled departure, as departure boards show them ("delayed 45 min"): a second
/delay of 90 is 90 after the schedule, not 135. Arrival moves by the same minutes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from core.clock import Clock, as_utc, to_ms
from core.errors import FlyOError, NotFound
from models.flight import Flight
from models.flight_action import FlightActionRequest
from models.flight_status import FINAL, FlightStatusKind
from repos.flights import FlightRepo
from repos.one_time import OneTimeRequests
from services.audit import audit
from services.flight_status import FlightStatusService, Recorded
from services.providers.status_feed import StatusUpdate

CONFIRM_MINUTES = 10
MAX_DELAY_MINUTES = 48 * 60
FLIGHT_NUMBER = re.compile(r"[A-Z0-9]{2}[A-Z]?\d{1,4}[A-Z]?")
GATE = re.compile(r"[A-Z0-9]{1,5}")
TERMINAL = re.compile(r"[A-Z0-9]{1,4}")

_flights = FlightRepo()


class FlightActionRefused(FlyOError):
    """Said to the admin as is."""


@dataclass(frozen=True)
class ActionPreview:
    request: FlightActionRequest
    flight: Flight
    bookings: int
    passengers: int
    departs: datetime | None  # a delay's new departure


def parse_flight(number: str, day: str) -> tuple[str, str]:
    """("FO280", "2026-12-03") from what the admin typed; FlightActionRefused with the format otherwise."""
    number = number.strip().upper()[:12]
    if not FLIGHT_NUMBER.fullmatch(number):
        raise FlightActionRefused(f"{number or '(none)'} is not a flight number like FO280.")
    try:
        parsed = date.fromisoformat(day.strip()[:10])
    except ValueError:
        raise FlightActionRefused("The date is the departure's local date as YYYY-MM-DD, like 2026-12-03.") from None
    return number, parsed.isoformat()


class FlightOps:
    def __init__(self, clock: Clock, status: FlightStatusService) -> None:
        self.clock = clock
        self.status = status
        self.requests: OneTimeRequests[FlightActionRequest] = OneTimeRequests(FlightActionRequest)

    async def flight(self, number: str, day: str) -> Flight:
        flight_number, departure_date = parse_flight(number, day)
        found = await self.status.find_flight(flight_number, departure_date)
        if found is None:
            raise NotFound(f"There is no flight {flight_number} on {departure_date}.")
        return found

    async def travellers_on(self, flight: Flight) -> tuple[int, int]:
        """(CONFIRMED bookings, their passengers) with a segment on the flight."""
        bookings = await self.status.repo.confirmed_bookings_on(str(flight.id))
        return len(bookings), sum(len(b.passengers) for b in bookings)

    async def ask(self, kind: FlightStatusKind, flight: Flight, admin_id: int, *, minutes: int | None = None,
                  gate: str | None = None, terminal: str | None = None, reason: str = "") -> ActionPreview:
        """The card's content, stored for its "Yes, send". FlightActionRefused for what cannot be sent."""
        target = f"{flight.flight_number} {flight.departure_date}"
        state = await self.status.state(str(flight.id))
        if state is not None and state.kind in FINAL:
            await audit(self.clock, admin_id, f"flight_{kind.value}", target, "refused", f"already {state.kind}")
            raise FlightActionRefused(f"{target} is already {state.kind.value}; nothing more can be sent.")
        departs = None
        if kind == FlightStatusKind.DELAYED:
            if minutes is None or not 1 <= minutes <= MAX_DELAY_MINUTES:
                raise FlightActionRefused(f"A delay is 1 to {MAX_DELAY_MINUTES} minutes after the scheduled "
                                          "departure.")
            departs = as_utc(flight.departs_at) + timedelta(minutes=minutes)
        if kind == FlightStatusKind.GATE:
            gate, terminal = (gate or "").upper(), (terminal or "").upper() or None
            if not GATE.fullmatch(gate) or (terminal is not None and not TERMINAL.fullmatch(terminal)):
                raise FlightActionRefused("A gate is up to 5 letters or digits (B32), a terminal up to 4 (5, T2).")
        request = await self.requests.add(FlightActionRequest(
            flight_id=str(flight.id), flight_number=flight.flight_number, departure_date=flight.departure_date,
            kind=kind, requested_by=admin_id, delay_minutes=minutes, gate=gate, terminal=terminal,
            reason=reason.strip()[:200], created_at=self.clock.now(),
            expires_ms=self.clock.now_ms() + CONFIRM_MINUTES * 60_000))
        await audit(self.clock, admin_id, f"flight_{kind.value}", target, "asked", _detail(request))
        bookings, passengers = await self.travellers_on(flight)
        return ActionPreview(request, flight, bookings, passengers, departs)

    async def _answerable(self, request_id: str, admin_id: int) -> FlightActionRequest:
        request = await self.requests.get(request_id)
        if request is None or request.requested_by != admin_id:
            raise FlightActionRefused("This button is no longer active.")
        if request.used_ms is not None:
            raise FlightActionRefused("This card was already answered.")
        if request.expires_ms < self.clock.now_ms():
            raise FlightActionRefused("This confirmation expired; send the command again.")
        return request

    async def confirm(self, request_id: str, admin_id: int) -> tuple[FlightActionRequest, Recorded]:
        """"Yes, send": record the event (once, however often tapped) and tell the travellers."""
        request = await self._answerable(request_id, admin_id)
        if not await self.requests.claim(request, self.clock.now_ms()):
            raise FlightActionRefused("This card was already answered.")
        flight = await _flights.get(request.flight_id)
        if flight is None:
            raise NotFound(f"Flight {request.flight_number} {request.departure_date} no longer exists.")
        departs = arrives = None
        if request.kind == FlightStatusKind.DELAYED and request.delay_minutes is not None:
            shift = timedelta(minutes=request.delay_minutes)
            departs, arrives = to_ms(as_utc(flight.departs_at) + shift), to_ms(as_utc(flight.arrives_at) + shift)
        recorded = await self.status.record(StatusUpdate(
            key=f"admin:{request.id}", flight=flight, kind=request.kind, at_ms=self.clock.now_ms(),
            source=f"admin:{admin_id}", departs_ms=departs, arrives_ms=arrives, gate=request.gate,
            terminal=request.terminal, reason=request.reason))
        outcome = "sent" if recorded.applied else "not_applied"
        await audit(self.clock, admin_id, f"flight_{request.kind.value}",
                    f"{request.flight_number} {request.departure_date}", outcome,
                    f"{_detail(request)}; {recorded.told} booking(s) told")
        return request, recorded

    async def keep(self, request_id: str, admin_id: int) -> FlightActionRequest:
        request = await self._answerable(request_id, admin_id)
        await self.requests.close(request, self.clock.now_ms())
        await audit(self.clock, admin_id, f"flight_{request.kind.value}",
                    f"{request.flight_number} {request.departure_date}", "kept", _detail(request))
        return request


def _detail(request: FlightActionRequest) -> str:
    parts = [f"{request.delay_minutes} min" if request.delay_minutes else "",
             f"gate {request.gate}" if request.gate else "", f"terminal {request.terminal}" if request.terminal else "",
             request.reason]
    return "; ".join(p for p in parts if p)
