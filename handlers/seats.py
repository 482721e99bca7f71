"""Seat map as an inline keyboard: one tap holds a seat atomically; tap your seat again to free it."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.errors import BookingClosed, LimitReached, SeatUnavailable
from core.i18n import _
from handlers.render import cabin_name, esc
from handlers.turn import Turn
from models.aircraft import CabinLayout
from models.conversation import Step
from models.flight import Flight
from services.seat_choice import suggest_seats
from services.seats import chat_holder

MAX_ROW_BUTTONS = 8  # Telegram shows at most 8 buttons in a row of an inline keyboard
MAX_ROWS_PER_PAGE = 9  # 9 × 8 seats + 3 control rows stays well under the 100-button limit


@dataclass(frozen=True)
class SeatPage:
    """A block of rows and a slice of the cabin's column groups that fits one keyboard."""

    rows: tuple[int, ...]
    groups: tuple[str, ...]
    with_row_label: bool

    def title(self, cabin: str) -> str:
        letters = "".join(self.groups)
        return _("{cabin} · rows {first_row}–{last_row} · seats {first_seat}–{last_seat}").format(
            cabin=cabin_name(cabin), first_row=self.rows[0], last_row=self.rows[-1], first_seat=letters[0],
            last_seat=letters[-1])


def seat_pages(layout: CabinLayout) -> list[SeatPage]:
    groups = layout.columns.split()
    views: list[tuple[tuple[str, ...], bool]] = []
    # Widest window of adjacent column groups that fits (row label if it fits too): whole cabin on narrow-bodies,
    # overlapping sides on wide-bodies (ABC DEF | DEF HJK), so every seat appears with its neighbours.
    for size in range(len(groups), 0, -1):
        windows = [tuple(groups[i:i + size]) for i in range(len(groups) - size + 1)]
        widths = [sum(len(g) for g in w) + len(w) - 1 for w in windows]
        if all(w + 1 <= MAX_ROW_BUTTONS for w in widths):
            views = [(w, True) for w in windows]
            break
        if all(w <= MAX_ROW_BUTTONS for w in widths):
            views = [(w, False) for w in windows]  # seat labels carry the row ("1A"), so the row label can go
            break
    rows = layout.rows()
    blocks = [tuple(rows[i:i + MAX_ROWS_PER_PAGE]) for i in range(0, len(rows), MAX_ROWS_PER_PAGE)]
    return [SeatPage(block, view, label) for block in blocks for view, label in views]


async def cabin_layout(turn: Turn, flight: Flight | None, cabin: str) -> tuple[CabinLayout | None, set[str]]:
    """The cabin's layout and the seats its provider reports taken (a live flight's SeatMap Display)."""
    if flight is None:
        return None, set()
    return await turn.svc.flights.layout(flight, cabin)


def _picked(turn: Turn) -> list[str | None]:
    return turn.draft.seats


def _chosen(turn: Turn) -> tuple[str, str]:
    """The flight id and cabin picked in the results."""
    if turn.draft.flight_id is None or turn.draft.cabin is None:
        raise ValueError("the draft has no flight yet")
    return turn.draft.flight_id, turn.draft.cabin


async def on_flight_pick(turn: Turn, arg: str) -> None:
    """A fare button in the results: remember the flight and cabin, then show the seat map."""
    flight_id, _dot, initial = arg.partition(".")
    # Only a flight this chat was shown: a forged or foreign id is treated like a vanished flight.
    known = flight_id in turn.draft.flight_ids
    flight = await turn.svc.flights.get(flight_id) if known else None
    cabin = next((c for c in (flight.fares if flight else {}) if c.startswith(initial)), None)
    if flight is not None and cabin is not None and await _closed(turn, flight):
        return
    if flight is None or cabin is None:
        turn.say(_("That flight is no longer available. Here are the current results."))
        turn.goto(Step.RESULTS)
        return
    pax = turn.draft.pax or 0
    try:
        await turn.svc.bookings.check_seat_limit(turn.user_id, str(flight.id), pax)
    except LimitReached as exc:
        turn.notice, turn.alert = str(exc), True
        turn.say(f"😕 {esc(exc)}")
        return
    options = await turn.svc.flights.with_availability([flight])
    if options[0].seats_left.get(cabin, 0) < pax:
        left = options[0].seats_left.get(cabin, 0)
        turn.notice = _("Only {count} {cabin} seats left on {flight}.").format(
            count=left, cabin=cabin_name(cabin), flight=flight.flight_number)
        turn.alert = True
        return
    await turn.svc.seats.release_holder(chat_holder(turn.chat_id))
    d = turn.draft
    d.flight_id, d.cabin, d.seats, d.seat_page = str(flight.id), cabin, [None] * pax, 0
    d.fare, d.currency = flight.fares[cabin], flight.currency
    turn.goto(Step.SEATS)


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
    state = await turn.svc.seats.taken(str(flight.id), chat_holder(turn.chat_id))
    state.update({code: "taken" for code in blocked if code not in state})
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
                elif code in state:
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
    rows.append([turn.button(_("🎲 Pick for me"), "auto"),
                 turn.button(_("✅ Continue ({done}/{total})").format(done=done, total=len(picked)), "sd")])
    rows.append([turn.button(_("◀ Back to flights"), "back")])
    who = _next_passenger_text(picked)
    chosen = ", ".join(s or "—" for s in picked)
    text = (f"<b>{flight.flight_number} {flight.origin} → {flight.destination}</b> · {esc(page.title(cabin))}\n"
            f"{who}\n" + _("Your seats: {seats}\n✅ yours · ✖ taken · ┊ aisle. Seats are held for {minutes} minutes "
                           "once picked.").format(seats=chosen, minutes=turn.svc.settings.HOLD_MINUTES))
    turn.say(text, InlineKeyboardMarkup(rows), edit=turn.redraw)


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
    turn.notice = _("{seat} is taken. Please pick a free seat.").format(seat=code)


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
    for _attempt in range(3):
        need = picked.count(None)
        if need == 0:
            break
        state = await turn.svc.seats.taken(flight_id, holder)
        # Our own holds that the draft doesn't list (a replayed step) are free to pick again, not lost.
        state = {code: v for code, v in state.items() if v != "mine" or code in picked}
        state.update({code: "taken" for code in blocked if code not in state})
        for seat in suggest_seats(layout, state, need):
            try:
                await turn.svc.seats.hold(flight_id, seat, holder, cabin)
            except SeatUnavailable:
                continue
            picked[picked.index(None)] = seat
    if picked.count(None):
        turn.notice = _("Not enough free seats together; please pick the rest on the map.")
    else:
        turn.notice = _("Picked {seats} for you.").format(seats=", ".join(s for s in picked if s))
    turn.goto(Step.SEATS, edit=True)


async def on_seats_done(turn: Turn) -> None:
    picked = _picked(turn)
    if not all(picked):
        turn.notice = _("Please pick {count} more seat(s) first, or tap 🎲 Pick for me.").format(
            count=picked.count(None))
        return
    flight_id, cabin = _chosen(turn)
    state = await turn.svc.seats.taken(flight_id, chat_holder(turn.chat_id))
    lost = [s for s in picked if s and state.get(s) != "mine"]
    for seat in lost:  # the hold lapsed; take it again if nobody else did
        try:
            await turn.svc.seats.hold(flight_id, seat, chat_holder(turn.chat_id), cabin)
        except SeatUnavailable:
            picked[picked.index(seat)] = None
    if not all(picked):
        turn.say(_("Your hold on some seats lapsed and they were taken. Please pick again."))
        turn.goto(Step.SEATS)
        return
    turn.goto(Step.PAX)
