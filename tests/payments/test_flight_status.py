"""Flight status (issue #18): an admin's /delay, /gate, /cancelflight reach every confirmed traveller on the flight
once, by chat and e-mail, in the airport's local time; /mybookings and /flight show the state; the card acts once
and only for the admin who asked; stale, repeated and out-of-order reports change nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.clock import as_utc
from models import Booking
from models.flight import Flight
from models.flight_status import FlightState, FlightStatusEvent, FlightStatusKind
from models.ops import AuditEntry, Notification
from services.flight_status import StatusUpdate
from tests.flows import drain_outbox, eventually
from tests.paying import ADMIN_ID, PayingBot


async def _flight_of(booking: Booking) -> Flight:
    flight = await Flight.get(booking.segments[0].flight.flight_id)
    assert flight is not None
    return flight


async def _alerts(traveller: Any, needle: str) -> list[str]:
    return [m.plain_text() for m in traveller.messages() if needle in m.plain_text()]


async def test_an_admins_delay_reaches_every_traveller_once_in_local_time(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3901, first_name="Ada")
    grace = paying.telegram.traveller(3902, first_name="Grace")
    admin = paying.telegram.traveller(ADMIN_ID, first_name="Ops")
    booking = await paying.paid_booking(ada, ["Ada Lovelace", "Charles Babbage"])
    other = await paying.paid_booking(grace, ["Grace Hopper"])
    flight = await _flight_of(booking)
    assert other.segments[0].flight.flight_id == str(flight.id)  # both on the same first flight of the day

    await admin.send(f"/delay {flight.flight_number} {flight.departure_date} 45 late inbound aircraft")
    card = await admin.wait_for("Send it?")
    assert "2 confirmed booking(s), 3 passenger(s)" in card.plain_text()
    new_departure = (as_utc(flight.departs_at) + timedelta(minutes=45)).astimezone(ZoneInfo("Europe/London"))
    assert f"{new_departure:%H:%M}" in card.plain_text()
    for _ in range(25):  # an impatient admin
        await admin.press("Yes, send", card)
    await admin.wait_for("Sent:")
    await drain_outbox(paying.services, timeout=30)

    for traveller, reference in ((ada, booking.reference), (grace, other.reference)):
        alerts = await _alerts(traveller, "is delayed")
        assert len(alerts) == 1, alerts
        old = as_utc(flight.departs_at).astimezone(ZoneInfo("Europe/London"))
        assert f"New departure {new_departure:%H:%M} London time (was {old:%H:%M})" in alerts[0]
        assert "Reason: late inbound aircraft." in alerts[0] and reference in alerts[0]
    mails = [m for m in paying.sendgrid.messages_to("ada@example.com") if "Delayed" in (m.subject or "")]
    assert len(mails) == 2  # one per booking (both used this address)
    assert f"{new_departure:%H:%M} London time" in (mails[0].text or "")
    assert await FlightStatusEvent.count() == 1
    rows = await Notification.find({"key": {"$regex": "^flight-"}}).to_list()
    assert len(rows) == 4 and {r.status for r in rows} == {"sent"}  # chat + e-mail per booking

    await ada.send("/mybookings")
    card_shown = await ada.wait_for(lambda m: booking.reference in m.plain_text() and "Delayed" in m.plain_text())
    assert f"Delayed: departs {new_departure:%H:%M} London time" in card_shown.plain_text()
    await admin.send(f"/flight {flight.flight_number} {flight.departure_date}")
    shown = await admin.wait_for("Travellers:")
    assert "Status: Delayed" in shown.plain_text() and "2 confirmed booking(s), 3 passenger(s)" in shown.plain_text()
    audits = [(a.action, a.outcome) for a in await AuditEntry.find({"action": "flight_delayed"}).to_list()]
    assert sorted(audits) == [("flight_delayed", "asked"), ("flight_delayed", "sent")]


async def test_gate_then_cancellation_and_nothing_after_it(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3903, first_name="Ada")
    admin = paying.telegram.traveller(ADMIN_ID, first_name="Ops")
    booking = await paying.paid_booking(ada, ["Ada Lovelace"])
    flight = await _flight_of(booking)
    name = f"{flight.flight_number} {flight.departure_date}"

    await admin.send(f"/gate {name} b32 5")
    await admin.press("Yes, send", await admin.wait_for("Send it?"))
    await admin.wait_for("Sent:")
    await drain_outbox(paying.services)
    assert len(await _alerts(ada, "departs from terminal 5, gate B32")) == 1

    await admin.send(f"/cancelflight {name} crew shortage")
    await admin.press("Yes, send", await admin.wait_for("Send it?"))
    await admin.wait_for("Sent:")
    await drain_outbox(paying.services)
    cancelled = await _alerts(ada, "is cancelled")
    assert len(cancelled) == 1 and "Reason: crew shortage." in cancelled[0]
    state = await FlightState.find_one({"flight_id": str(flight.id)})
    assert state is not None and state.kind == FlightStatusKind.CANCELLED and state.gate == "B32"

    await admin.send(f"/delay {name} 30")
    refused = await admin.wait_for("Can't send it")
    assert "already cancelled" in refused.plain_text()
    await ada.send("/mybookings")
    await ada.wait_for(lambda m: booking.reference in m.plain_text() and "Flight cancelled" in m.plain_text())


async def test_only_the_admin_who_asked_can_send_and_strangers_are_refused(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3904, first_name="Ada")
    admin = paying.telegram.traveller(ADMIN_ID, first_name="Ops")
    booking = await paying.paid_booking(ada, ["Ada Lovelace"])
    flight = await _flight_of(booking)
    await ada.send(f"/cancelflight {flight.flight_number} {flight.departure_date}")
    await ada.wait_for("for FlyO staff only")
    await admin.send(f"/cancelflight {flight.flight_number} {flight.departure_date}")
    card = await admin.wait_for("Send it?")
    request_id = card.buttons[0][0].callback_data.split(":")[-1]
    before = len(ada.callback_answers)
    await ada.press_data(f"*:fsy:{request_id}", card.message_id)  # forged: the traveller presses the admin's button

    async def answered() -> bool:
        return len(ada.callback_answers) > before

    await eventually(answered)
    assert "staff only" in str(ada.callback_answers[-1].get("text"))
    assert await FlightStatusEvent.count() == 0
    await admin.press("Keep as is", card)
    await admin.wait_for("Kept as is")
    await admin.press_data(f"*:fsy:{request_id}", card.message_id)  # a stale copy of the button: nothing is sent

    async def admin_answered() -> bool:
        return any("already answered" in str(a.get("text")) for a in admin.callback_answers)

    await eventually(admin_answered)
    assert await FlightStatusEvent.count() == 0
    refused = await AuditEntry.find({"action": "cancelflight", "outcome": "refused"}).count()
    assert refused == 1
    for bad in (f"/delay {flight.flight_number} {flight.departure_date} soon", "/delay FO 2026-13-45 30",
                f"/gate {flight.flight_number} {flight.departure_date} " + "G" * 4000, "/flight",
                f"/delay XX999 {flight.departure_date} 30"):
        await admin.send(bad)
        answer = await admin.wait_for(lambda m: "Usage" in m.plain_text() or "Can't" in m.plain_text()
                                      or "number of minutes" in m.plain_text())
        assert "Send it?" not in answer.plain_text(), bad


async def test_replayed_stale_and_out_of_order_reports_change_nothing(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3905, first_name="Ada")
    booking = await paying.paid_booking(ada, ["Ada Lovelace"])
    flight = await _flight_of(booking)
    status = paying.services.flight_status
    now = paying.bot.clock.now_ms()
    later = StatusUpdate(key="feed:2", flight=flight, kind=FlightStatusKind.DELAYED, at_ms=now + 60_000,
                         source="feed", departs_ms=now + 10**8)
    earlier = StatusUpdate(key="feed:1", flight=flight, kind=FlightStatusKind.GATE, at_ms=now, source="feed",
                           gate="A1")
    first = await status.record(later)
    again = await status.record(later)  # the same report twice
    old = await status.record(earlier)  # arrives late, out of order
    assert first.applied and first.told == 1
    assert again.event is None and not again.applied and again.told == 0
    assert old.event is not None and not old.applied and old.told == 0
    stored = await FlightStatusEvent.find_one({"event_key": "feed:1"})
    assert stored is not None and stored.stale
    state = await status.state(str(flight.id))
    assert state is not None and state.kind == FlightStatusKind.DELAYED and state.gate is None
    await drain_outbox(paying.services)
    assert len(await _alerts(ada, "is delayed")) == 1 and await _alerts(ada, "gate A1") == []
