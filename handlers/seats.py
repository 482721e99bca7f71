"""Seat map as an inline keyboard: one tap holds a seat atomically; tap your seat again to free it."""

from __future__ import annotations

import secrets

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.errors import BookingClosed, LimitReached, SeatUnavailable
from core.i18n import N_, _
from handlers.render import cabin_name, esc
from handlers.seat_app import seat_map_button
from handlers.trip import picked_option
from handlers.turn import Turn
from models.aircraft import CabinLayout
from models.conversation import Pick, Step
from models.flight import Flight
from services.itinerary_texts import way_name
from services.seat_choice import page_of, parse_seat, seat_pages, suggest_seats, taken_answer, where_else
from services.seats import chat_holder
from services.through_fares import through_fares

HINT = N_("Tap a seat on the map or type one like <code>12A</code> (or tap 🎲 Pick for me). For a new search, send "
          "/search.")

SCARCE_FACTOR = 3  # "Pick for me" takes all seats or none when fewer than 3× the party's are free
PICK_ATTEMPTS = 6  # rounds of "Pick for me" when other travellers take the seats it aimed at
MAX_SPREAD = 8  # after a lost round, aim at one of the first 8 free blocks, at random


async def cabin_layout(turn: Turn, flight: Flight | None, cabin: str) -> tuple[CabinLayout | None, set[str]]:
    """The cabin's layout and the seats its provider reports taken (a live flight's SeatMap Display)."""
    if flight is None:
        return None, set()
    return await turn.svc.flights.layout(flight, cabin)


def _pick(turn: Turn) -> Pick:
    """The flight whose seat map is shown (the draft's `seg`-th pick)."""
    picks = turn.draft.picks
    if not picks:
        raise ValueError("the draft has no flight yet")
    turn.draft.seg = min(max(turn.draft.seg, 0), len(picks) - 1)
    return picks[turn.draft.seg]


def _picked(turn: Turn) -> list[str | None]:
    return _pick(turn).seats


def _chosen(turn: Turn) -> tuple[str, str]:
    """The flight id and cabin of the seat map shown."""
    pick = _pick(turn)
    return pick.flight_id, pick.cabin


async def on_flight_pick(turn: Turn, arg: str) -> None:
    """A fare button in the results: remember the flight(s) and cabin, then the return's flights or the seats."""
    d = turn.draft
    option = picked_option(turn, arg)  # only an option this chat was shown: a forged id is a vanished flight
    found = [await turn.svc.flights.get(fid) for fid in option[0]] if option else []
    flights = [f for f in found if f is not None]
    cabin = next((c for c in flights[0].fares if c.startswith(option[1])), None) if flights and option else None
    outbound = d.picks_of(0) if d.leg == 1 else []
    priced = through_fares(flights, cabin, outbound[0].currency if outbound else None) if cabin else None
    if len(flights) != len(found) or cabin is None or priced is None:
        turn.say(_("That flight is no longer available. Here are the current results."))
        turn.goto(Step.RESULTS)
        return
    for flight in flights:
        if await _closed(turn, flight):
            return
    pax = d.seated()  # lap infants need no seat
    try:
        for flight in flights:
            await turn.svc.bookings.check_seat_limit(turn.user_id, str(flight.id), pax)
    except LimitReached as exc:
        turn.notice, turn.alert = str(exc), True
        turn.say(f"😕 {esc(exc)}")
        return
    for option_left in await turn.svc.flights.with_availability(flights):
        left = option_left.seats_left.get(cabin, 0)
        if left < pax:
            turn.notice = _("Only {count} {cabin} seats left on {flight}.").format(
                count=left, cabin=cabin_name(cabin), flight=option_left.flight.flight_number)
            turn.alert = True
            return
    await _release_picks(turn, d.leg)
    currency, fares = priced
    d.choose(d.leg, [Pick(flight_id=str(f.id), flight_number=f.flight_number, cabin=cabin, fare=fare,
                          currency=currency, leg=d.leg, seats=[None] * pax)
                     for f, fare in zip(flights, fares, strict=True)])
    if d.leg == 0 and d.is_return:
        d.leg, d.page = 1, 0
        turn.goto(Step.RESULTS)
        return
    # The first flight still without seats (a return chosen again keeps the outbound's seats).
    d.seg, d.seat_page = next((i for i, p in enumerate(d.picks) if not all(p.seats)), 0), 0
    turn.goto(Step.SEATS)


async def _release_picks(turn: Turn, leg: int) -> None:
    """Free the seats held for the picks of `leg` and later ways: they are being chosen again."""
    holder = chat_holder(turn.chat_id)
    if leg == 0:
        await turn.svc.seats.release_holder(holder)
        return
    for pick in turn.draft.picks:
        if pick.leg >= leg:
            for seat in pick.seats:
                if seat:
                    await turn.svc.seats.release(pick.flight_id, seat, holder)


async def on_back(turn: Turn, _arg: str) -> None:
    """◀ Back to flights: the results of the way this seat map belongs to."""
    turn.draft.leg, turn.draft.page = _pick(turn).leg, 0
    turn.goto(Step.RESULTS)


async def _closed(turn: Turn, flight: Flight | None) -> bool:
    """Departed or inside the booking cut-off: say so, go back to the results, and stop."""
    if flight is None:
        return False
    try:
        turn.svc.bookings.check_bookable(flight.flight_number, flight.departs_at)
    except BookingClosed as exc:
        turn.say(f"😕 {esc(exc)} " + _("Please pick another flight."))
        turn.goto(Step.RESULTS)
        return True
    return False


async def show_seat_map(turn: Turn) -> None:
    flight_id, cabin = _chosen(turn)
    flight = await turn.svc.flights.get(flight_id)
    layout, blocked = await cabin_layout(turn, flight, cabin)
    if flight is None or layout is None:
        turn.say(_("I can't show the seat map of this flight right now. Please pick another flight."))
        turn.conv.step = Step.RESULTS  # the results message above still has the fare buttons; no prompt
        return
    pages = seat_pages(layout)
    index = min(max(turn.draft.seat_page, 0), len(pages) - 1)
    page = pages[index]
    # One query: the map shows ✅ for the draft's seats and ✖ for every other live one, whoever holds it.
    taken = await turn.svc.seats.taken_seats(str(flight.id)) | blocked
    picked = _picked(turn)
    rows: list[list[InlineKeyboardButton]] = []
    for row in page.rows:
        line: list[InlineKeyboardButton] = [turn.button(str(row), "nop")] if page.with_row_label else []
        for g, group in enumerate(page.groups):
            if g:
                line.append(turn.button("┊", "nop"))
            for letter in group:
                code = f"{row}{letter}"
                if code in picked:
                    line.append(turn.button(f"✅{code}", "s", code))
                elif code in taken:
                    line.append(turn.button("✖", "x", code))
                else:
                    line.append(turn.button(code, "s", code))
        rows.append(line)
    nav = []
    if index > 0:
        nav.append(turn.button(_("‹ Prev"), "sp", str(index - 1)))
    nav.append(turn.button(f"{index + 1}/{len(pages)}", "nop"))
    if index < len(pages) - 1:
        nav.append(turn.button(_("Next ›"), "sp", str(index + 1)))
    rows.append(nav)
    done = sum(1 for s in picked if s)
    if (app := seat_map_button(turn)) is not None:
        rows.append([app])
    rows.append([turn.button(_("🎲 Pick for me"), "auto"),
                 turn.button(_("✅ Continue ({done}/{total})").format(done=done, total=len(picked)), "sd")])
    rows.append([turn.button(_("◀ Back to flights"), "back")])
    who = _next_passenger_text(picked)
    chosen = ", ".join(s or "—" for s in picked)
    text = (_flight_of_trip(turn) + f"<b>{flight.flight_number} {flight.origin} → {flight.destination}</b> · "
            f"{esc(page.title(cabin))}\n{who}\n"
            + _("Your seats: {seats}\n✅ yours · ✖ taken · ┊ aisle. Seats are held for {minutes} minutes "
                "once picked.").format(seats=chosen, minutes=turn.svc.settings.HOLD_MINUTES))
    turn.say(text, InlineKeyboardMarkup(rows), edit=turn.redraw)


def _flight_of_trip(turn: Turn) -> str:
    """"Flight 2 of 3 · Return\n" above the map of an itinerary with several flights; "" for one flight."""
    picks = turn.draft.picks
    if len(picks) < 2:
        return ""
    way = way_name(_pick(turn).leg, 2) if turn.draft.is_return else _("Connection")
    return _("Flight {number} of {count} · {way}").format(number=turn.draft.seg + 1, count=len(picks),
                                                          way=way) + "\n"


def _next_passenger_text(picked: list[str | None]) -> str:
    if all(picked):
        return _("All seats picked. Tap ✅ Continue, or tap one of your seats to free it.")
    index = picked.index(None)
    return _("Tap a seat for passenger {number} of {count}.").format(number=index + 1, count=len(picked))


async def on_seat(turn: Turn, code: str) -> None:
    flight_id, cabin = _chosen(turn)
    flight = await turn.svc.flights.get(flight_id)
    if await _closed(turn, flight):
        return
    layout, blocked = await cabin_layout(turn, flight, cabin)
    if layout is None or code not in layout.seat_codes():
        turn.notice = _("{seat} is not a {cabin} seat on this flight.").format(seat=code, cabin=cabin_name(cabin))
        return
    if code in blocked and code not in _picked(turn):
        turn.notice = _("{seat} is taken. Please pick a free seat.").format(seat=code)
        return
    picked = _picked(turn)
    holder = chat_holder(turn.chat_id)
    if code in picked:
        await turn.svc.seats.release(flight_id, code, holder)
        picked[picked.index(code)] = None
        turn.notice = _("{seat} released.").format(seat=code)
        turn.goto(Step.SEATS, edit=True)
        return
    if all(picked) and len(picked) > 1:
        turn.notice = _("All seats are picked. Tap one of your seats to free it first.")
        return
    try:
        await turn.svc.seats.hold(flight_id, code, holder, cabin)
    except SeatUnavailable:
        turn.notice = _("Sorry, {seat} was just taken by another traveller. Please pick another seat.").format(
            seat=code)
        turn.alert = True
        turn.goto(Step.SEATS, edit=True)
        return
    if all(picked):  # one passenger: tapping another seat moves the pick
        old = picked[0]
        if old:
            await turn.svc.seats.release(flight_id, old, holder)
        picked[0] = code
    else:
        picked[picked.index(None)] = code
    turn.notice = _("{seat} is yours for {minutes} minutes.").format(seat=code,
                                                                      minutes=turn.svc.settings.HOLD_MINUTES)
    turn.goto(Step.SEATS, edit=True)


async def on_taken(turn: Turn, code: str) -> None:
    """A ✖ tapped: it is taken, and which free seats are nearest."""
    flight_id, cabin = _chosen(turn)
    flight = await turn.svc.flights.get(flight_id)
    layout, blocked = await cabin_layout(turn, flight, cabin)
    if layout is None or code not in layout.seat_codes():
        turn.notice = _("{seat} is taken. Please pick a free seat.").format(seat=code)
        return
    state = await turn.svc.seats.taken(flight_id, chat_holder(turn.chat_id))
    turn.notice = taken_answer(layout, set(state) | blocked | {s for s in _picked(turn) if s}, code)


async def on_seat_text(turn: Turn, text: str) -> None:
    """A seat typed on the seat step ("12A", "12 a"): picked wherever it is on the map, by the same hold as a tap
    (the map turns to its page); a precise answer when it can't be; any other text gets the step's hint."""
    code = parse_seat(text)
    if code is None:
        turn.say(_(HINT))
        return
    if code in _picked(turn):
        turn.say(esc(_("{seat} is already yours. Tap it on the map to free it.").format(seat=code)))
        return
    flight_id, cabin = _chosen(turn)
    flight = await turn.svc.flights.get(flight_id)
    layout, blocked = await cabin_layout(turn, flight, cabin)
    if flight is not None and layout is not None and code not in layout.seat_codes():
        layouts = {c: found for c in flight.fares if (found := (await cabin_layout(turn, flight, c))[0])}
        turn.say(esc(where_else(code, cabin, {**layouts, cabin: layout})))
        return
    if layout is not None and code in layout.seat_codes():
        state = await turn.svc.seats.taken(flight_id, chat_holder(turn.chat_id))
        if code in blocked or state.get(code) == "taken":
            turn.say(esc(taken_answer(layout, set(state) | blocked | {s for s in _picked(turn) if s}, code)))
            return
        turn.draft.seat_page = page_of(seat_pages(layout), code) or 0
    await on_seat(turn, code)
    if turn.notice:  # typed, not tapped: what a tap shows as a notice is said, above the map
        turn.say(esc(turn.notice))
        turn.notice, turn.alert = None, False
    turn.redraw = False  # a new map below the typed seat, not an edit of an older one


async def on_seat_page(turn: Turn, arg: str) -> None:
    turn.draft.seat_page = int(arg) if arg.isdigit() else 0
    turn.goto(Step.SEATS, edit=True)


async def on_auto(turn: Turn) -> None:
    """Pick for me: adjacent free seats in one row group when possible, then any free seats."""
    flight_id, cabin = _chosen(turn)
    flight = await turn.svc.flights.get(flight_id)
    if await _closed(turn, flight):
        return
    layout, blocked = await cabin_layout(turn, flight, cabin)
    if layout is None:
        return
    picked = _picked(turn)
    holder = chat_holder(turn.chat_id)
    for attempt in range(PICK_ATTEMPTS):
        need = picked.count(None)
        if need == 0:
            break
        state = await turn.svc.seats.taken(flight_id, holder)
        # Our own holds that the draft doesn't list (a replayed step) are free to pick again, not lost.
        state = {code: v for code, v in state.items() if v != "mine" or code in picked}
        state.update({code: "taken" for code in blocked if code not in state})
        free = len(layout.seat_codes()) - len(state)
        plenty = free >= SCARCE_FACTOR * need
        # Plenty: a block picked at random among the first few (parties tapping together spread out) and the
        # seats won kept; last seats: the first block, all or none, so that of parties racing for them one flies.
        spread = secrets.randbelow(min(MAX_SPREAD, free // need)) if plenty and attempt else 0
        suggestion = suggest_seats(layout, state, need, spread=spread)
        if len(suggestion) < need:
            break  # too few seats for the party: take none, so another party can have them whole
        got = await _hold_all(turn, flight_id, suggestion, cabin, keep_partial=plenty)
        for seat in got:
            picked[picked.index(None)] = seat
    if picked.count(None):
        turn.notice = _("Not enough free seats left in this cabin for everyone; pick seats on the map or go back "
                        "to the flights.")
        turn.alert = True
    else:
        turn.notice = _("Picked {seats} for you.").format(seats=", ".join(s for s in picked if s))
    turn.goto(Step.SEATS, edit=True)


async def _hold_all(turn: Turn, flight_id: str, seats: list[str], cabin: str, *, keep_partial: bool) -> list[str]:
    """Hold the seats in order; the ones won. Without `keep_partial`, every seat or none: at the first seat
    someone else took, the ones just taken are freed.

    Parties racing for a cabin's last seats try them in the same order (the same suggestion from the same
    state), so one party gets them all instead of each getting some and nobody being able to fly. With plenty
    of seats, a party keeps what it won and the next round looks for the rest (no herd retrying one block).
    """
    holder = chat_holder(turn.chat_id)
    got: list[str] = []
    for seat in seats:
        try:
            await turn.svc.seats.hold(flight_id, seat, holder, cabin)
        except SeatUnavailable:
            if keep_partial:
                continue
            for taken in got:
                await turn.svc.seats.release(flight_id, taken, holder)
            return []
        got.append(seat)
    return got


async def on_seats_done(turn: Turn) -> None:
    picked = _picked(turn)
    if not all(picked):
        turn.notice = _("Please pick {count} more seat(s) first, or tap 🎲 Pick for me.").format(
            count=picked.count(None))
        return
    flight_id, cabin = _chosen(turn)
    for seat in [s for s in picked if s]:  # each hold starts again; a lapsed one is taken again if still free
        try:
            await turn.svc.seats.hold(flight_id, seat, chat_holder(turn.chat_id), cabin, mine=True)
        except SeatUnavailable:
            picked[picked.index(seat)] = None
    if not all(picked):
        turn.say(_("Your hold on some seats lapsed and they were taken. Please pick again."))
        turn.goto(Step.SEATS)
        return
    d = turn.draft
    if d.seg < len(d.picks) - 1:  # the next flight's seat map
        d.seg, d.seat_page = d.seg + 1, 0
        turn.notice = _("Seats saved. Now the next flight.")
        turn.goto(Step.SEATS)
        return
    turn.goto(Step.PAX)
