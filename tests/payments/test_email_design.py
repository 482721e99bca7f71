"""The e-mails as a traveller reads them: confirmation (one way, a return trip with a connection, demo), the
payment link with its absolute deadline, the cancellation with a refund — HTML and plain text alike."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from core.formatting import money
from models.booking import Booking, BookingStatus, Leg, Passenger, PaymentState, PaymentStatus, PriceSnapshot, Segment
from models.flight import FlightSnapshot
from services import emails
from services.airports import AirportDirectory
from services.inventory.network import network_airports
from services.mailer import Email, OutboxMailer, SendGridMailer
from tests.fakes.sendgrid import FakeSendGrid

AIRPORTS = AirportDirectory(network_airports())
EXPIRES = datetime(2026, 12, 3, 14, 12, tzinfo=UTC)  # 14:12 in London (GMT in December)


def _flight(number: str, origin: str, destination: str, departs: datetime, arrives: datetime,
            cabin: str = "economy", offer: dict[str, Any] | None = None) -> FlightSnapshot:
    return FlightSnapshot(flight_id=f"{number}-{departs:%Y%m%d}", flight_number=number, origin=origin,
                          destination=destination, departs_at=departs, arrives_at=arrives, aircraft="789",
                          cabin=cabin, offer=offer)


def _booking(segments: list[Segment], names: list[str], *, demo: bool = False, status: BookingStatus =
             BookingStatus.CONFIRMED, refunded: bool = False) -> Booking:
    fare = sum(s.fare_per_passenger for s in segments)
    total = fare * len(names)
    payment = PaymentState(
        attempt=1, session_id="cs_demo_x_1" if demo else "cs_test_1", expires_ms=int(EXPIRES.timestamp() * 1000),
        payment_intent_id="pi_demo_1" if demo else "pi_1", amount_paid=0 if status == BookingStatus.PENDING else total,
        status=PaymentStatus.REFUNDED if refunded else (
            PaymentStatus.OPEN if status == BookingStatus.PENDING else PaymentStatus.PAID))
    # model_construct: Beanie refuses to build a Document before init_beanie, and nothing is saved here
    booking: Booking = Booking.model_construct(
        reference="ABC234", user_id=1, chat_id=1, status=status, segments=segments,
        passengers=[Passenger(full_name=n, birth_date=date(1990, 1, 1)) for n in names], email="ada@example.com",
        price=PriceSnapshot(currency="GBP", fare_per_passenger=fare, passengers=len(names), total=total),
        created_at=datetime(2026, 12, 3, 13, 40, tzinfo=UTC), updated_ms=0, hold_expires_ms=0, payment=payment,
        cancel_reason="cancelled at your request" if status == BookingStatus.CANCELLED else None)
    return booking


def one_way(**kw: object) -> Booking:
    seg = Segment(flight=_flight("FO101", "LHR", "JFK", datetime(2026, 12, 15, 9, 0, tzinfo=UTC),
                                 datetime(2026, 12, 15, 17, 5, tzinfo=UTC)), seats=["12A", "12B"],
                  fare_per_passenger=44350)
    return _booking([seg], ["Ada Lovelace", "<script>alert(1)</script> Babbage"], **kw)  # type: ignore[arg-type]


def return_with_connection(**kw: object) -> Booking:
    bags: dict[str, Any] = {"travelerPricings": [{"fareDetailsBySegment": [{"includedCheckedBags": {"quantity": 1}}]}]}
    out1 = Segment(flight=_flight("FO201", "LHR", "DXB", datetime(2026, 12, 15, 8, 0, tzinfo=UTC),
                                  datetime(2026, 12, 15, 15, 0, tzinfo=UTC), offer=bags), seats=["30A"],
                   fare_per_passenger=30000)
    out2 = Segment(flight=_flight("FO202", "DXB", "SYD", datetime(2026, 12, 15, 17, 15, tzinfo=UTC),
                                  datetime(2026, 12, 16, 7, 0, tzinfo=UTC), cabin="business", offer=bags),
                   seats=["3C"], fare_per_passenger=90000)
    back = Segment(flight=_flight("FO303", "SYD", "LHR", datetime(2027, 1, 5, 10, 0, tzinfo=UTC),
                                  datetime(2027, 1, 6, 2, 0, tzinfo=UTC), offer=bags), seats=["41K"],
                   fare_per_passenger=65000, leg=Leg.RETURN)
    return _booking([out1, out2, back], ["José Müller-O'Brien"], **kw)  # type: ignore[arg-type]


def _visible(html: str) -> str:
    """Roughly what a reader sees: tags gone, entities decoded, the hidden preheader removed."""
    import html as html_lib
    html = re.sub(r"<head>.*?</head>", "", html, flags=re.S)
    html = re.sub(r'<div style="display:none[^>]*>.*?</div>', "", html, flags=re.S)
    html = re.sub(r"<!--.*?-->", "", html, flags=re.S)
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def _no_classes_or_styles(html: str) -> None:
    assert "<style" not in html and "class=" not in html and "<img" not in html and "@import" not in html
    assert "<link" not in html and "http://" not in html
    for cell in re.findall(r"<td[^>]*>", html):  # dark mode: every cell says both colours
        assert "background-color:" in cell and re.search(r"[^-]color:", cell), cell


def test_one_way_confirmation_reads_well_in_html_and_text() -> None:
    subject, text, html = emails.confirmation(one_way(), AIRPORTS, bot_username="FlyOBot")
    assert subject == "FlyO booking ABC234 confirmed — LHR → JFK"
    seen = _visible(html)
    for body in (seen, text):
        for expected in ("ABC234", "London (LHR)", "New York (JFK)", "09:00", "12:05", "Tue 15 Dec 2026",
                         "local time", "Ada Lovelace", "seat 12A", "seat 12B", "FO101 LHR → JFK, £443.50 × 2",
                         "£887.00", "Total paid", "All amounts in GBP", "24 hours before", "see your airline",
                         "/cancel ABC234", "t.me/FlyOBot", "/support"):
            assert expected in body, (expected, body)
        assert "<script>alert(1)</script> Babbage" in body  # shown as typed ...
        assert "DEMO" not in body
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; Babbage" in html  # ... never run
    assert 'href="https://t.me/FlyOBot"' in html
    assert "in the FlyO chat: https://t.me/FlyOBot" in text and "t.me/FlyOBot:" not in text  # the address once
    _no_classes_or_styles(html)


def test_return_trip_with_a_connection_lists_every_flight_and_fare() -> None:
    _subject, text, html = emails.confirmation(return_with_connection(), AIRPORTS, pnr="Q7XK2L", order_id="o-1")
    for body in (_visible(html), text):
        for expected in ("Outbound:", "Return:", "FO201", "FO202", "FO303", "London → Dubai", "Dubai → Sydney",
                         "Sydney → London", "Change of plane in Dubai (DXB): 2h 15m to connect", "Business",
                         "1. José Müller-O'Brien", "FO201 30A · FO202 3C · FO303 41K",
                         "FO202 DXB → SYD, £900.00 × 1", "£1,850.00", "1 checked bag per passenger",
                         "Q7XK2L", "in the FlyO chat."):
            assert expected in body, (expected, body)
        assert "t.me/" not in body  # no bot username given: the chat is named, not linked
    assert "José Müller-O&#x27;Brien" in html
    # Dubai is UTC+4: FO201 lands at 19:00 there; Sydney UTC+11 in December: FO202 lands at 18:00
    assert "19:00" in text and "18:00" in text


def test_demo_confirmation_is_labelled_everywhere() -> None:
    subject, text, html = emails.confirmation(one_way(demo=True), AIRPORTS)
    assert subject.startswith("[DEMO] ")
    for body in (_visible(html), text):
        assert "DEMO PAYMENT" in body and "No money was taken" in body and "demo — no money was taken" in body


def test_payment_email_says_the_absolute_deadline_in_the_origins_time() -> None:
    booking = one_way(status=BookingStatus.PENDING)
    relative = "within 30 minutes (by 14:12 London time)"
    subject, text, html = emails.payment_link(booking, "https://checkout.stripe.com/c/pay/cs_test_1", relative,
                                              AIRPORTS, demo=False)
    assert "Pay £887.00 by 14:12 London time, 3 Dec to confirm booking ABC234." in text
    assert "Pay £887.00 by 14:12 London time, 3 Dec to confirm booking ABC234." in _visible(html)
    assert "by within" not in text and "by within" not in html
    assert 'href="https://checkout.stripe.com/c/pay/cs_test_1"' in html and "Total to pay" in text
    assert text.count("https://checkout.stripe.com/c/pay/cs_test_1") == 1  # the button's line; no fallback twice
    assert "ABC234" in subject
    # no expiry known at all: the relative wording, still without "by within"
    booking.payment = PaymentState()
    _s, text, _h = emails.payment_link(booking, "https://x.test/pay", relative, AIRPORTS, demo=True)
    assert "Pay £887.00 within 30 minutes (by 14:12 London time) to confirm" in text and "DEMO MODE" in text


def test_cancellation_with_a_refund_uses_the_same_layout() -> None:
    booking = return_with_connection(status=BookingStatus.CANCELLED, refunded=True)
    note = "We refunded £1,850.00 to your card."
    subject, text, html = emails.cancellation(booking, AIRPORTS, note, bot_username="@FlyOBot")
    assert subject == "FlyO booking ABC234 cancelled"
    for body in (_visible(html), text):
        for expected in ("Your booking is cancelled", "ABC234", "cancelled at your request", note,
                         "Cancelled flights", "FO303", "5–10 days", "/search", "t.me/FlyOBot"):
            assert expected in body, (expected, body)
    _no_classes_or_styles(html)


@pytest.mark.parametrize("username", ["", "x", "evil.com/phish", "a b", "<b>bot</b>"])
def test_a_bot_username_that_is_not_one_is_never_linked(username: str) -> None:
    _s, text, html = emails.confirmation(one_way(), AIRPORTS, bot_username=username)
    assert "t.me/" not in text and "t.me/" not in html and "in the FlyO chat." in text


def test_a_very_long_passenger_name_and_reference_text_stay_escaped() -> None:
    booking = one_way()
    booking.passengers[0] = Passenger(full_name='"><img src=x onerror=alert(1)>' * 40, birth_date=date(1990, 1, 1))
    _s, text, html = emails.confirmation(booking, AIRPORTS)
    assert "<img" not in html and "onerror=alert(1)>" in text


async def test_outbox_mail_is_from_the_configured_sender_name(tmp_path: Path) -> None:
    for sender, name, expected in (("", "FlyO Travel", "FlyO Travel <no-reply@flyo.local>"),
                                   ("tickets@flyo.test", "FlyO", "FlyO <tickets@flyo.test>"),
                                   ("Acme Air <tickets@acme.test>", "FlyO", "Acme Air <tickets@acme.test>")):
        mailer = OutboxMailer(tmp_path / name, sender, name=name)
        path = await mailer.send(Email("k1", "ada@example.com", "Hi", "text", "<p>html</p>"))
        message = message_from_bytes(await asyncio.to_thread(Path(path).read_bytes), policy=policy.default)
        assert isinstance(message, EmailMessage) and str(message["From"]) == expected


async def test_sendgrid_mail_is_from_the_sender_name() -> None:
    async with FakeSendGrid() as sendgrid:
        for sender, name, expected in (("tickets@flyo.test", "FlyO Travel", ("tickets@flyo.test", "FlyO Travel")),
                                       ("Acme <tickets@acme.test>", "FlyO", ("tickets@acme.test", "Acme"))):
            mailer = SendGridMailer("SG.flyo-test", sendgrid.url, sender, timeout=5, name=name)
            try:
                await mailer.send(Email(f"k-{name}", "ada@example.com", "Hi", "text", "<p>html</p>"))
            finally:
                await mailer.close()
            assert (sendgrid.messages[-1].from_email, sendgrid.messages[-1].from_name) == expected


def test_money_in_the_fixture_is_what_the_mail_says() -> None:
    assert money(88700, "GBP") == "£887.00"
