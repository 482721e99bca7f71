"""Search steps: origin → destination → date → passengers → results (also all in one message)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from telegram import InlineKeyboardMarkup

from handlers.render import cabin_name, day_shift, duration, esc, local_time, money
from handlers.turn import Turn
from services import search_query
from services.airports import MAX_QUERY_CHARS, AirportMatch
from services.dates import BadDate, check_travel_date, parse_date, shorten
from services.flights import FlightOption
from services.search_query import MAX_PASSENGERS, Verdict
from services.seats import chat_holder
from services.stats import record_search

PAGE_SIZE = 4  # two lines each: four results and their buttons fit a phone screen
COULDNT_READ = "I couldn't read that as a search — try <code>LHR JFK 15 Dec 2</code>."
PASSENGERS_PLEASE = (f"1–{MAX_PASSENGERS} passengers, please: send a number from 1 to {MAX_PASSENGERS} "
                     "(for larger groups, make two bookings).")


def quote(text: str) -> str:
    """The traveller's text as a reply may show it: at most 60 characters (then "…"), HTML-escaped."""
    return esc(shorten(text))


def _place_label(match_codes: list[str], turn: Turn) -> str:
    directory = turn.svc.airports
    if len(match_codes) == 1:
        airport = directory.get(match_codes[0])
        return f"{airport.city} {airport.iata}" if airport else match_codes[0]
    first = directory.get(match_codes[0])
    return f"{first.city if first else ''} (any: {', '.join(match_codes)})"


def last_bookable_day(turn: Turn) -> date:
    return turn.svc.last_day or turn.today() + timedelta(days=119)


async def begin(turn: Turn, args: str = "") -> None:
    """A new search: forget the previous draft (and free its seats), then ask or parse."""
    await turn.svc.seats.release_holder(chat_holder(turn.chat_id))
    turn.svc.conversations.restart(turn.conv, "ask_origin")
    if args.strip():
        if search_query.too_long(args):
            turn.say(COULDNT_READ)
        elif await one_line(turn, args):
            return
        else:
            turn.say("I couldn't read that as a search. Let's do it step by step.")
    await prompt_origin(turn)


async def prompt_origin(turn: Turn) -> None:
    turn.conv.step = "ask_origin"
    turn.say("✈️ <b>Where are you flying from?</b>\nType a city, airport or code (e.g. London, LHR), or the whole "
             "search at once: <code>LHR JFK 15 Dec 2</code>.")


async def prompt_destination(turn: Turn) -> None:
    turn.conv.step = "ask_destination"
    turn.say(f"From <b>{esc(turn.draft['origin_label'])}</b>. <b>Where to?</b>\nType a city, airport or code.")


async def prompt_date(turn: Turn, month: str | None = None, *, edit: bool = False) -> None:
    turn.conv.step = "ask_date"
    origin_tz = _origin_tz(turn)
    today = turn.today(origin_tz)
    shown = date.fromisoformat(f"{month}-01") if month else today.replace(day=1)
    turn.say(
        f"{esc(turn.draft['origin_label'])} → <b>{esc(turn.draft['destination_label'])}</b>. "
        "<b>When?</b>\nTap a day or type it (2026-12-15, 15/12, 15 Dec, tomorrow).",
        calendar_keyboard(turn, shown, today, last_bookable_day(turn)), edit=edit,
    )


async def prompt_passengers(turn: Turn) -> None:
    turn.conv.step = "ask_passengers"
    day = date.fromisoformat(turn.draft["date"])
    rows = [[turn.button(str(n), "px", str(n)) for n in range(1, 6)],
            [turn.button(str(n), "px", str(n)) for n in range(6, 10)]]
    turn.say(f"{esc(turn.draft['origin_label'])} → {esc(turn.draft['destination_label'])}, {day:%a %d %b %Y}.\n"
             "<b>How many passengers?</b> (1–9)", InlineKeyboardMarkup(rows))


def calendar_keyboard(turn: Turn, month: date, today: date, last: date) -> InlineKeyboardMarkup:
    prev_month = (month - timedelta(days=1)).replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    nav = [
        turn.button("«", "cal", prev_month.strftime("%Y-%m")) if prev_month >= today.replace(day=1)
        else turn.button(" ", "nop"),
        turn.button(month.strftime("%B %Y"), "nop"),
        turn.button("»", "cal", next_month.strftime("%Y-%m")) if next_month <= last else turn.button(" ", "nop"),
    ]
    rows = [nav, [turn.button(d, "nop") for d in ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")]]
    for week in calendar.Calendar().monthdatescalendar(month.year, month.month):
        row = []
        for day in week:
            if day.month != month.month or day < today or day > last:
                row.append(turn.button("·", "nop"))
            else:
                row.append(turn.button(str(day.day), "day", day.strftime("%Y%m%d")))
        rows.append(row)
    return InlineKeyboardMarkup(rows)


def _origin_tz(turn: Turn) -> str | None:
    codes = turn.draft.get("origin") or []
    airport = turn.svc.airports.get(codes[0]) if codes else None
    return airport.tz if airport else None


def _unknown_airport(turn: Turn, match: AirportMatch, action: str, typed: str) -> None:
    if match.suggestions:
        names = ", ".join(f"{a.city} ({a.iata})" for a in match.suggestions)
        buttons = [[turn.button(f"{a.city} · {a.iata}", action, a.iata)] for a in match.suggestions]
        turn.say(f"I don't know the airport “{quote(typed)}”. Did you mean {esc(names)}?",
                 InlineKeyboardMarkup(buttons))
    else:
        turn.say(f"I don't know the airport “{quote(typed)}”. Type a city, airport name or 3-letter code.")


def _city_choice(turn: Turn, match: AirportMatch, action: str, question: str) -> None:
    buttons = [[turn.button(f"{a.iata} · {a.name}", action, a.iata)] for a in match.airports]
    buttons.append([turn.button(f"Any {match.city} airport", action, "*" + ",".join(a.iata for a in match.airports))])
    turn.say(f"{esc(match.city)} has {len(match.airports)} airports. {question}", InlineKeyboardMarkup(buttons))


async def _resolve(turn: Turn, text: str) -> AirportMatch:
    """The local airport list first; a place it doesn't know is looked up live (Amadeus) when configured.

    Only the first MAX_QUERY_CHARS characters are used (no place name is longer), so a long message costs
    no more fuzzy matching, and no longer live keyword, than a long city name.
    """
    text = text.strip()[:MAX_QUERY_CHARS]
    match = turn.svc.airports.resolve(text)
    if not match.found:
        learned = await turn.svc.flights.learn_airports(turn.svc.airports, text)
        if learned is not None:
            turn.svc.airports = learned
            match = learned.resolve(text)
    return match


def _set_place(turn: Turn, key: str, codes: list[str]) -> None:
    turn.draft[key] = codes
    turn.draft[f"{key}_label"] = _place_label(codes, turn)


async def on_origin_text(turn: Turn, text: str) -> None:
    if search_query.too_long(text):
        turn.say(COULDNT_READ)
        return
    if len(text.split()) >= 3 and await one_line(turn, text):
        return
    match = await _resolve(turn, text)
    if not match.found:
        _unknown_airport(turn, match, "org", text)
    elif len(match.airports) > 1:
        _city_choice(turn, match, "org", "Which one are you flying from?")
    else:
        _set_place(turn, "origin", [match.airports[0].iata])
        await prompt_destination(turn)


async def on_origin_pick(turn: Turn, arg: str) -> None:
    codes = arg.lstrip("*").split(",")
    if not all(turn.svc.airports.get(c) for c in codes):
        turn.say("That airport is no longer on offer.")
        await prompt_origin(turn)
        return
    _set_place(turn, "origin", codes)
    await prompt_destination(turn)


async def on_destination_text(turn: Turn, text: str) -> None:
    match = await _resolve(turn, text)
    if not match.found:
        _unknown_airport(turn, match, "dst", text)
    elif len(match.airports) > 1:
        _city_choice(turn, match, "dst", "Which one are you flying to?")
    else:
        await on_destination_pick(turn, match.airports[0].iata)


async def on_destination_pick(turn: Turn, arg: str) -> None:
    codes = arg.lstrip("*").split(",")
    if set(codes) & set(turn.draft["origin"]):
        turn.say("The destination is the same as the origin. Where would you like to fly <b>to</b>?")
        return
    _set_place(turn, "destination", codes)
    await prompt_date(turn)


async def on_date_text(turn: Turn, text: str) -> None:
    today = turn.today(_origin_tz(turn))
    try:
        day = parse_date(text, today)
        check_travel_date(day, today, last_bookable_day(turn))
    except BadDate as exc:
        turn.say(f"{esc(exc)}")
        await prompt_date(turn)
        return
    await _set_date(turn, day)


async def on_date_pick(turn: Turn, arg: str) -> None:
    day = date(int(arg[:4]), int(arg[4:6]), int(arg[6:8]))
    today = turn.today(_origin_tz(turn))
    try:
        check_travel_date(day, today, last_bookable_day(turn))
    except BadDate as exc:
        turn.notice = str(exc)
        await prompt_date(turn)
        return
    await _set_date(turn, day)


async def _set_date(turn: Turn, day: date) -> None:
    turn.draft["date"] = day.isoformat()
    if turn.draft.get("pax"):
        await show_results(turn)
    else:
        await prompt_passengers(turn)


async def on_passengers(turn: Turn, text: str) -> None:
    value = text.strip()
    # isdecimal, not isdigit: "²" is a digit that int() refuses; the length check keeps int() cheap.
    if not (value.isdecimal() and len(value) <= 3 and 1 <= int(value) <= MAX_PASSENGERS):
        turn.say(PASSENGERS_PLEASE)
        await prompt_passengers(turn)
        return
    turn.draft["pax"] = int(value)
    await show_results(turn)


async def one_line(turn: Turn, text: str) -> bool:
    """`LHR JFK 2026-12-15 2`, `London to New York 15 Dec`: the whole search at once (False: not one).

    Parsing does bounded work on any text (services.search_query); too long a text gets a short answer.
    """
    query = search_query.parse_search(text, turn.svc.airports, turn.today)
    if query.verdict is Verdict.TOO_LONG:
        turn.say(COULDNT_READ)
        return True
    if query.verdict is Verdict.NOT_FOUND:
        return False
    assert query.origin is not None and query.destination is not None and query.day is not None
    assert query.today is not None
    origin = [a.iata for a in query.origin.airports]
    destination = [a.iata for a in query.destination.airports]
    if set(origin) & set(destination):
        turn.say("The origin and destination are the same airport. Where are you flying to?")
        _set_place(turn, "origin", origin)
        await prompt_destination(turn)
        return True
    _set_place(turn, "origin", origin)
    _set_place(turn, "destination", destination)
    turn.draft["page"] = 0
    # Out of range: keep the route and date, and ask only for the count (the date, if wrong, first).
    if query.verdict is Verdict.BAD_PASSENGERS:
        turn.say(PASSENGERS_PLEASE)
        turn.draft.pop("pax", None)
    else:
        turn.draft["pax"] = query.passengers
    try:
        check_travel_date(query.day, query.today, last_bookable_day(turn))
    except BadDate as exc:
        turn.say(esc(exc))
        await prompt_date(turn)
        return True
    await _set_date(turn, query.day)
    return True


async def show_results(turn: Turn, *, edit: bool = False) -> None:
    """The flights for the draft's route, date and passengers; nearest dates when there are none."""
    turn.conv.step = "results"
    d = turn.draft
    day, pax = date.fromisoformat(d["date"]), int(d["pax"])
    result = await turn.svc.flights.search(d["origin"], d["destination"], day, pax)
    await record_search(d, turn.svc.clock.now())  # once per route/date/pax, for /stats conversion
    options = result.options
    if d.get("sort") == "price":
        options.sort(key=lambda o: (min(o.flight.fares.values()), o.flight.departs_at))
    header = (f"<b>{esc(d['origin_label'])} → {esc(d['destination_label'])}</b>\n"
              f"{day:%a %d %b %Y} · {pax} passenger{'s' if pax > 1 else ''} · source: {esc(result.source_label)}")
    if pax > 1:
        header += f"\nPrices are totals for all {pax} passengers."
    for note in result.notes:
        header += f"\n⚠️ {esc(note)}"
    if not options:
        await _no_flights(turn, header, day)
        return
    turn.draft["flight_ids"] = [str(o.flight.id) for o in options]
    pages = (len(options) + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(int(d.get("page", 0)), 0), pages - 1)
    shown = options[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
    lines, buttons = [header, ""], []
    for index, option in enumerate(shown, start=page * PAGE_SIZE + 1):
        lines.append(_option_text(turn, index, option, pax))
        buttons.append([
            turn.button(f"{index}. {cabin_name(cabin)} "
                        f"{money(option.flight.fares[cabin] * pax, option.flight.currency)}",
                        "fl", f"{option.flight.id}.{cabin[0]}")
            for cabin in option.flight.fares if option.seats_left.get(cabin, 0) >= pax
        ])
    order = d.get("sort", "time")
    controls = [turn.button("⏱ By time" if order == "price" else "💶 By price", "sort",
                            "time" if order == "price" else "price")]
    if page > 0:
        controls.insert(0, turn.button("‹ Prev", "pg", str(page - 1)))
    if page < pages - 1:
        controls.append(turn.button("Next ›", "pg", str(page + 1)))
    buttons.append(controls)
    buttons.append([turn.button("◀ Day before", "shift", "-1"), turn.button("Day after ▶", "shift", "1")])
    lines.append(f"Page {page + 1} of {pages} · tap a fare to choose seats.")
    turn.say("\n".join(lines), InlineKeyboardMarkup(buttons), edit=edit)


def _option_text(turn: Turn, index: int, option: FlightOption, pax: int) -> str:
    f = option.flight
    origin, dest = turn.svc.airports.get(f.origin), turn.svc.airports.get(f.destination)
    otz, dtz = (origin.tz if origin else "UTC"), (dest.tz if dest else "UTC")
    aircraft_type = turn.svc.aircraft.get(f.aircraft)
    aircraft = aircraft_type.name if aircraft_type else f.aircraft
    fares = " · ".join(
        f"{cabin_name(c)} {money(v * pax, f.currency)} ({option.seats_left.get(c, 0)} left)"
        for c, v in f.fares.items()
    )
    terms = []  # what a live fare includes (bags, refunds); local flights leave both unset
    if f.checked_bags is not None:
        terms.append(f"{f.checked_bags} checked bag{'s' if f.checked_bags > 1 else ''}" if f.checked_bags
                     else "no checked bag")
    if f.refundable is not None:
        terms.append("refundable" if f.refundable else "non-refundable")
    extra = f" · {', '.join(terms)}" if terms else ""
    return (f"<b>{index}. {f.flight_number}</b> {f.origin} {local_time(f.departs_at, otz)} → {f.destination} "
            f"{local_time(f.arrives_at, dtz)}{day_shift(f.departs_at, otz, f.arrives_at, dtz)} · "
            f"{duration(f.duration_minutes)} · {esc(aircraft)}\n    {fares}{extra}")


async def _no_flights(turn: Turn, header: str, day: date) -> None:
    d = turn.draft
    today = turn.today(_origin_tz(turn))
    nearby = await turn.svc.flights.nearest_dates(d["origin"], d["destination"], day, today,
                                                  last_bookable_day(turn), passengers=int(d["pax"]))
    if nearby:
        buttons = [[turn.button(f"{n:%a %d %b}", "day", n.strftime("%Y%m%d")) for n in nearby[:4]]]
        turn.say(f"{header}\n\nNo flights with {d['pax']} free seat(s) on this day. These nearby dates have "
                 "flights:", InlineKeyboardMarkup(buttons))
    else:
        turn.say(f"{header}\n\nNo flights on this route within 3 days of that date. Try another date or "
                 "route with /search.")
    turn.conv.step = "ask_date"


async def on_sort(turn: Turn, arg: str) -> None:
    turn.draft["sort"] = "price" if arg == "price" else "time"
    turn.draft["page"] = 0
    await show_results(turn, edit=True)


async def on_page(turn: Turn, arg: str) -> None:
    turn.draft["page"] = int(arg) if arg.lstrip("-").isdigit() else 0
    await show_results(turn, edit=True)


async def on_shift_day(turn: Turn, arg: str) -> None:
    day = date.fromisoformat(turn.draft["date"]) + timedelta(days=1 if arg == "1" else -1)
    today = turn.today(_origin_tz(turn))
    try:
        check_travel_date(day, today, last_bookable_day(turn))
    except BadDate as exc:
        turn.notice = str(exc)
        return
    turn.draft["date"] = day.isoformat()
    turn.draft["page"] = 0
    await show_results(turn)
