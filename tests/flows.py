"""Traveller scripts shared by tests and benchmarks: what a person types and taps, step by step."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from core.clock import Clock


def travel_day(clock: Clock, days_ahead: int = 10) -> date:
    return clock.now().date() + timedelta(days=days_ahead)


async def search_one_line(t: Any, origin: str, destination: str, day: date, pax: int, timeout: float = 5.0) -> Any:
    await t.send(f"/search {origin} {destination} {day.isoformat()} {pax}")
    return await t.wait_for("tap a fare", timeout=timeout)


async def pick_first_fare(t: Any, cabin: str = "Economy", timeout: float = 5.0) -> Any:
    await t.press(f"1. {cabin}")
    return await t.wait_for("Tap a seat", timeout=timeout)


async def pick_seats_for_me(t: Any, timeout: float = 5.0) -> Any:
    await t.press("Pick for me")
    return await t.wait_for("All seats picked", timeout=timeout)


async def continue_from_seats(t: Any, timeout: float = 5.0) -> Any:
    await t.press("Continue")
    return await t.wait_for("Passenger 1 of", timeout=timeout)


def free_seats(seat_map: Any) -> list[str]:
    """Labels of the free seats on a seat-map message ("12A"; not row labels, aisles or taken marks)."""
    return [b for b in seat_map.button_labels() if b[:-1].isdigit() and b[-1:].isalpha()]


async def to_passengers(t: Any, clock: Clock, pax: int = 1, origin: str = "LHR", destination: str = "JFK",
                        days_ahead: int = 10, timeout: float = 5.0) -> Any:
    """One-line search → first economy fare → pick for me → continue: the first passenger question. `timeout`: how
    long each answer may take (a crowd on busy cores, a replica's update waiting out a dead one's lease)."""
    await search_one_line(t, origin, destination, travel_day(clock, days_ahead), pax, timeout=timeout)
    await pick_first_fare(t, timeout=timeout)
    await pick_seats_for_me(t, timeout=timeout)
    return await continue_from_seats(t, timeout=timeout)


async def guided_to_trip_question(t: Any, day: date, origin: str = "LHR", destination: str = "JFK") -> Any:
    """/search → origin → destination → the outbound date: the "One way or return?" question."""
    await t.send("/search")
    await t.wait_for("Where are you flying from")
    await t.send(origin)
    await t.wait_for("Where to?")
    await t.send(destination)
    await t.wait_for("When?")
    await t.send(day.isoformat())
    return await t.wait_for("One way or return?")


async def seat_each_flight(t: Any, flights: int) -> None:
    """🎲 Pick for me and ✅ Continue on the seat map of each flight of the itinerary ("Flight 2 of 2")."""
    for number in range(1, flights + 1):
        flight = f"Flight {number} of {flights}"
        await t.wait_for(flight)
        await t.press("Pick for me")
        await t.wait_for(lambda m, flight=flight: "All seats picked" in m.plain_text() and flight in m.plain_text())
        await t.press("Continue")


async def confirm_cancel(t: Any) -> Any:
    """Answer the card of /cancel REF ("Cancel booking REF?") with ❌ Yes, cancel; the card is edited into the
    outcome."""
    card = await t.wait_for("Cancel booking")
    await t.press("Yes, cancel", card)
    return card


async def fill_passenger(t: Any, index: int, name: str, dob: str, email: str | None = None,
                         timeout: float = 5.0) -> None:
    await t.send(name)
    await t.wait_for("Date of birth", timeout=timeout)
    await t.send(dob)
    if index == 0:
        await t.wait_for("E-mail address", timeout=timeout)
        await t.send(email or "ada@example.com")
        await t.wait_for("Phone number", timeout=timeout)
        await t.send("Skip")
    await t.wait_for("Passport or ID", timeout=timeout)
    await t.press("Skip")


async def book_to_review(t: Any, clock: Clock, pax: int = 1, origin: str = "LHR", destination: str = "JFK",
                         days_ahead: int = 10, timeout: float = 5.0) -> Any:
    """One-line search → first economy fare → pick for me → passengers → the review screen."""
    await to_passengers(t, clock, pax, origin, destination, days_ahead, timeout=timeout)
    names = ["Ada Lovelace", "Charles Babbage", "Mary Somerville", "Alan Turing", "Grace Hopper"]
    for i in range(pax):
        if i:
            await t.wait_for(f"Passenger {i + 1} of", timeout=timeout)
        await fill_passenger(t, i, names[i % len(names)], f"19{70 + i}-04-2{i}", "ada@example.com", timeout=timeout)
    return await t.wait_for("Please review your booking", timeout=timeout)


async def drain_outbox(services: Any, timeout: float = 5.0) -> int:
    """Deliver the notification outbox until it is idle; returns how many this call delivered.

    Idle: a delivery round sends nothing and no row is being sent or is due now (by the services' clock). The
    pump may deliver concurrently: a row it holds is "sending" until it is done, so once idle, every chat
    message and e-mail queued so far has reached the fake Telegram/SendGrid — and "exactly one" can be asserted
    without sleeping. Rows retried later (backoff) are not due now and do not count.
    """
    import asyncio

    from models.ops import Notification

    notifications = services.notifications
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delivered: int = 0
    while True:
        sent: int = await notifications.deliver_due()
        delivered += sent
        now = notifications.clock.now_ms()
        busy = await Notification.find({"status": "sending"}).count()
        due = await Notification.find({"status": "pending", "next_attempt_ms": {"$lte": now}}).count()
        if sent == 0 and busy == 0 and due == 0:
            return delivered
        if loop.time() > deadline:
            raise AssertionError(f"outbox not idle within {timeout}s: {busy} sending, {due} due")
        if sent == 0:
            await asyncio.sleep(0.01)  # the pump holds a row: give it the loop until it finishes


async def eventually(check: Any, timeout: float = 5.0, interval: float = 0.02) -> Any:
    """Poll an async check until it returns a truthy value (background work like the outbox pump)."""
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        await asyncio.sleep(interval)
