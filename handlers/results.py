"""The results step: the flights for the draft's route, date and passengers, sorted and paged."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import date, timedelta

from telegram import InlineKeyboardMarkup

from core.formatting import local_date, short_date
from core.i18n import _, ngettext, translate
from handlers.render import cabin_name, day_shift, duration, esc, local_time, money
from handlers.trip import (
    check_return_date,
    last_bookable_day,
    leg_labels,
    leg_route,
    leg_tz,
    option_key,
    origin_tz,
    passengers,
    pick_arg,
    travel_day,
)
from handlers.turn import Turn
from models.conversation import Step
from models.flight import Flight
from services import fare_rules
from services.connections import Itinerary
from services.dates import BadDate, check_travel_date
from services.flights import LOCAL_LABEL, SearchResult, SourceNote
from services.itinerary_texts import way_name
from services.stats import record_search
from services.through_fares import through_fares

PAGE_SIZE = 4  # two lines each: four results and their buttons fit a phone screen
CONNECTION_CABINS = ("economy", "business")  # the inventory's cabins; a connection is one cabin throughout


@dataclass
class Shown:
    """One option of the results: a direct flight or a connection, with its fare per cabin."""

    flights: list[Flight]
    fares: dict[str, list[int]]  # cabin -> each flight's fare per passenger, in `currency`
    left: dict[str, int]  # cabin -> seats left on the fullest flight
    currency: str
    itinerary: Itinerary | None = None  # a connection: its legs and layovers (services.connections.describe)

    @property
    def key(self) -> str:
        return option_key([str(f.id) for f in self.flights])

    def total(self, cabin: str) -> int:
        return sum(self.fares[cabin])


def _priced(flights: list[Flight], left: dict[str, int], currency: str | None,
            itinerary: Itinerary | None = None) -> Shown | None:
    """The option with each cabin's fares in the itinerary's currency (services.through_fares: what is shown
    is what is charged); None when no cabin can be priced in it."""
    fares: dict[str, list[int]] = {}
    for cabin in (flights[0].fares if itinerary is None else left):  # a connection: the cabins found bookable
        priced = through_fares(flights, cabin, currency)
        if priced is not None:
            currency, fares[cabin] = priced
    if not fares or currency is None:
        return None
    return Shown(flights, fares, {c: n for c, n in left.items() if c in fares}, currency, itinerary)


def _connections(found: list[list[Itinerary]], currency: str | None) -> list[Shown]:
    """The connections of each cabin's search as options; a chain bookable in two cabins is one option."""
    chains: dict[str, tuple[Itinerary, dict[str, int]]] = {}
    for itineraries in found:
        for it in itineraries:
            if it.stops == 0:
                continue
            _first, left = chains.setdefault(option_key([str(leg.flight.id) for leg in it.legs]), (it, {}))
            left[it.cabin] = min(leg.seats_left.get(it.cabin, 0) for leg in it.legs)
    shown = [_priced([leg.flight for leg in it.legs], left, currency, it) for it, left in chains.values()]
    return [o for o in shown if o is not None]


async def _options(turn: Turn, origins: list[str], destinations: list[str], day: date,
                   pax: int) -> tuple[list[Shown], SearchResult]:
    """Direct flights first; local connections beside them where no direct flight serves the route, or where
    they are faster or cheaper (services.connections decides). A return is priced in the outbound's currency."""
    outbound = turn.draft.picks_of(0) if turn.draft.leg == 1 else []
    currency = outbound[0].currency if outbound else None
    result = await turn.svc.flights.search(origins, destinations, day, pax)
    shown = [_priced([o.flight], o.seats_left, currency) for o in result.options]
    finder = turn.svc.connections
    if finder is not None and result.source_label == LOCAL_LABEL:
        found = await asyncio.gather(*(finder.find(origins, destinations, day, pax, cabin)
                                       for cabin in CONNECTION_CABINS))
        shown += _connections([r.options for r in found], currency)
    return [o for o in shown if o is not None], result


async def show_results(turn: Turn) -> None:
    """The options for the way being chosen (route, date, passengers); nearest dates when there are none."""
    d = turn.draft
    pax, leg = passengers(turn), d.leg
    origins, destinations, day = leg_route(turn, leg)
    options, result = await _options(turn, origins, destinations, day, pax)
    if leg == 0:
        counted = d.dump()
        await record_search(counted, turn.svc.clock.now())  # once per route/date/pax, for /stats conversion
        d.counted_search = counted.get("_counted_search")
    if d.sort == "price":
        options.sort(key=lambda o: (min(o.total(c) for c in o.fares), o.flights[0].departs_at))
    header = _header(turn, leg, day, pax, result)
    if not options:
        await _no_flights(turn, header, leg, day)
        return
    d.flight_ids = [o.key for o in options]
    pages = (len(options) + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(d.page, 0), pages - 1)
    shown = options[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
    lines, buttons = [header, ""], []
    for index, option in enumerate(shown, start=page * PAGE_SIZE + 1):
        lines.append(_option_text(turn, index, option, pax))
        buttons.append([
            turn.button(f"{index}. {cabin_name(cabin)} {money(option.total(cabin) * pax, option.currency)}",
                        "fl", pick_arg(option.key, cabin))
            for cabin in option.fares if option.left.get(cabin, 0) >= pax
        ])
    lines += [f"ℹ️ {cabin_name(cabin)}: {esc(text)}" for cabin, text in fare_rules.conditions_by_cabin(
        [(cabin, option.flights[0]) for option in shown for cabin in option.fares])]
    order = d.sort
    controls = [turn.button(_("⏱ By time") if order == "price" else _("💶 By price"), "sort",
                            "time" if order == "price" else "price")]
    if page > 0:
        controls.insert(0, turn.button(_("‹ Prev"), "pg", str(page - 1)))
    if page < pages - 1:
        controls.append(turn.button(_("Next ›"), "pg", str(page + 1)))
    buttons.append(controls)
    buttons.append([turn.button(_("◀ Day before"), "shift", "-1"), turn.button(_("Day after ▶"), "shift", "1")])
    if leg == 1:
        buttons.append([turn.button(_("◀ Back to outbound flights"), "out")])
    lines.append(_("Page {page} of {pages} · tap a fare to choose it.").format(page=page + 1, pages=pages))
    turn.say("\n".join(lines), InlineKeyboardMarkup(buttons), edit=turn.redraw)


def _header(turn: Turn, leg: int, day: date, pax: int, result: SearchResult) -> str:
    d = turn.draft
    origin, destination = leg_labels(turn, leg)
    way = ""
    if d.is_return:
        way = way_name(leg, 2) + " · "
    travellers = ngettext("{count} passenger", "{count} passengers", pax).format(count=pax)
    header = f"<b>{way}{esc(origin)} → {esc(destination)}</b>\n"
    if turn.svc.flights.live or result.notes:  # where fares come from matters only when there is a choice
        header += _("{day} · {passengers} · source: {source}").format(
            day=local_date(day), passengers=travellers, source=esc(translate(result.source_label)))
    else:
        header += _("{day} · {passengers}").format(day=local_date(day), passengers=travellers)
    if leg == 0 and d.is_return and d.return_date is not None:
        header += "\n" + _("Return on {day}: its flights come next.").format(day=local_date(d.return_date))
    if leg == 1:
        out = d.picks_of(0)
        if out:
            header += "\n" + _("Your outbound: {flights} · {fare}").format(
                flights=", ".join(p.flight_number for p in out), fare=money(sum(p.fare for p in out) * pax,
                                                                           out[0].currency))
    if pax > 1:
        header += "\n" + _("Prices are totals for all {count} passengers.").format(count=pax)
    for note in result.notes:
        header += f"\n⚠️ {esc(source_note(note))}"
    return header


def _option_text(turn: Turn, index: int, option: Shown, pax: int) -> str:
    fares = " · ".join(
        _("{cabin} {price} ({count} left)").format(cabin=cabin_name(c), price=money(option.total(c) * pax,
                                                                                     option.currency),
                                                   count=option.left.get(c, 0))
        for c in option.fares
    )
    if len(option.flights) == 1:
        return _direct_text(turn, index, option.flights[0]) + f"\n    {fares}{_terms(option.flights[0])}"
    return f"<b>{index}.</b> " + _connection_text(turn, option) + f"\n    {fares}"


def _tz(turn: Turn, code: str) -> str:
    airport = turn.svc.airports.get(code)
    return airport.tz if airport else "UTC"


def _direct_text(turn: Turn, index: int, f: Flight) -> str:
    otz, dtz = _tz(turn, f.origin), _tz(turn, f.destination)
    aircraft_type = turn.svc.aircraft.get(f.aircraft)
    aircraft = aircraft_type.name if aircraft_type else f.aircraft
    return (f"<b>{index}. {f.flight_number}</b> {f.origin} {local_time(f.departs_at, otz)} → {f.destination} "
            f"{local_time(f.arrives_at, dtz)}{day_shift(f.departs_at, otz, f.arrives_at, dtz)} · "
            f"{duration(f.duration_minutes)} · {esc(aircraft)}")


def _connection_text(turn: Turn, option: Shown) -> str:
    """"FO1 LHR 21:40 → DXB 08:30 (+1) · 2h 10m in Dubai · FO2 DXB 10:40 (+1) → SYD 06:55 (+2) · total 22h 15m,
    1 stop": every local time with its day counted from the departure day at the origin, as on a ticket."""
    assert option.itinerary is not None
    first = option.flights[0]
    start, start_tz = first.departs_at, _tz(turn, first.origin)
    parts = []
    for f, stop in itertools.zip_longest(option.flights, option.itinerary.layovers):
        otz, dtz = _tz(turn, f.origin), _tz(turn, f.destination)
        parts.append(f"<b>{f.flight_number}</b> {f.origin} {local_time(f.departs_at, otz)}"
                     f"{day_shift(start, start_tz, f.departs_at, otz)} → {f.destination} "
                     f"{local_time(f.arrives_at, dtz)}{day_shift(start, start_tz, f.arrives_at, dtz)}")
        if stop is not None:
            airport = turn.svc.airports.get(stop.airport)
            parts.append(_("{wait} in {city}").format(wait=duration(stop.minutes),
                                                      city=esc(airport.city if airport else stop.airport)))
    stops = len(option.flights) - 1
    total = _("total {time}, {stops}").format(time=duration(option.itinerary.total_minutes), stops=ngettext(
        "{count} stop", "{count} stops", stops).format(count=stops))
    return " · ".join(parts) + " · " + total


def _terms(f: Flight) -> str:
    terms = []  # what a live fare includes (bags, refunds); local flights leave both unset
    if f.checked_bags is not None:
        terms.append(ngettext("{count} checked bag", "{count} checked bags", f.checked_bags).format(
            count=f.checked_bags) if f.checked_bags else _("no checked bag"))
    if f.refundable is not None:
        terms.append(_("refundable") if f.refundable else _("non-refundable"))
    return f" · {', '.join(terms)}" if terms else ""


async def _no_flights(turn: Turn, header: str, leg: int, day: date) -> None:
    d = turn.draft
    origins, destinations, _day = leg_route(turn, leg)
    today = turn.today(leg_tz(turn, leg))
    first = d.date if leg == 1 and d.date else today
    nearby = await turn.svc.flights.nearest_dates(origins, destinations, day, max(today, first),
                                                  last_bookable_day(turn), passengers=passengers(turn))
    action = "day" if leg == 0 else "rday"
    if nearby:
        buttons = [[turn.button(short_date(n), action, n.strftime("%Y%m%d")) for n in nearby[:4]]]
        turn.say(f"{header}\n\n" + _("No flights with {count} free seat(s) on this day. These nearby dates "
                                      "have flights:").format(count=d.pax), InlineKeyboardMarkup(buttons))
    else:
        turn.say(f"{header}\n\n" + _("No flights on this route within 3 days of that date. Try another date or "
                                      "route with /search."))
    # The nearby dates' buttons (or a typed date) answer the date question of this way; no prompt.
    turn.conv.step = Step.ASK_DATE if leg == 0 else Step.ASK_RETURN


async def on_sort(turn: Turn, arg: str) -> None:
    turn.draft.sort = "price" if arg == "price" else "time"
    turn.draft.page = 0
    turn.goto(Step.RESULTS, edit=True)


async def on_page(turn: Turn, arg: str) -> None:
    turn.draft.page = int(arg) if arg.lstrip("-").isdigit() else 0
    turn.goto(Step.RESULTS, edit=True)


async def on_shift_day(turn: Turn, arg: str) -> None:
    """◀ Day before / Day after ▶ of the way being chosen; a return never before the outbound."""
    d = turn.draft
    step = timedelta(days=1 if arg == "1" else -1)
    try:
        if d.leg == 0:
            day = travel_day(turn) + step
            check_travel_date(day, turn.today(origin_tz(turn)), last_bookable_day(turn))
            if d.return_date is not None and day > d.return_date:
                raise BadDate(_("The outbound can't be after your return ({day}).").format(
                    day=local_date(d.return_date)))
            d.date = day
        else:
            day = (d.return_date or travel_day(turn)) + step
            check_return_date(day, travel_day(turn), last_bookable_day(turn))
            d.return_date = day
    except BadDate as exc:
        turn.notice = str(exc)
        return
    d.page = 0
    turn.goto(Step.RESULTS)


async def on_outbound(turn: Turn, _arg: str) -> None:
    """◀ Back to outbound flights: choose the outbound again (its picks and held seats stay until replaced)."""
    turn.draft.leg = 0
    turn.draft.page = 0
    turn.goto(Step.RESULTS)


def source_note(note: SourceNote) -> str:
    """"Live fares unavailable (timed out); showing FlyO inventory." in the traveller's language."""
    source, fallback = translate(note.source), translate(LOCAL_LABEL)
    if note.reason is None:
        return _("No {source} for this route and day; showing {fallback}.").format(source=source, fallback=fallback)
    return _("{source} unavailable ({reason}); showing {fallback}.").format(
        source=source[:1].upper() + source[1:], reason=note.reason, fallback=fallback)
