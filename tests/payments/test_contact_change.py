"""/contact REF email|phone: where a booking's later messages go, changed by its traveller only."""

from __future__ import annotations

from models import Booking
from models.booking import BookingEvent
from tests.paying import PayingBot


async def test_a_traveller_changes_the_e_mail_and_phone_of_their_booking(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(17101)
    booking, _session = await paying.booked_with_link(ada)
    await ada.send(f"/contact {booking.reference} email Ada.New@Example.COM")
    done = (await ada.wait_for("e-mails now go to")).plain_text()
    assert "Ada.New@example.com" in done  # the domain is lower-cased, as the passenger question does
    await ada.send(f"/contact {booking.reference.lower()} phone +44 20 7946 0123")
    await ada.wait_for("phone now +44 20 7946 0123")
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.email == "Ada.New@example.com"
    assert stored.passengers[0].phone == "+442079460123" and stored.passengers[0].email == "Ada.New@example.com"
    assert [p.full_name for p in stored.passengers] == [p.full_name for p in booking.passengers]
    history = await BookingEvent.find(BookingEvent.booking_id == str(booking.id),
                                      BookingEvent.kind == "contact").count()
    assert history == 2


async def test_contact_changes_are_checked_and_only_for_ones_own_booking(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(17102)
    mallory = paying.telegram.traveller(17103)
    booking, _session = await paying.booked_with_link(ada)
    await ada.send(f"/contact {booking.reference} email not-an-address")
    await ada.wait_for("⚠️")
    await ada.send(f"/contact {booking.reference} phone +1 555 0100")
    await ada.wait_for("too few digits")
    await ada.send("/contact")
    await ada.wait_for("/contact REF email")
    await mallory.send(f"/contact {booking.reference} email mallory@example.com")
    await mallory.wait_for("no booking")
    await ada.send(f"/contact {booking.reference} email {'x' * 4000}@example.com")
    await ada.wait_for("⚠️")
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.email == booking.email
