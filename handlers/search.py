"""Search steps: origin → destination → date → passengers → results (also all in one message)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from telegram import InlineKeyboardMarkup

from core.formatting import local_date
from core.i18n import N_, _
from handlers.calendar import calendar_keyboard
from handlers.render import esc
from handlers.trip import (
    bad_return,
    check_return_date,
    last_bookable_day,
    next_question,
    origin_tz,
    travel_day,
)
from handlers.turn import Turn
from models.conversation import Step
from services import search_query
from services.airports import MAX_QUERY_CHARS, AirportMatch
from services.dates import BadDate, ambiguity, check_travel_date, parse_date, shorten
from services.search_query import MAX_PASSENGERS, Verdict

COULDNT_READ = N_("I couldn't read that as a search — try <code>LHR JFK 15 Dec 2</code>.")
NOT_AN_AIRPORT = N_("I didn't recognise “{typed}” as an airport.")
NONE_OF_THESE = "-"  # the "None of these" button's arg under the org/dst actions (whose args are IATA codes)
PASSENGERS_PLEASE = N_("1–{max} passengers, please: send a number from 1 to {max} (for larger groups, make two "
                       "bookings).")


def _passengers_please() -> str:
    return _(PASSENGERS_PLEASE).format(max=MAX_PASSENGERS)


def quote(text: str) -> str:
    """The traveller's text as a reply may show it: at most 60 characters (then "…"), HTML-escaped."""
    return esc(shorten(text))


def _place_label(match_codes: list[str], turn: Turn) -> str:
    directory = turn.svc.airports
    if len(match_codes) == 1:
        airport = directory.get(match_codes[0])
        return f"{airport.city} {airport.iata}" if airport else match_codes[0]
    first = directory.get(match_codes[0])
    return _("{city} (any: {codes})").format(city=first.city if first else "", codes=", ".join(match_codes))


async def begin(turn: Turn, args: str = "") -> None:
    """A new search: forget the previous draft (and free its seats), then ask or parse."""
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
        origin=esc(turn.draft.origin_label)))


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
        calendar_keyboard(turn, shown, today, last_bookable_day(turn)), edit=edit,
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
        day=when), InlineKeyboardMarkup(rows))


def _unknown_airport(turn: Turn, match: AirportMatch, action: str, typed: str) -> None:
    if match.suggestions:
        names = ", ".join(f"{a.city} ({a.iata})" for a in match.suggestions)
        buttons = [[turn.button(f"{a.city} · {a.iata}", action, a.iata)] for a in match.suggestions]
        turn.say(_("I don't know the airport “{typed}”. Did you mean {names}?").format(
                     typed=quote(typed), names=esc(names)),
                 InlineKeyboardMarkup(buttons))
    else:
        turn.say(_("I don't know the airport “{typed}”. Type a city, airport name or 3-letter code.").format(
            typed=quote(typed)))


def _did_you_mean(turn: Turn, match: AirportMatch, action: str) -> None:
    """A fuzzy guess under SURE_SCORE ("atlantis" → Atlanta): ask, with its top 3 airports and "None of these"."""
    guess = match.airports
    city = guess[0].city
    offered = match.suggestions or guess[:3]
    buttons = [[turn.button(f"{a.city} · {a.iata}", action, a.iata)] for a in offered]
    buttons.append([turn.button(_("None of these"), action, NONE_OF_THESE)])
    turn.say(_("Did you mean {city} ({codes})?").format(city=esc(city), codes=", ".join(a.iata for a in guess)),
             InlineKeyboardMarkup(buttons))


def _type_again(turn: Turn) -> None:
    turn.say(_("Please type the place again: a city, airport name or 3-letter code."))


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


def _city_choice(turn: Turn, match: AirportMatch, action: str, question: str) -> None:
    buttons = [[turn.button(f"{a.iata} · {a.name}", action, a.iata)] for a in match.airports]
    buttons.append([turn.button(_("Any {city} airport").format(city=match.city), action,
                                "*" + ",".join(a.iata for a in match.airports))])
    turn.say(_("{city} has {count} airports.").format(city=esc(match.city), count=len(match.airports)) + " "
             + question, InlineKeyboardMarkup(buttons))


async def _resolve(turn: Turn, text: str) -> AirportMatch:
    """The local airport list first; a place it doesn't know is looked up live (Amadeus) when configured.

    Only the first MAX_QUERY_CHARS characters are used (no place name is longer), so a long message costs
    no more fuzzy matching, and no longer live keyword, than a long city name.
    """
    text = text.strip()[:MAX_QUERY_CHARS]
    match = turn.svc.airports.resolve(text)
    if not match.found:
        # A bigger directory when a live provider knows the place; FlightSearch also makes it the one every
        # service reads (turn.svc.airports), so later turns know the new airports too.
        learned = await turn.svc.flights.learn_airports(turn.svc.airports, text)
        if learned is not None:
            match = learned.resolve(text)
    return match


def _set_place(turn: Turn, key: Literal["origin", "destination"], codes: list[str]) -> None:
    setattr(turn.draft, key, codes)
    setattr(turn.draft, f"{key}_label", _place_label(codes, turn))


async def on_origin_text(turn: Turn, text: str) -> None:
    if search_query.too_long(text):
        turn.say(_(COULDNT_READ))
        return
    if len(text.split()) >= 3 and await one_line(turn, text):
        return
    match = await _resolve(turn, text)
    if not match.found:
        _unknown_airport(turn, match, "org", text)
    elif not match.sure:
        _did_you_mean(turn, match, "org")
    elif len(match.airports) > 1:
        _city_choice(turn, match, "org", _("Which one are you flying from?"))
    else:
        await on_origin_pick(turn, match.airports[0].iata)


async def on_origin_pick(turn: Turn, arg: str) -> None:
    if arg == NONE_OF_THESE:
        _type_again(turn)
        return
    codes = list(dict.fromkeys(arg.lstrip("*").split(",")))  # a forged "ATL,ATL,…" is ATL once
    if not all(turn.svc.airports.get(c) for c in codes):
        turn.say(_("That airport is no longer on offer."))
        turn.goto(Step.ASK_ORIGIN)
        return
    if set(codes) & set(turn.draft.destination):  # the destination was kept from a half-understood search
        turn.say(_("The origin is the same as the destination. Where are you flying <b>from</b>?"))
        return
    _set_place(turn, "origin", codes)
    turn.goto(_next_missing(turn))


async def on_destination_text(turn: Turn, text: str) -> None:
    match = await _resolve(turn, text)
    if not match.found:
        _unknown_airport(turn, match, "dst", text)
    elif not match.sure:
        _did_you_mean(turn, match, "dst")
    elif len(match.airports) > 1:
        _city_choice(turn, match, "dst", _("Which one are you flying to?"))
    else:
        await on_destination_pick(turn, match.airports[0].iata)


async def on_destination_pick(turn: Turn, arg: str) -> None:
    if arg == NONE_OF_THESE:
        _type_again(turn)
        return
    codes = list(dict.fromkeys(arg.lstrip("*").split(",")))  # a forged "ATL,ATL,…" is ATL once
    if not all(turn.svc.airports.get(c) for c in codes):  # a forged or outdated button
        turn.say(_("That airport is no longer on offer."))
        turn.goto(Step.ASK_DESTINATION)
        return
    if set(codes) & set(turn.draft.origin):
        turn.say(_("The destination is the same as the origin. Where would you like to fly <b>to</b>?"))
        return
    _set_place(turn, "destination", codes)
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
        _set_place(turn, "origin", origin)
        turn.goto(Step.ASK_DESTINATION)
        return True
    _set_place(turn, "origin", origin)
    _set_place(turn, "destination", destination)
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
            _set_place(turn, key, [a.iata for a in match.airports])  # type: ignore[arg-type]
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
        _did_you_mean(turn, turn.svc.airports.resolve(match.query), action)  # with its top 3 suggestions
        turn.conv.step = Step.ASK_ORIGIN if action == "org" else Step.ASK_DESTINATION
        turn.next = None  # the question is the step's prompt: the buttons (or a typed place) answer it
        return
    turn.goto(_next_missing(turn))
