"""Review: the whole booking on one screen; confirm creates the PENDING booking and the payment step."""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardMarkup

from core.errors import BookingClosed, LimitReached, SeatUnavailable
from core.i18n import N_, _, ngettext, translate
from handlers.render import cabin_name, duration, esc, local_datetime, local_time, money
from handlers.turn import Turn
from models.booking import Booking, Passenger
from models.conversation import Draft, Person, Pick, Step
from models.flight import Flight
from services.bookings import NewBooking, NewSegment
from services.fare_rules import conditions_for_picks
from services.infants import infant_fare, party_price
from services.itinerary_texts import way_name
from services.passengers import fields_for, format_phone
from services.seats import chat_holder
from services.through_fares import through_fares
from services.travellers import SavedBefore

FLIGHT_GONE = N_("This flight is no longer available. Please search again with /search.")


def _ready(d: Draft) -> int:
    """The passenger count of a draft ready for review (every flight chosen, every seat picked)."""
    if d.pax is None or not d.picks or len({p.leg for p in d.picks}) != d.legs_wanted():
        raise ValueError("the draft is not ready for review")
    return d.pax


async def _flights(turn: Turn) -> list[Flight] | None:
    """The picked flights as they are now, in pick order; None (and said) when one is gone."""
    found = [await turn.svc.flights.get(p.flight_id) for p in turn.draft.picks]
    flights = [f for f in found if f is not None]
    if len(flights) != len(found):
        turn.say(_(FLIGHT_GONE))
        turn.conv.step = Step.IDLE
        return None
    return flights


async def show_review(turn: Turn) -> None:
    d = turn.draft
    pax = _ready(d)
    d.editing, d.old_answer = False, None
    flights = await _flights(turn)
    if flights is None:
        return
    notes = await check_price(turn, flights)
    if notes is None:
        return
    currency = d.currency()
    lines = [_("🧾 <b>Please review your booking</b>")]
    for leg in sorted({p.leg for p in d.picks}):
        if d.is_return:
            lines += ["", f"<b>{way_name(leg, 2)}</b> · "
                      + _("{fare} per passenger").format(fare=money(sum(p.fare for p in d.picks_of(leg)), currency))]
        previous: Flight | None = None
        for pick, flight in zip(d.picks, flights, strict=True):
            if pick.leg != leg:
                continue
            if previous is not None:  # a connection: the change of planes between two flights of one way
                airport = turn.svc.airports.get(flight.origin)
                wait = int((flight.departs_at - previous.arrives_at).total_seconds() // 60)
                lines.append("⏱ " + _("{wait} in {city}").format(
                    wait=duration(wait), city=esc(airport.city if airport else flight.origin)))
            lines += _flight_lines(turn, flight, pick)
            previous = flight
    lines.append("")
    for i, person in enumerate(d.people[:pax]):
        extra = []
        if person.email:
            extra.append(esc(person.email))
        if person.phone:
            extra.append(esc(format_phone(person.phone)))
        if person.doc:
            extra.append(_("doc …{last_digits}").format(last_digits=esc(person.doc[-3:])))
        if person.on_lap:
            seat = _("👶 infant on a lap, no seat")
        elif len(d.picks) == 1:
            seat = _("seat {seat}").format(seat=_seat_of(d, d.picks[0], i))
        else:  # "seats FO280 10A · FO281 12C": which seat on which flight
            seat = _("seats {seats}").format(seats=" · ".join(
                f"{p.flight_number} {_seat_of(d, p, i)}" for p in d.picks))
        lines.append(_("{number}. {name}, born {born}").format(number=i + 1, name=esc(person.name), born=person.dob)
                     + f" · {seat}" + (f" · {' · '.join(extra)}" if extra else ""))
    lines += ["", _fare_line(turn, d.fare_per_passenger(), [p.fare for p in d.picks])]
    lines += [f"📋 {esc(text)}" for text in conditions_for_picks(d.picks, flights)]  # what a cancellation refunds
    lines += [f"⚠️ {esc(note)}" for note in notes]
    buttons = [[turn.button(_("✅ Confirm and pay"), "rv", "ok")]]
    buttons += [[turn.button(_("✏️ Edit passenger {number}").format(number=i + 1), "rv", f"e{i}")]
                for i in range(pax)]
    buttons.append([turn.button(_("💺 Change seats"), "rv", "seats"), turn.button(_("🔁 Start over"), "rv", "new")])
    turn.say("\n".join(lines), InlineKeyboardMarkup(buttons))


def _seat_of(d: Draft, pick: Pick, passenger: int) -> str:
    where = d.seat_index(passenger)
    return (pick.seats[where] if where < len(pick.seats) else None) or "—"


def _total(turn: Turn, fares: list[int]) -> int:
    """The draft's price with these fares per flight: lap infants at the infant fare (services.infants)."""
    d, percent = turn.draft, turn.svc.settings.INFANT_FARE_PERCENT
    return sum(party_price(fare, infant_fare(fare, percent), d.seated(), d.lap_infants()) for fare in fares)


def _fare_line(turn: Turn, fare: int, fares: list[int]) -> str:
    d = turn.draft
    currency, infants = d.currency(), d.lap_infants()
    total = money(_total(turn, fares), currency)
    if not infants:
        return _("Fare {fare} × {count} = <b>{total}</b> ({currency}, taxes included)").format(
            fare=money(fare, currency), count=d.seated(), total=total, currency=currency)
    lap = sum(infant_fare(f, turn.svc.settings.INFANT_FARE_PERCENT) for f in fares)
    return _("Fare {fare} × {count} + infant on a lap {lap} × {infants} = <b>{total}</b> ({currency}, taxes "
             "included)").format(fare=money(fare, currency), count=d.seated(), lap=money(lap, currency),
                                 infants=infants, total=total, currency=currency)


def _flight_lines(turn: Turn, flight: Flight, pick: Pick) -> list[str]:
    origin, dest = turn.svc.airports.get(flight.origin), turn.svc.airports.get(flight.destination)
    otz, dtz = (origin.tz if origin else "UTC"), (dest.tz if dest else "UTC")
    return [
        f"<b>{flight.flight_number}</b> {esc(origin.city if origin else flight.origin)} ({flight.origin}) → "
        f"{esc(dest.city if dest else flight.destination)} ({flight.destination})",
        _("Departs {when} local time").format(when=local_datetime(flight.departs_at, otz)),
        _("Arrives {when} local time").format(when=local_time(flight.arrives_at, dtz, '%a %d %b, %H:%M')),
        f"{cabin_name(pick.cabin)} · " + ngettext("seat {seats}", "seats {seats}", len(pick.seats)).format(
            seats=", ".join(s or "—" for s in pick.seats)),  # seated passengers only: lap infants have none
    ]


async def check_price(turn: Turn, flights: list[Flight]) -> list[str] | None:
    """Price every flight again; if the itinerary's fare moved, ask for consent (old → new) and return None.
    Otherwise the notes to show (a live price that could not be confirmed)."""
    d = turn.draft
    pax = _ready(d)
    notes: list[str] = []
    for pick, flight in zip(d.picks, flights, strict=True):
        check = await turn.svc.flights.reprice(flight, pax, pick.cabin)  # a new live fare lands on `flight`
        if check.note:
            notes.append(check.note)
    new_fares: list[int] = []
    # One flight may come back in another currency (a live fare); an itinerary stays in the one it was shown in.
    new_currency: str | None = None if len(d.picks) == 1 else d.currency()
    for leg in sorted({p.leg for p in d.picks}):
        of_leg = [(p, f) for p, f in zip(d.picks, flights, strict=True) if p.leg == leg]
        priced = through_fares([f for _p, f in of_leg], of_leg[0][0].cabin, new_currency)
        if priced is None or len({p.cabin for p, _f in of_leg}) != 1:
            turn.say(_(FLIGHT_GONE))
            turn.conv.step = Step.IDLE
            return None
        new_currency = priced[0]
        new_fares += priced[1]
    old, currency = [p.fare for p in d.picks], d.currency()
    if new_fares == old and new_currency == currency:
        d.new_fares = None
        return notes
    d.new_fares, d.new_currency = new_fares, new_currency
    old_fare, new_fare = money(sum(old), currency), money(sum(new_fares), new_currency or currency)
    if pax > 1:
        changed = _("⚠️ <b>Price changed: {old} → {new}</b> per passenger ({old_total} → {new_total} for "
                    "{count}).").format(old=old_fare, new=new_fare, old_total=money(_total(turn, old), currency),
                                        new_total=money(_total(turn, new_fares), new_currency or currency),
                                        count=pax)
    else:
        changed = _("⚠️ <b>Price changed: {old} → {new}</b>.").format(old=old_fare, new=new_fare)
    moved = [f.flight_number for p, f, n in zip(d.picks, flights, new_fares, strict=True) if p.fare != n]
    turn.say(changed + "\n" + _("The fare of {flight} moved since your search. Accept the new price to continue, or "
                                "go back to the flights.").format(flight=esc(", ".join(moved))),
             InlineKeyboardMarkup([[turn.button(_("✅ Accept new price"), "agree", "ok")],
                                   [turn.button(_("◀ Back to flights"), "agree", "back")]]))
    return None


async def on_agree(turn: Turn, arg: str) -> None:
    """The traveller's answer to a price change: the new fares go into the draft only on consent."""
    d = turn.draft
    if arg == "ok" and d.new_fares is not None and len(d.new_fares) == len(d.picks):
        for pick, fare in zip(d.picks, d.new_fares, strict=True):
            pick.fare, pick.currency = fare, d.new_currency or pick.currency
        d.new_fares = d.new_currency = None
        turn.notice = _("New price accepted.")
        turn.goto(Step.REVIEW)
    elif arg == "back":
        d.new_fares = d.new_currency = None
        d.leg, d.page = 0, 0
        turn.goto(Step.RESULTS)
    else:
        turn.goto(Step.REVIEW)


async def on_review(turn: Turn, arg: str) -> None:
    if arg == "ok":
        await confirm(turn)
    elif arg.startswith("e") and arg[1:].isdigit() and int(arg[1:]) < len(turn.draft.people):
        _choose_field(turn, int(arg[1:]))
    elif arg.startswith("f") and arg[1:-1].isdigit() and int(arg[1:-1]) < len(turn.draft.people) \
            and arg[-1:] in FIELD_CODES and FIELD_CODES[arg[-1]] in fields_for(int(arg[1:-1])):
        _ask_again(turn, int(arg[1:-1]), FIELD_CODES[arg[-1]])
    elif arg == "back":
        turn.goto(Step.REVIEW)
    elif arg == "seats":
        turn.draft.seg, turn.draft.seat_page = 0, 0
        turn.goto(Step.SEATS)
    elif arg == "new":
        await turn.start_over()


FIELD_CODES = {"n": "name", "d": "dob", "e": "email", "p": "phone", "x": "doc"}
FIELD_NAMES = {"name": N_("Name"), "dob": N_("Date of birth"), "email": N_("E-mail"), "phone": N_("Phone"),
               "doc": N_("Passport or ID")}


def _shown(person: Person, field: str) -> str:
    value = getattr(person, field)
    if not value:
        return _("(none)")
    return format_phone(value) if field == "phone" else str(value)


def _choose_field(turn: Turn, index: int) -> None:
    """"✏️ Edit passenger N": which detail — each with its current value; only that one is asked again."""
    person = turn.draft.people[index]
    fields = fields_for(index)
    lines = [_("✏️ <b>Passenger {number}</b>: which detail should change?").format(number=index + 1)]
    lines += [f"{translate(FIELD_NAMES[f])}: {esc(_shown(person, f))}" for f in fields]
    codes = {v: k for k, v in FIELD_CODES.items()}
    buttons = [[turn.button(translate(FIELD_NAMES[f]), "rv", f"f{index}{codes[f]}")] for f in fields]
    buttons.append([turn.button(_("◀ Back to the review"), "rv", "back")])
    turn.say("\n".join(lines), InlineKeyboardMarkup(buttons))


def _ask_again(turn: Turn, index: int, field: str) -> None:
    """Forget one answer (the others stay) and ask it again, offering to keep what it was."""
    turn.draft.ask_again(index, field)
    turn.goto(Step.PAX)


async def confirm(turn: Turn) -> None:
    """Create the PENDING booking from the draft; the seats' holds move to it until the payment deadline."""
    d = turn.draft
    _ready(d)
    draft_key = f"{turn.chat_id}:{turn.conv.flow}"
    flights = await _flights(turn)
    if flights is None:
        return
    try:
        for flight in flights:
            turn.svc.bookings.check_bookable(flight.flight_number, flight.departs_at)
    except BookingClosed as exc:
        turn.say(f"😕 {esc(exc)} " + _("Send /search to find another flight."))
        return
    if await check_price(turn, flights) is None:  # moved since the summary was shown: ask again
        return
    holder = chat_holder(turn.chat_id)
    if not all(all(p.seats) for p in d.picks):
        raise ValueError("the draft has unpicked seats")
    people = [
        Passenger(full_name=p.name or "", birth_date=date.fromisoformat(p.dob or ""), email=p.email,
                  phone=p.phone, document_number=p.doc, on_lap=bool(p.on_lap))
        for p in d.people
    ]
    percent = turn.svc.settings.INFANT_FARE_PERCENT
    segments = [NewSegment(flight=f, cabin=p.cabin, seats=[s or "" for s in p.seats], fare_per_passenger=p.fare,
                           leg=p.leg, infant_fare=infant_fare(p.fare, percent) if d.lap_infants() else 0)
                for p, f in zip(d.picks, flights, strict=True)]
    new = NewBooking(user_id=turn.user_id, chat_id=turn.chat_id, segments=segments, passengers=people,
                     email=people[0].email or "", draft_key=draft_key, currency=d.currency())
    try:
        # This step run before (a double tap, a turn whose save was lost) finds its booking by the draft key;
        # a seat hold that lapsed while the traveller typed is taken again if still free (BookingService.create).
        booking, made = await turn.svc.bookings.create_once(new, holder)
    except (BookingClosed, LimitReached) as exc:
        turn.say(f"😕 {esc(exc)}")
        return
    except SeatUnavailable as exc:
        index = next((i for i, p in enumerate(d.picks) if p.flight_id == exc.flight_id), 0)
        _lost(turn, index, exc.seat)
        turn.say(f"😕 {esc(exc)} " + _("Please choose a replacement."))
        return
    if made:
        await _remember(turn, people)
    await _booked(turn, booking)


async def _remember(turn: Turn, people: list[Passenger]) -> None:
    """Save the travellers for the next booking (services.travellers); the first time, say so and where to
    manage them."""
    travellers = turn.svc.travellers
    if travellers is None:
        return
    d = turn.draft
    known = SavedBefore(d.saved_count, d.saved_self) if d.saved_count is not None else None
    if await travellers.remember(turn.user_id, people, people[0].email, people[0].phone, known=known):  # 1st time
        turn.say(_("💾 Saved for next time: {names}. See, change or delete them with /profile.").format(
            names=esc(", ".join(p.full_name for p in people))))


def _lost(turn: Turn, index: int, seat: str) -> None:
    """A seat of the `index`-th flight was taken: pick a replacement on that flight's map."""
    d = turn.draft
    pick = d.picks[index]
    pick.seats = [None if s == seat else s for s in pick.seats]
    d.seg, d.seat_page = index, 0
    turn.goto(Step.SEATS)


async def _booked(turn: Turn, booking: Booking) -> None:
    """Hand over to the payment step (handlers.payment), which sends the Stripe Checkout link."""
    turn.restart(Step.BOOKED)
    turn.draft.booking_id = str(booking.id)
    turn.booking = booking
    turn.goto(Step.BOOKED)
