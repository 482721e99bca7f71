"""The seat map Mini App's confirm (issue #19), as a turn of the chat: the seats the page sends are held through
the same atomic holds as a tap on the inline grid, and the chat moves on to the passengers step by itself.

It runs under the chat's lock with the revision check (handlers.router.run_app_turn), so a page confirm and a tap
in the chat never interleave. All or nothing per request: when any seat was taken since the page drew it, the
seats this request took are freed again and the page is told which were lost (it redraws); the traveller's
earlier picks stay theirs. A confirm repeated after success (a double tap, a retry) answers as the first did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from telegram import InlineKeyboardButton, WebAppInfo

from core.errors import BookingClosed, SeatUnavailable
from core.i18n import _
from handlers.render import esc
from handlers.turn import Turn
from models.conversation import Step
from services.mini_apps import mini_app_link
from services.seat_choice import parse_seat
from services.seats import chat_holder

Status = Literal["ok", "stale", "invalid", "taken", "closed"]
MAX_SEGMENTS = 8  # a draft has at most a few flights; a longer list is not from our page


@dataclass
class SeatConfirm:
    status: Status
    message: str
    taken: list[tuple[int, str]] = field(default_factory=list)  # (segment, seat) lost to someone else


SEAT_MAP_PATH = "/app/seats/"


def seat_map_button(turn: Turn) -> InlineKeyboardButton | None:
    """"🗺 Open seat map": a `web_app` button in Telegram (only with an https PUBLIC_URL: Telegram opens nothing
    else), a link with locally signed init data in the terminal chat, none otherwise (the inline grid stays)."""
    link = mini_app_link(turn.svc.settings, turn.svc.clock, SEAT_MAP_PATH, {"f": turn.conv.flow},
                         user_id=turn.user_id, first_name=turn.first_name)
    if link is None:
        return None
    label = _("🗺 Open seat map")
    if link.in_telegram:
        return InlineKeyboardButton(label, web_app=WebAppInfo(link.url))
    return InlineKeyboardButton(label, url=link.url)


def read_choice(raw: object) -> list[list[str]] | None:
    """The page's `seats` ([[\"12A\", \"12B\"], …] per flight) as seat codes; None when it is not that shape."""
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_SEGMENTS:
        return None
    choice: list[list[str]] = []
    for seats in raw:
        if not isinstance(seats, list) or not 0 < len(seats) <= 20:
            return None
        codes = [parse_seat(seat) if isinstance(seat, str) else None for seat in seats]
        if any(code is None for code in codes):
            return None
        choice.append([code for code in codes if code is not None])
    return choice


async def confirm_seats(turn: Turn, flow: str, choice: list[list[str]]) -> SeatConfirm:
    """Hold `choice` (one list of seats per flight of the draft) for this chat and move on to the passengers."""
    d = turn.draft
    already = [list(pick.seats) for pick in d.picks]
    if turn.conv.flow != flow or not d.picks:
        return SeatConfirm("stale", _("This seat map belongs to an earlier search. Return to the chat."))
    if turn.conv.step != Step.SEATS:
        if choice == already:  # the same confirm again: it already went through
            return SeatConfirm("ok", _("Your seats are held. Return to the chat for the passengers' details."))
        return SeatConfirm("stale", _("Seats can no longer be changed here. Return to the chat."))
    if len(choice) != len(d.picks):
        return SeatConfirm("invalid", _("Please choose seats on every flight of your trip."))
    flights = [await turn.svc.flights.get(pick.flight_id) for pick in d.picks]
    for index, (pick, flight, seats) in enumerate(zip(d.picks, flights, choice, strict=True)):
        if flight is None:
            return SeatConfirm("stale", _("This flight is no longer available. Return to the chat."))
        try:
            turn.svc.bookings.check_bookable(flight.flight_number, flight.departs_at)
        except BookingClosed as exc:
            turn.say(f"😕 {esc(exc)} " + _("Please pick another flight."))
            turn.goto(Step.RESULTS)
            return SeatConfirm("closed", str(exc))
        problem = await _seats_problem(turn, index, seats, len(pick.seats))
        if problem:
            return SeatConfirm("invalid", problem)
    lost = await _hold_new(turn, choice)
    if lost:
        names = ", ".join(seat for _index, seat in lost)
        return SeatConfirm("taken", _("Sorry, {seats} was just taken by another traveller. The map is redrawn: "
                                      "please pick again.").format(seats=names), lost)
    holder = chat_holder(turn.chat_id)
    for pick, seats in zip(d.picks, choice, strict=True):
        for old in pick.seats:
            if old and old not in seats:
                await turn.svc.seats.release(pick.flight_id, old, holder)
        pick.seats = list(seats)
    d.seg, d.seat_page = len(d.picks) - 1, 0
    chosen = "; ".join(f"{pick.flight_number or ''} {', '.join(s for s in pick.seats if s)}".strip()
                       for pick in d.picks)
    turn.say(_("🗺 Seats from the seat map: <b>{seats}</b>, held for {minutes} minutes.").format(
        seats=esc(chosen), minutes=turn.svc.settings.HOLD_MINUTES))
    turn.goto(Step.PAX)
    return SeatConfirm("ok", _("Your seats are held. Return to the chat for the passengers' details."))


async def _seats_problem(turn: Turn, index: int, seats: list[str], count: int) -> str | None:
    """Why these seats cannot be asked for on the draft's `index`-th flight (wrong number, repeated, not in the
    cabin, not on sale); None when they can."""
    pick = turn.draft.picks[index]
    if len(seats) != count or len(set(seats)) != len(seats):
        return _("Please choose {count} different seats on {flight}.").format(count=count, flight=pick.flight_number)
    flight = await turn.svc.flights.get(pick.flight_id)
    layout, blocked = await turn.svc.flights.layout(flight, pick.cabin) if flight else (None, set())
    if layout is None:
        return _("The seat map of {flight} cannot be shown right now.").format(flight=pick.flight_number)
    codes = set(layout.seat_codes())
    wrong = [seat for seat in seats if seat not in codes or (seat in blocked and seat not in pick.seats)]
    if wrong:
        return _("{seat} cannot be chosen on {flight}.").format(seat=wrong[0], flight=pick.flight_number)
    return None


async def _hold_new(turn: Turn, choice: list[list[str]]) -> list[tuple[int, str]]:
    """Hold every chosen seat the draft does not hold yet; when any is lost, free the ones just taken and return
    the lost ones (every flight tried, so the page learns all of them at once). Seats kept from the draft are
    held again (a fresh hold period, or taken back if the old hold lapsed and the seat is still free)."""
    holder = chat_holder(turn.chat_id)
    won: list[tuple[str, str]] = []
    lost: list[tuple[int, str]] = []
    for index, (pick, seats) in enumerate(zip(turn.draft.picks, choice, strict=True)):
        for seat in seats:
            kept = seat in pick.seats
            try:
                await turn.svc.seats.hold(pick.flight_id, seat, holder, pick.cabin, mine=True if kept else None)
            except SeatUnavailable:
                lost.append((index, seat))
                continue
            if not kept:
                won.append((pick.flight_id, seat))
    if lost:
        for flight_id, seat in won:
            await turn.svc.seats.release(flight_id, seat, holder)
        for index, seat in lost:  # a kept seat whose hold lapsed and went to someone else is no longer ours
            pick = turn.draft.picks[index]
            if seat in pick.seats:
                pick.seats[pick.seats.index(seat)] = None
    return lost
