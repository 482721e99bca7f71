"""Flight status (issue #18): an admin's /delay, /gate, /cancelflight reach every confirmed traveller on the flight
once, by chat and e-mail, in the airport's local time; /mybookings and /flight show the state; the card acts once
and only for the admin who asked; stale, repeated and out-of-order reports change nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.runtime import build_status_feed
from core.clock import as_utc
from core.config import ConfigError, Settings
from models import Booking
from models.flight import Flight
from models.flight_status import FlightState, FlightStatusEvent, FlightStatusKind
from models.ops import AuditEntry, Notification
from services.metrics import REGISTRY
from services.providers.status_feed import ScriptedFeed, StatusUpdate
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

    alerts_before = REGISTRY.get_sample_value("flyo_flight_alerts_total", {"kind": "delayed"}) or 0.0
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
    assert REGISTRY.get_sample_value("flyo_flight_alerts_total", {"kind": "delayed"}) == alerts_before + 2
    await admin.send("/stats")
    stats = await admin.wait_for("Disruptions")
    assert "Flight status reports: delayed 1" in stats.plain_text()


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


async def test_the_departure_reminder_tells_the_latest_status(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3906, first_name="Ada")
    booking = await paying.paid_booking(ada, ["Ada Lovelace"])
    flight = await _flight_of(booking)
    status = paying.services.flight_status
    now = paying.bot.clock.now_ms()
    delayed_to = as_utc(flight.departs_at) + timedelta(minutes=95)
    await status.record(StatusUpdate(key="feed:d", flight=flight, kind=FlightStatusKind.DELAYED, at_ms=now,
                                     source="feed", departs_ms=int(delayed_to.timestamp() * 1000)))
    await status.record(StatusUpdate(key="feed:g", flight=flight, kind=FlightStatusKind.GATE, at_ms=now + 1,
                                     source="feed", gate="C7"))
    await drain_outbox(paying.services)
    paying.bot.clock.advance(as_utc(flight.departs_at) - paying.bot.clock.now() - timedelta(hours=20))
    report = await paying.services.sweeper.run()
    assert report.departure_reminders == 1
    await drain_outbox(paying.services)
    reminder = (await _alerts(ada, "Reminder:"))[-1]
    local = delayed_to.astimezone(ZoneInfo("Europe/London"))
    assert f"{local:%H:%M} London time" in reminder
    assert "Delayed" in reminder and "gate C7" in reminder


class Crash(Exception):
    pass


async def test_a_crash_in_the_middle_of_the_fan_out_leaves_every_traveller_exactly_one_alert(
        paying: PayingBot) -> None:
    travellers = [paying.telegram.traveller(3910 + i, first_name=f"T{i}") for i in range(3)]
    names = ["Ada Lovelace", "Grace Hopper", "Alan Turing"]
    bookings = [await paying.paid_booking(t, [name]) for t, name in zip(travellers, names, strict=True)]
    flight = await _flight_of(bookings[0])
    assert all(b.segments[0].flight.flight_id == str(flight.id) for b in bookings)
    status = paying.services.flight_status
    status.batch = 2  # six rows (three bookings × chat + e-mail): three inserts

    async def crash_before_the_second(number: int) -> None:
        if number == 1:
            raise Crash("killed between two inserts")

    status.before_batch = crash_before_the_second
    update = StatusUpdate(key="feed:cx", flight=flight, kind=FlightStatusKind.CANCELLED,
                          at_ms=paying.bot.clock.now_ms(), source="feed", reason="storm")
    try:
        await status.record(update)
    except Crash:
        pass
    else:
        raise AssertionError("the fault was not injected")
    status.before_batch = None
    event = await FlightStatusEvent.find_one({"event_key": "feed:cx"})
    assert event is not None and event.fanned_ms is None  # cut short: the sweep must finish it
    assert await Notification.find({"key": {"$regex": "^flight-"}}).count() == 2
    assert (await status.record(update)).event is None  # the feed repeating it does not start it over
    paying.bot.clock.advance(timedelta(minutes=2))  # the sweep leaves a fan-out in progress alone for a minute
    report = await paying.services.sweeper.run()
    assert report.flight_alerts_finished == 1
    assert (await paying.services.sweeper.run()).flight_alerts_finished == 0  # once
    rows = await Notification.find({"key": {"$regex": "^flight-"}}).to_list()
    assert sorted(r.key for r in rows) == sorted(
        f"flight-{event.id}:{b.id}{suffix}" for b in bookings for suffix in ("", ":email"))
    await drain_outbox(paying.services)
    for traveller in travellers:
        assert len(await _alerts(traveller, "is cancelled")) == 1


async def test_a_scripted_day_replays_once_as_the_clock_reaches_each_line(paying: PayingBot, tmp_path: Any) -> None:
    ada = paying.telegram.traveller(3920, first_name="Ada")
    booking = await paying.paid_booking(ada, ["Ada Lovelace"])
    flight = await _flight_of(booking)
    script = [{"flight": flight.flight_number, "minutes": -240, "kind": "gate", "gate": "B32", "terminal": "5"},
              {"flight": flight.flight_number, "minutes": -150, "kind": "delayed", "delay": 45,
               "reason": "late inbound aircraft"}]
    path = tmp_path / "day.json"
    path.write_text(json.dumps(script))
    feed = ScriptedFeed.from_file(path)
    status = paying.services.flight_status
    clock = paying.bot.clock
    async def ours() -> list[str]:  # the script names a daily flight: only this day's matters here
        events = await FlightStatusEvent.find({"flight_id": str(flight.id)}).sort("at_ms").to_list()
        return [e.kind.value for e in events]

    await status.poll(feed)
    assert await ours() == []  # days before the flight: nothing has happened to it yet
    clock.advance(as_utc(flight.departs_at) - clock.now() - timedelta(minutes=200))  # past the gate line only
    await status.poll(feed)
    assert await ours() == ["gate"]
    clock.advance(timedelta(minutes=60))  # past the delay line
    assert await status.poll(feed) >= 1
    assert await ours() == ["gate", "delayed"]
    assert await status.poll(feed) == 0
    assert await status.poll(ScriptedFeed.from_file(path)) == 0  # a restarted FlyO replays nothing twice
    await drain_outbox(paying.services)
    assert len(await _alerts(ada, "gate B32")) == 1
    delayed = await _alerts(ada, "is delayed")
    assert len(delayed) == 1 and "late inbound aircraft" in delayed[0]
    state = await status.state(str(flight.id))
    assert state is not None and (state.kind, state.gate, state.terminal) == (FlightStatusKind.DELAYED, "B32", "5")


def test_a_wrong_script_or_setting_is_refused_with_the_line_at_fault(tmp_path: Any) -> None:
    for script, says in (({"flight": "FO280"}, "JSON list"),
                         ([{"flight": "FO280", "minutes": -5, "kind": "boarding"}, {"flight": "FO1", "kind": "x"}],
                          "line 2"),
                         ([{"flight": "FO280", "minutes": "soon", "kind": "gate"}], "line 1"),
                         ([{"flight": "FO280", "minutes": 1, "kind": "delayed", "delay": 99999}], "line 1")):
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(script))
        with pytest.raises(ConfigError, match=says):
            ScriptedFeed.from_file(path)
    with pytest.raises(ConfigError, match="cannot read"):
        ScriptedFeed.from_file(tmp_path / "missing.json")
    with pytest.raises(ValueError, match="FLIGHT_STATUS_FEED"):
        Settings(FLIGHT_STATUS_FEED="http://status.example/feed", DATA_DIR=tmp_path)  # type: ignore[call-arg]
    assert build_status_feed(Settings(FLIGHT_STATUS_FEED="", DATA_DIR=tmp_path)) is None  # type: ignore[call-arg]
    shipped = ScriptedFeed.from_file(Path(__file__).resolve().parents[2] / "docs" / "status-day.json")
    assert len(shipped.lines) == 4  # the README's example script parses


async def test_a_card_answered_after_its_ten_minutes_sends_nothing(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(3930, first_name="Ada")
    admin = paying.telegram.traveller(ADMIN_ID, first_name="Ops")
    booking = await paying.paid_booking(ada, ["Ada Lovelace"])
    flight = await _flight_of(booking)
    await admin.send(f"/cancelflight {flight.flight_number} {flight.departure_date}")
    card = await admin.wait_for("Send it?")
    before = len(admin.callback_answers)
    paying.bot.clock.advance(timedelta(minutes=11))  # the admin came back from lunch
    await admin.press("Yes, send", card)

    async def answered() -> bool:
        return len(admin.callback_answers) > before

    await eventually(answered)
    assert "expired" in str(admin.callback_answers[-1].get("text"))
    assert await FlightStatusEvent.count() == 0
    await drain_outbox(paying.services)
    assert await _alerts(ada, "is cancelled") == []
