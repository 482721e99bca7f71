"""Search steps: origin → destination → date → passengers → results (also all in one message)."""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.formatting import local_date
from core.i18n import N_, _
from handlers.calendar import calendar_keyboard
from handlers.places import (
    NONE_OF_THESE,
    NOT_AN_AIRPORT,
    city_choice,
    did_you_mean,
    quote,
    resolve_place,
    set_place,
    type_again,
    unknown_airport,
)
from handlers.render import esc
from handlers.trip import (
    back_row,
    bad_return,
    check_return_date,
    last_bookable_day,
    next_question,
    origin_tz,
    travel_day,
)
from handlers.turn import Turn, callback_data
from models.conversation import Step
from services import search_query
from services.airports import AirportMatch
from services.dates import BadDate, ambiguity, check_travel_date, parse_date
from services.search_query import MAX_PASSENGERS, Verdict

COULDNT_READ = N_("I couldn't read that as a search — try <code>LHR JFK 15 Dec 2</code>.")
PASSENGERS_PLEASE = N_("1–{max} passengers, please: send a number from 1 to {max} (for larger groups, make two "
                       "bookings).")


def _passengers_please() -> str:
    return _(PASSENGERS_PLEASE).format(max=MAX_PASSENGERS)


IN_PROGRESS = frozenset({Step.SEATS, Step.PAX, Step.REVIEW})  # seats held: a new search would throw them away


async def begin(turn: Turn, args: str = "") -> None:
    """A new search; in the middle of a booking with seats held, first "Discard your booking in progress?"."""
    d = turn.draft
    held = [f"{p.flight_number} {s}" if len(d.picks) > 1 else s for p in d.picks for s in p.seats if s]
    if turn.conv.step in IN_PROGRESS and held:
        d.pending_search = args.strip()[:search_query.MAX_CHARS + 1]  # over the cap: answered unread later
        turn.say(_("Discard your booking in progress (seats {seats})?").format(seats=esc(", ".join(held))),
                 InlineKeyboardMarkup([
                     [InlineKeyboardButton(_("🗑 Discard it and search"),
                                           callback_data=callback_data("*", "dsc", turn.conv.flow))],
                     [InlineKeyboardButton(_("◀ Continue my booking"),
                                           callback_data=callback_data("*", "stay", turn.conv.flow))]]))
        return
    await _search_afresh(turn, args)


async def on_discard(turn: Turn, flow: str) -> None:
    """"Discard it and search": the booking in progress goes (its seats freed), the new search runs."""
    pending = turn.draft.pending_search
    if flow != turn.conv.flow or pending is None:
        turn.notice = _("This button is no longer active.")
        return
    await _search_afresh(turn, pending)


async def on_stay(turn: Turn, flow: str) -> None:
    """"Continue my booking": nothing is lost; the question the booking was at, again."""
    if flow != turn.conv.flow or turn.draft.pending_search is None:
        turn.notice = _("This button is no longer active.")
        return
    turn.draft.pending_search = None
    turn.goto(turn.conv.step)


async def _search_afresh(turn: Turn, args: str) -> None:
    """Forget the previous draft (and free its seats), then ask or parse."""
    await turn.start_over()
    if args.strip():
        if search_query.too_long(args):
            turn.say(_(COULDNT_READ))
        elif await one_line(turn, args):
            return
        else:
            turn.say(_("I couldn't read that as a search. Let's do it step by step."))


async def prompt_origin(turn: Turn) -> None:
    turn.say(_("✈️ <b>Where are you flying from?</b>\nType a city, airport or code (e.g. London, LHR), or the whole "
               "search at once: <code>LHR JFK 15 Dec 2</code>."))


async def prompt_destination(turn: Turn) -> None:
    turn.say(_("From <b>{origin}</b>. <b>Where to?</b>\nType a city, airport or code.").format(
        origin=esc(turn.draft.origin_label)), InlineKeyboardMarkup([back_row(turn)]))


async def prompt_date(turn: Turn) -> None:
    _date_screen(turn, None, edit=turn.redraw)


async def on_calendar(turn: Turn, month: str) -> None:
    """« and » on the calendar: another month, in the same message."""
    _date_screen(turn, month, edit=True)


def _date_screen(turn: Turn, month: str | None, *, edit: bool) -> None:
    today = turn.today(origin_tz(turn))
    shown = date.fromisoformat(f"{month}-01") if month else today.replace(day=1)
    turn.say(
        _("{origin} → <b>{destination}</b>. <b>When?</b>\nTap a day or type it (2026-12-15, 15/12, 15 Dec, "
          "tomorrow).").format(origin=esc(turn.draft.origin_label), destination=esc(turn.draft.destination_label)),
        InlineKeyboardMarkup([*calendar_keyboard(turn, shown, today, last_bookable_day(turn)).inline_keyboard,
                              back_row(turn)]), edit=edit,
    )


async def prompt_passengers(turn: Turn) -> None:
    day = travel_day(turn)
    rows = [[turn.button(str(n), "px", str(n)) for n in range(1, 6)],
            [turn.button(str(n), "px", str(n)) for n in range(6, 10)]]
    back = turn.draft.return_date if turn.draft.is_return else None
    when = local_date(day) if back is None else _("{day}, back {return_day}").format(
        day=local_date(day), return_day=local_date(back))
    turn.say(_("{origin} → {destination}, {day}.\n<b>How many passengers?</b> (1–9)").format(
        origin=esc(turn.draft.origin_label), destination=esc(turn.draft.destination_label),
        day=when), InlineKeyboardMarkup([*rows, back_row(turn)]))


async def on_back_from_passengers(turn: Turn, _arg: str) -> None:
    """◀ Back from the passenger count: the return date of a return trip, else one way or return."""
    turn.goto(Step.ASK_RETURN if turn.draft.is_return else Step.ASK_TRIP)


def _next_missing(turn: Turn) -> Step:
    """The first piece of the search still missing (a half-understood search keeps the rest), else what follows."""
    d = turn.draft
    if not d.origin:
        return Step.ASK_ORIGIN
    if not d.destination:
        return Step.ASK_DESTINATION
    if d.date is None:
        return Step.ASK_DATE
    return next_question(turn)


async def on_origin_text(turn: Turn, text: str) -> None:
    if search_query.too_long(text):
        turn.say(_(COULDNT_READ))
        return
    if len(text.split()) >= 3 and await one_line(turn, text):
        return
    match = await resolve_place(turn, text)
    if not match.found:
        unknown_airport(turn, match, "org", text)
    elif not match.sure:
        did_you_mean(turn, match, "org")
    elif len(match.airports) > 1:
        city_choice(turn, match, "org", _("Which one are you flying from?"))
    else:
        await on_origin_pick(turn, match.airports[0].iata)


async def on_origin_pick(turn: Turn, arg: str) -> None:
    if arg == NONE_OF_THESE:
        type_again(turn)
        return
    codes = list(dict.fromkeys(arg.lstrip("*").split(",")))  # a forged "ATL,ATL,…" is ATL once
    if not all(turn.svc.airports.get(c) for c in codes):
        turn.say(_("That airport is no longer on offer."))
        turn.goto(Step.ASK_ORIGIN)
        return
    if set(codes) & set(turn.draft.destination):  # the destination was kept from a half-understood search
        turn.say(_("The origin is the same as the destination. Where are you flying <b>from</b>?"))
        return
    set_place(turn, "origin", codes)
    turn.goto(_next_missing(turn))


async def on_destination_text(turn: Turn, text: str) -> None:
    match = await resolve_place(turn, text)
    if not match.found:
        unknown_airport(turn, match, "dst", text)
    elif not match.sure:
        did_you_mean(turn, match, "dst")
    elif len(match.airports) > 1:
        city_choice(turn, match, "dst", _("Which one are you flying to?"))
    else:
        await on_destination_pick(turn, match.airports[0].iata)


async def on_destination_pick(turn: Turn, arg: str) -> None:
    if arg == NONE_OF_THESE:
        type_again(turn)
        return
    codes = list(dict.fromkeys(arg.lstrip("*").split(",")))  # a forged "ATL,ATL,…" is ATL once
    if not all(turn.svc.airports.get(c) for c in codes):  # a forged or outdated button
        turn.say(_("That airport is no longer on offer."))
        turn.goto(Step.ASK_DESTINATION)
        return
    if set(codes) & set(turn.draft.origin):
        turn.say(_("The destination is the same as the origin. Where would you like to fly <b>to</b>?"))
        return
    set_place(turn, "destination", codes)
    turn.goto(_next_missing(turn))


async def on_date_text(turn: Turn, text: str) -> None:
    today = turn.today(origin_tz(turn))
    try:
        day = parse_date(text, today)
        check_travel_date(day, today, last_bookable_day(turn))
    except BadDate as exc:
        turn.say(f"{esc(exc)}")
        turn.goto(Step.ASK_DATE)
        return
    _say_ambiguity(turn, text, day, today)
    await _set_date(turn, day)


def _say_ambiguity(turn: Turn, text: str | None, day: date, today: date) -> None:
    """05/06 was read day-first: say so, and how to type the other reading."""
    note = ambiguity(text, day, today) if text else None
    if note:
        turn.say(esc(note))


async def on_date_pick(turn: Turn, arg: str) -> None:
    day = date(int(arg[:4]), int(arg[4:6]), int(arg[6:8]))
    today = turn.today(origin_tz(turn))
    try:
        check_travel_date(day, today, last_bookable_day(turn))
    except BadDate as exc:
        turn.notice = str(exc)
        turn.goto(Step.ASK_DATE)
        return
    await _set_date(turn, day)


async def _set_date(turn: Turn, day: date) -> None:
    d = turn.draft
    d.date = day
    if d.return_date is not None and d.return_date < day:
        d.return_date = None  # the return must be asked again
    d.leg, d.page = 0, 0
    turn.goto(next_question(turn))


async def on_passengers(turn: Turn, text: str) -> None:
    value = text.strip()
    # isdecimal, not isdigit: "²" is a digit that int() refuses; the length check keeps int() cheap.
    if not (value.isdecimal() and len(value) <= 3 and 1 <= int(value) <= MAX_PASSENGERS):
        turn.say(_passengers_please())
        turn.goto(Step.ASK_PASSENGERS)
        return
    turn.draft.pax = int(value)
    turn.goto(Step.RESULTS)


async def one_line(turn: Turn, text: str) -> bool:
    """`LHR JFK 2026-12-15 2`, `London to New York 15 Dec`: the whole search at once (False: not one).

    Parsing does bounded work on any text (services.search_query); too long a text gets a short answer.
    """
    query = search_query.parse_search(text, turn.svc.airports, turn.today)
    if query.verdict is Verdict.TOO_LONG:
        turn.say(_(COULDNT_READ))
        return True
    if query.verdict is Verdict.NOT_FOUND:
        return False
    d = turn.draft
    if d.picks or d.people:  # typed over an earlier search: never mix its flights or passengers into this one
        if turn.conv.step in IN_PROGRESS and any(seat for p in d.picks for seat in p.seats):
            await begin(turn, text)  # seats held: "Discard your booking in progress?" first
            return True
        await turn.start_over()
    if query.verdict is Verdict.PARTIAL or not (query.origin and query.origin.sure and query.destination
                                                and query.destination.sure):
        _keep_what_was_read(turn, query)
        return True
    assert query.origin is not None and query.destination is not None and query.day is not None
    assert query.today is not None
    origin = [a.iata for a in query.origin.airports]
    destination = [a.iata for a in query.destination.airports]
    if set(origin) & set(destination):
        turn.say(_("The origin and destination are the same airport. Where are you flying to?"))
        set_place(turn, "origin", origin)
        turn.goto(Step.ASK_DESTINATION)
        return True
    set_place(turn, "origin", origin)
    set_place(turn, "destination", destination)
    turn.draft.page = 0
    # Out of range: keep the route and date, and ask only for the count (the date, if wrong, first).
    if query.verdict is Verdict.BAD_PASSENGERS:
        turn.say(_passengers_please())
        turn.draft.pax = None
    else:
        turn.draft.pax = query.passengers
    d = turn.draft
    d.trip, d.return_date = ("return", query.return_day) if query.return_day else ("one", None)
    try:
        check_travel_date(query.day, query.today, last_bookable_day(turn))
    except BadDate as exc:
        turn.say(esc(exc))
        turn.goto(Step.ASK_DATE)
        return True
    if query.return_day is not None:
        try:
            check_return_date(query.return_day, query.day, last_bookable_day(turn))
        except BadDate as exc:
            d.date, d.return_date = query.day, None  # keep the route and outbound; ask only for the return
            await bad_return(turn, query.return_day, exc)
            return True
    _say_ambiguity(turn, query.day_text, query.day, query.today)
    await _set_date(turn, query.day)
    return True


def _keep_what_was_read(turn: Turn, query: search_query.SearchQuery) -> None:
    """A half-understood search (issue #15): keep the places, date(s) and passengers read, say exactly what was
    not understood, and ask only for the first missing piece (a guessed place: "Did you mean…?")."""
    d = turn.draft
    d.origin, d.origin_label, d.destination, d.destination_label = [], "", [], ""
    d.date, d.return_date, d.page = None, None, 0
    d.trip = "return" if query.return_day else "one"
    d.pax = query.passengers if 1 <= query.passengers <= MAX_PASSENGERS else None
    guess: tuple[str, AirportMatch] | None = None
    for key, action, match in (("origin", "org", query.origin), ("destination", "dst", query.destination)):
        if match is None:
            continue
        if not match.sure:
            guess = guess or (action, match)
        elif key == "origin" or not set(a.iata for a in match.airports) & set(d.origin):
            set_place(turn, key, [a.iata for a in match.airports])  # type: ignore[arg-type]
    if query.day is not None and query.today is not None:
        try:
            check_travel_date(query.day, query.today, last_bookable_day(turn))
            d.date = query.day
            if query.return_day is not None:
                check_return_date(query.return_day, query.day, last_bookable_day(turn))
                d.return_date = query.return_day
        except BadDate as exc:
            turn.say(esc(exc))
        if d.date is not None:
            _say_ambiguity(turn, query.day_text, d.date, query.today)
    if query.unknown:
        turn.say(_(NOT_AN_AIRPORT).format(typed=quote(query.unknown)))
    if query.bad_date_text:
        try:
            parse_date(query.bad_date_text, turn.today(origin_tz(turn)))
        except BadDate as exc:
            turn.say(esc(exc))
    if guess is not None:
        action, match = guess
        did_you_mean(turn, turn.svc.airports.resolve(match.query), action)  # with its top 3 suggestions
        turn.conv.step = Step.ASK_ORIGIN if action == "org" else Step.ASK_DESTINATION
        turn.next = None  # the question is the step's prompt: the buttons (or a typed place) answer it
        return
    turn.goto(_next_missing(turn))
