"""The e-mails a traveller gets — confirmation, payment link, cancellation — as (subject, plain text, HTML).

Each e-mail is a list of blocks (services.email_layout) rendered twice, so the plain-text alternative says
everything the HTML does. Times are the airports' local times with city names; money is the booking's currency.
`bot_username`, when the caller knows it, turns "in the FlyO chat" into a https://t.me/<bot> link.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_skeleton

from core.clock import from_ms
from core.formatting import cabin_name, duration, local_date, local_time
from core.i18n import N_, _, current_locale, ngettext
from models.booking import Booking, Segment
from services import email_layout as layout
from services import itinerary_texts
from services.airports import AirportDirectory
from services.email_layout import Banner, Block, Bullets, Button, Flight, Heading, Paragraph, Reference, Rows
from services.fare_rules import conditions_for_booking
from services.money import money
from services.payment_texts import is_demo_payment
from services.providers.amadeus_parse import checked_bags

DEMO_PAID_EMAIL = N_("DEMO PAYMENT: this booking was paid in FlyO's terminal-chat demo, without Stripe. "
                     "No money was taken.")
_BOT_NAME = re.compile(r"[A-Za-z0-9_]{3,64}")

Mail = tuple[str, str, str]


def _tz(code: str, airports: AirportDirectory) -> str:
    return airports.tz(code)


def _city(code: str, airports: AirportDirectory) -> str:
    return airports.city(code)


def _place(code: str, airports: AirportDirectory) -> str:
    return _("{city} ({code})").format(city=_city(code, airports), code=code)


def _short_day(moment: datetime, tz: str) -> str:
    """"3 Dec" at the airport (the locale's own order elsewhere)."""
    locale = current_locale()
    if locale.split("_")[0].split("-")[0] == "en":
        return str(format_datetime(moment, "d MMM", tzinfo=ZoneInfo(tz), locale=locale))
    return str(format_skeleton("MMMd", moment, tzinfo=ZoneInfo(tz), locale=locale))


def absolute_deadline(expires_ms: int, booking: Booking, airports: AirportDirectory) -> str:
    """"14:12 London time, 3 Dec": the payment deadline on the origin airport's clock."""
    code = booking.first_flight.origin
    moment, tz = from_ms(expires_ms), _tz(code, airports)
    return _("{clock} {city} time, {day}").format(clock=local_time(moment, tz), city=_city(code, airports),
                                                  day=_short_day(moment, tz))


def _chat(bot_username: str | None) -> tuple[str, tuple[str, str] | None]:
    """Where to write to FlyO: ("in the FlyO chat", link to it when the bot's username is known)."""
    name = (bot_username or "").lstrip("@")
    if _BOT_NAME.fullmatch(name):
        return _("in the FlyO chat:"), (f"t.me/{name}", f"https://t.me/{name}")
    return _("in the FlyO chat."), None


def _flights(booking: Booking, airports: AirportDirectory, heading: str = "") -> list[Block]:
    ways = booking.legs()
    blocks: list[Block] = [Heading(heading or ngettext("Your flight", "Your flights", len(booking.segments)))]
    for leg, segments in enumerate(ways):
        if len(ways) > 1:
            blocks.append(Paragraph(itinerary_texts.way_name(leg, len(ways)) + ":"))
        for i, segment in enumerate(segments):
            f = segment.flight
            note = ""
            if i + 1 < len(segments):
                wait = int((segments[i + 1].flight.departs_at - f.arrives_at).total_seconds() // 60)
                note = _("Change of plane in {place}: {wait} to connect").format(
                    place=_place(f.destination, airports), wait=duration(wait))
            dep_tz, arr_tz = _tz(f.origin, airports), _tz(f.destination, airports)
            blocks.append(Flight(
                title=_("{flight} · {origin_city} → {destination_city} · {cabin}").format(
                    flight=f.flight_number, origin_city=_city(f.origin, airports),
                    destination_city=_city(f.destination, airports), cabin=cabin_name(f.cabin)),
                depart_label=_("Departs (local time)"), depart_time=local_time(f.departs_at, dep_tz),
                depart_day=local_date(f.departs_at.astimezone(ZoneInfo(dep_tz)).date()),
                depart_place=_place(f.origin, airports),
                arrive_label=_("Arrives (local time)"), arrive_time=local_time(f.arrives_at, arr_tz),
                arrive_day=local_date(f.arrives_at.astimezone(ZoneInfo(arr_tz)).date()),
                arrive_place=_place(f.destination, airports), note=note))
    return blocks


def _seat(booking: Booking, segment: Segment, number: int) -> str:
    return booking.seat_of(segment, number) or _("no seat")


def _passengers(booking: Booking) -> list[Block]:
    rows = []
    for number, person in enumerate(booking.passengers):
        if person.on_lap:
            seats = _("infant on a lap, no seat")
        elif len(booking.segments) == 1:
            seats = _("seat {seat}").format(seat=_seat(booking, booking.segments[0], number))
        else:
            seats = " · ".join(f"{s.flight.flight_number} {_seat(booking, s, number)}" for s in booking.segments)
        rows.append((f"{number + 1}. {person.full_name}", seats))
    return [Heading(ngettext("Passenger", "Passengers", len(rows))), Rows(rows, wrap=True)]


def _fares(booking: Booking, total_label: str, total: int) -> list[Block]:
    currency, infants = booking.price.currency, booking.price.infants
    seated = len(booking.passengers) - infants
    rows = []
    for s in booking.segments:
        rows.append((_("{flight} {origin} → {destination}, {fare} × {count}").format(
            flight=s.flight.flight_number, origin=s.flight.origin, destination=s.flight.destination,
            fare=money(s.fare_per_passenger, currency), count=seated), money(s.fare_per_passenger * seated, currency)))
        if infants:
            rows.append((_("{flight} infant on a lap, {fare} × {count}").format(
                flight=s.flight.flight_number, fare=money(s.infant_fare, currency), count=infants),
                money(s.infant_fare * infants, currency)))
    return [Heading(_("Fare")), Rows(rows, (total_label, money(total, currency)),
                                     _("All amounts in {currency}.").format(currency=currency))]


def _bags(booking: Booking) -> str:
    known = []
    for s in booking.segments:
        bags = getattr(s.flight, "checked_bags", None)
        if bags is None and s.flight.offer:
            bags = checked_bags(s.flight.offer)
        if bags is None:
            return _("Baggage allowance: see your airline's website for this fare.")
        known.append(bags)
    if len(set(known)) == 1:
        return ngettext("Baggage: {count} checked bag per passenger is included.",
                        "Baggage: {count} checked bags per passenger are included.", known[0]).format(
            count=known[0]) if known[0] else _("Baggage: no checked bag is included in this fare.")
    return _("Baggage allowance differs between your flights: see your airline's website.")


def _support(bot_username: str | None) -> Paragraph:
    where, link = _chat(bot_username)
    return Paragraph(_("Questions? Send /support with your booking reference {where}").format(where=where), link,
                     small=True)


def _footer() -> str:
    return _("FlyO — flight bookings in Telegram. You get this e-mail because a booking was made with this address.")


def _mail(subject: str, title: str, preheader: str, blocks: list[Block]) -> Mail:
    footer = _footer()
    lang = current_locale().replace("_", "-")
    return (subject, layout.render_text(title, blocks, footer),
            layout.render_html(subject, title, preheader, blocks, footer, lang))


def confirmation(booking: Booking, airports: AirportDirectory, *, pnr: str | None = None,
                 order_id: str | None = None, bot_username: str | None = None, leads: tuple[str, ...] = ()) -> Mail:
    """`pnr`/`order_id`: a live fare's airline booking reference and Amadeus order id, once the order exists.
    `leads`: paragraphs said first, in the text and the HTML alike (a reminder's "Your flight departs…", a seat
    change)."""
    demo = is_demo_payment(booking)
    route = itinerary_texts.route(booking)
    subject = _("FlyO booking {reference} confirmed — {route}").format(reference=booking.reference, route=route)
    if demo:
        subject = _("[DEMO] {subject}").format(subject=subject)
    blocks: list[Block] = [Banner(_(DEMO_PAID_EMAIL))] if demo else []
    blocks.append(Reference(_("Booking reference"), booking.reference))
    blocks += [Paragraph(lead) for lead in leads if lead]
    if pnr:
        blocks.append(Paragraph(_("Airline booking reference (PNR): {pnr} (order {order_id})").format(
            pnr=pnr, order_id=order_id or "-")))
    blocks.append(Paragraph(_("Your booking {reference} is confirmed. Have a good flight!").format(
        reference=booking.reference)))
    blocks += _flights(booking, airports) + _passengers(booking)
    paid = booking.payment.amount_paid or booking.price.total
    label = _("Total paid (demo — no money was taken)") if demo else _("Total paid")
    blocks += _fares(booking, label, paid)
    blocks += [Heading(_("Fare conditions")), Bullets([Paragraph(text) for text in conditions_for_booking(booking)])]
    where, link = _chat(bot_username)
    blocks += [Heading(_("What to do next")), Bullets([
        Paragraph(_("Check in with the airline: online check-in opens 24 hours before each departure. Bring the "
                    "passport or ID each passenger booked with.")),
        Paragraph(_bags(booking)),
        Paragraph(_("To see, change or cancel this booking, send /mybookings or /cancel {reference} {where}").format(
            reference=booking.reference, where=where), link),
    ]), _support(bot_username)]
    return _mail(subject, _("Your booking is confirmed"),
                 _("Booking {reference}: {route}, paid {amount}.").format(
                     reference=booking.reference, route=route, amount=money(paid, booking.price.currency)), blocks)


def payment_link(booking: Booking, url: str, deadline: str, airports: AirportDirectory, demo: bool, *,
                 expires_ms: int | None = None, bot_username: str | None = None) -> Mail:
    """`expires_ms` (else the booking's open payment's) gives the absolute deadline; `deadline`, the chat's
    relative wording ("within 30 minutes (…)"), is only the fallback when neither is known."""
    subject = _("Pay for FlyO booking {reference}").format(reference=booking.reference)
    amount = money(booking.price.total, booking.price.currency)
    until = expires_ms or booking.payment.expires_ms
    if until:
        ask = _("Pay {amount} by {deadline} to confirm booking {reference}.").format(
            amount=amount, deadline=absolute_deadline(until, booking, airports), reference=booking.reference)
    else:
        ask = _("Pay {amount} {deadline} to confirm booking {reference}.").format(
            amount=amount, deadline=deadline, reference=booking.reference)
    blocks: list[Block] = [Banner(_("DEMO MODE: this FlyO has no Stripe key; the link opens a demo checkout, "
                                    "no money moves."))] if demo else []
    blocks += [Reference(_("Booking reference"), booking.reference),
               Paragraph(_("Your seats are held.") + " " + ask),
               Button(_("Pay {amount}").format(amount=amount), url),
               Paragraph(_("If the button does not work, open this link:"), (url, url), small=True, html_only=True)]
    blocks += _flights(booking, airports) + _passengers(booking)
    blocks += _fares(booking, _("Total to pay"), booking.price.total)
    where, link = _chat(bot_username)
    blocks += [Heading(_("What happens next")), Bullets([
        Paragraph(_("After the payment, FlyO confirms the booking in the chat and by e-mail.")),
        Paragraph(_("Unpaid by then, the seats are released. For a new link, send /mybookings {where}").format(
            where=where), link),
    ]), _support(bot_username)]
    return _mail(subject, _("Pay to confirm your booking"), ask, blocks)


def cancellation(booking: Booking, airports: AirportDirectory, refund_note: str, *,
                 bot_username: str | None = None) -> Mail:
    subject = _("FlyO booking {reference} cancelled").format(reference=booking.reference)
    said = _("Your booking {reference} has been cancelled ({reason}).").format(
        reference=booking.reference, reason=booking.cancel_reason or _("on request"))
    demo = is_demo_payment(booking)
    blocks: list[Block] = [Banner(_("DEMO: the payment was a terminal-chat demo; no money was taken, so none moves "
                                    "back."))] if demo and refund_note else []
    blocks += [Reference(_("Booking reference"), booking.reference), Paragraph(said)]
    blocks += [Paragraph(part.strip()) for part in refund_note.split("\n\n") if part.strip()]
    blocks += _flights(booking, airports, ngettext("Cancelled flight", "Cancelled flights", len(booking.segments)))
    blocks += _passengers(booking)
    where, link = _chat(bot_username)
    steps = [Paragraph(_("The seats are released; nothing more is needed from you."))]
    if refund_note and not demo:
        steps.append(Paragraph(_("Refunds take 5–10 days to appear on your card statement.")))
    steps.append(Paragraph(_("To book another flight, send /search {where}").format(where=where), link))
    blocks += [Heading(_("What happens next")), Bullets(steps), _support(bot_username)]
    return _mail(subject, _("Your booking is cancelled"), said, blocks)


def flight_change(booking: Booking, airports: AirportDirectory, subject: str, said: str, *,
                  bot_username: str | None = None) -> Mail:
    """A flight of the booking changed (delay, gate, cancellation): what happened, then the booking's flights."""
    blocks: list[Block] = [Reference(_("Booking reference"), booking.reference), Paragraph(said)]
    blocks += _flights(booking, airports) + _passengers(booking)
    where, link = _chat(bot_username)
    blocks += [Heading(_("What happens next")), Bullets([
        Paragraph(_("FlyO tells you here and in the chat of every further change.")),
        Paragraph(_("Your booking with its latest status: send /mybookings {where}").format(where=where), link),
    ]), _support(bot_username)]
    return _mail(subject, _("Your flight has changed"), said, blocks)
