"""Review: the whole booking on one screen; confirm creates the PENDING booking and the payment step."""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardMarkup

from core.errors import BookingClosed, LimitReached, SeatUnavailable
from core.i18n import N_, _
from handlers.render import cabin_name, day_shift, esc, local_datetime, local_time, money
from handlers.turn import Turn
from models.booking import Booking, Passenger
from models.conversation import Draft, Person, Step
from models.flight import Flight
from services.bookings import NewBooking
from services.flights import PriceCheck
from services.seats import chat_holder

FLIGHT_GONE = N_("This flight is no longer available. Please search again with /search.")


def _chosen(d: Draft) -> tuple[str, str, int, int, str]:
    """Flight id, cabin, passengers, fare per passenger and currency of a draft ready for review."""
    if d.flight_id is None or d.cabin is None or d.pax is None or d.fare is None or d.currency is None:
        raise ValueError("the draft is not ready for review")
    return d.flight_id, d.cabin, d.pax, d.fare, d.currency


async def show_review(turn: Turn) -> None:
    d = turn.draft
    flight_id, cabin, pax, fare, currency = _chosen(d)
    flight = await turn.svc.flights.get(flight_id)
    if flight is None:
        turn.say(_(FLIGHT_GONE))
        turn.conv.step = Step.IDLE
        return
    check = await check_price(turn, flight)
    if check is None:
        return
    origin, dest = turn.svc.airports.get(flight.origin), turn.svc.airports.get(flight.destination)
    otz, dtz = (origin.tz if origin else "UTC"), (dest.tz if dest else "UTC")
    lines = [
        _("🧾 <b>Please review your booking</b>"),
        f"<b>{flight.flight_number}</b> {esc(origin.city if origin else flight.origin)} ({flight.origin}) → "
        f"{esc(dest.city if dest else flight.destination)} ({flight.destination})",
        _("Departs {when} local time").format(when=local_datetime(flight.departs_at, otz)),
        _("Arrives {when} local time").format(when=local_time(flight.arrives_at, dtz, '%a %d %b, %H:%M')
                                              + day_shift(flight.departs_at, otz, flight.arrives_at, dtz)),
        _("{cabin} · seats {seats}").format(cabin=cabin_name(cabin), seats=", ".join(s or "—" for s in d.seats)),
        "",
    ]
    for i, person in enumerate(d.people):
        extra = []
        if person.email:
            extra.append(esc(person.email))
        if person.phone:
            extra.append(esc(person.phone))
        if person.doc:
            extra.append(_("doc …{last_digits}").format(last_digits=esc(person.doc[-3:])))
        lines.append(_("{number}. {name}, born {born} · seat {seat}").format(
            number=i + 1, name=esc(person.name), born=person.dob, seat=d.seats[i])
                     + (f" · {' · '.join(extra)}" if extra else ""))
    lines += ["", _("Fare {fare} × {count} = <b>{total}</b> ({currency}, taxes included)").format(
        fare=money(fare, currency), count=pax, total=money(fare * pax, currency), currency=currency)]
    if check.note:
        lines.append(f"⚠️ {esc(check.note)}")
    buttons = [[turn.button(_("✅ Confirm and pay"), "rv", "ok")]]
    buttons += [[turn.button(_("✏️ Edit passenger {number}").format(number=i + 1), "rv", f"e{i}")]
                for i in range(pax)]
    buttons.append([turn.button(_("💺 Change seats"), "rv", "seats"), turn.button(_("🔁 Start over"), "rv", "new")])
    turn.say("\n".join(lines), InlineKeyboardMarkup(buttons))


async def check_price(turn: Turn, flight: Flight) -> PriceCheck | None:
    """Price the flight again; if the fare moved, ask for consent (old → new) and return None."""
    d = turn.draft
    _flight_id, cabin, pax, fare, currency = _chosen(d)
    check = await turn.svc.flights.reprice(flight, pax, cabin, seen=fare, seen_currency=currency)
    if not check.changed:
        d.new_fare = None
        return check
    d.new_fare, d.new_currency = check.new, check.currency
    old, new = money(check.old, currency), money(check.new, check.currency)
    if check.passengers > 1:
        changed = _("⚠️ <b>Price changed: {old} → {new}</b> per passenger ({old_total} → {new_total} for "
                    "{count}).").format(old=old, new=new, old_total=money(check.old_total, currency),
                                        new_total=money(check.new_total, check.currency), count=check.passengers)
    else:
        changed = _("⚠️ <b>Price changed: {old} → {new}</b>.").format(old=old, new=new)
    turn.say(changed + "\n" + _("The fare of {flight} moved since your search. Accept the new price to continue, or "
                                "go back to the flights.").format(flight=esc(flight.flight_number)),
             InlineKeyboardMarkup([[turn.button(_("✅ Accept new price"), "agree", "ok")],
                                   [turn.button(_("◀ Back to flights"), "agree", "back")]]))
    return None


async def on_agree(turn: Turn, arg: str) -> None:
    """The traveller's answer to a price change: the new fare goes into the draft only on consent."""
    d = turn.draft
    if arg == "ok" and d.new_fare is not None:
        d.fare, d.currency = d.new_fare, d.new_currency or d.currency
        d.new_fare = d.new_currency = None
        turn.notice = _("New price accepted.")
        turn.goto(Step.REVIEW)
    elif arg == "back":
        d.new_fare = d.new_currency = None
        turn.goto(Step.RESULTS)
    else:
        turn.goto(Step.REVIEW)


async def on_review(turn: Turn, arg: str) -> None:
    if arg == "ok":
        await confirm(turn)
    elif arg.startswith("e") and arg[1:].isdigit() and int(arg[1:]) < (turn.draft.pax or 0):
        turn.draft.people[int(arg[1:])] = Person()  # only this passenger is asked again; the others stay
        turn.goto(Step.PAX)
    elif arg == "seats":
        turn.goto(Step.SEATS)
    elif arg == "new":
        await turn.start_over()


async def confirm(turn: Turn) -> None:
    """Create the PENDING booking from the draft; the seats' holds move to it until the payment deadline."""
    d = turn.draft
    flight_id, cabin, _pax, fare, _currency = _chosen(d)
    draft_key = f"{turn.chat_id}:{turn.conv.flow}"
    made = await turn.svc.bookings.for_draft(draft_key)
    if made is not None:  # this step ran before (a replica's replay, a double tap): no second booking
        await _booked(turn, made)
        return
    flight = await turn.svc.flights.get(flight_id)
    if flight is None:
        turn.say(_(FLIGHT_GONE))
        return
    try:
        turn.svc.bookings.check_bookable(flight.flight_number, flight.departs_at)
    except BookingClosed as exc:
        turn.say(f"😕 {esc(exc)} " + _("Send /search to find another flight."))
        return
    if await check_price(turn, flight) is None:  # moved since the summary was shown: ask again
        return
    holder = chat_holder(turn.chat_id)
    seats = [s for s in d.seats if s]
    if len(seats) != len(d.seats):
        raise ValueError("the draft has unpicked seats")
    for seat in seats:  # a hold may have lapsed while the traveller typed; retake it if still free
        try:
            await turn.svc.seats.hold(str(flight.id), seat, holder, cabin)
        except SeatUnavailable as exc:
            d.seats = [None if s == exc.seat else s for s in d.seats]
            turn.say(f"😕 {esc(exc)} " + _("Your other picks are still held; please choose a replacement."))
            turn.goto(Step.SEATS)
            return
    people = [
        Passenger(full_name=p.name or "", birth_date=date.fromisoformat(p.dob or ""), email=p.email,
                  phone=p.phone, document_number=p.doc)
        for p in d.people
    ]
    new = NewBooking(user_id=turn.user_id, chat_id=turn.chat_id, flight=flight, cabin=cabin,
                     seats=seats, passengers=people, email=people[0].email or "",
                     fare_per_passenger=fare, draft_key=draft_key)
    try:
        booking = await turn.svc.bookings.create(new, holder)
    except (BookingClosed, LimitReached) as exc:
        turn.say(f"😕 {esc(exc)}")
        return
    except SeatUnavailable as exc:
        d.seats = [None if s == exc.seat else s for s in d.seats]
        turn.say(f"😕 {esc(exc)} " + _("Please choose a replacement."))
        turn.goto(Step.SEATS)
        return
    await _booked(turn, booking)


async def _booked(turn: Turn, booking: Booking) -> None:
    """Hand over to the payment step (handlers.payment), which sends the Stripe Checkout link."""
    turn.restart(Step.BOOKED)
    turn.draft.booking_id = str(booking.id)
    turn.goto(Step.BOOKED)
