"""A full flight cancelled (issue #18): 300 confirmed travellers each get exactly one alert by chat and one by
e-mail, through a fake Telegram that enforces flood control like the real one (30 messages a second, then 429
"retry after"): every 429 is waited out and retried by python-telegram-bot's AIORateLimiter, none is lost.

The 300 bookings are written as a paid booking leaves the database (booking CONFIRMED, its seat booked, its
confirmation message sent): paying for 300 through the chat is what the other tests do one at a time, and only
the fan-out is under test here."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from models.flight import Flight
from models.ops import Notification
from repos.base import collection
from tests.crowd import confirmed_crowd
from tests.flows import drain_outbox
from tests.paying import ADMIN_ID, PayingBot

pytestmark = pytest.mark.slow
CROWD = 300


async def _full_flight(paying: PayingBot) -> Flight:
    day = (paying.bot.clock.now() + timedelta(days=9)).date().isoformat()
    flight = await Flight.find_one({"route_key": f"LHR-JFK-{day}", "source": "local"})
    assert flight is not None
    return flight


async def test_three_hundred_travellers_each_told_once_without_losing_a_429(paying: PayingBot) -> None:
    flight = await _full_flight(paying)
    crowd = await confirmed_crowd(flight, CROWD)
    travellers = {b.chat_id: paying.telegram.traveller(b.chat_id) for b in crowd}
    admin = paying.telegram.traveller(ADMIN_ID, first_name="Ops")
    paying.telegram.flood_limit = 30  # as Telegram: ~30 messages a second per bot, then 429

    await admin.send(f"/cancelflight {flight.flight_number} {flight.departure_date} engine change")
    card = await admin.wait_for("Send it?")
    assert f"{CROWD} confirmed booking(s), {CROWD} passenger(s)" in card.plain_text()
    started = time.monotonic()
    await admin.press("Yes, send", card)
    await admin.wait_for("Sent:")
    await drain_outbox(paying.services, timeout=180)
    elapsed = time.monotonic() - started

    for chat_id, traveller in travellers.items():
        alerts = [m for m in traveller.messages() if "is cancelled" in m.plain_text()]
        assert len(alerts) == 1, (chat_id, [m.plain_text() for m in traveller.messages()])
    mails = [m for m in paying.sendgrid.messages if "Cancelled" in (m.subject or "")]
    assert len(mails) == CROWD and len({m.to[0] for m in mails}) == CROWD
    rows = await collection(Notification).count_documents({"key": {"$regex": "^flight-"}})
    failed = await collection(Notification).count_documents({"key": {"$regex": "^flight-"}, "status": {"$ne": "sent"}})
    assert (rows, failed) == (2 * CROWD, 0)
    sends = paying.telegram.calls_of("sendMessage")
    flooded = sum(1 for c in sends if c.error_code == 429)
    delivered = sum(1 for c in sends if c.error_code is None and int(c.params.get("chat_id", 0)) in travellers)
    assert delivered == CROWD  # every 429 was retried to a delivery, none delivered twice
    # Telegram's limit alone needs CROWD / 30 = 10 s; report what it took (the issue asks for the number).
    print(f"\n{CROWD} travellers told in {elapsed:.1f} s ({CROWD / elapsed:.1f} chat messages/s, limit 30/s); "
          f"{flooded} 429 answer(s), all retried")
    assert elapsed >= CROWD / 30 * 0.9  # the limit was really in force
