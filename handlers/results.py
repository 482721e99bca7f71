"""The results step: the flights for the draft's route, date and passengers, sorted and paged."""

from __future__ import annotations

from datetime import date, timedelta

from telegram import InlineKeyboardMarkup

from core.formatting import local_date
from core.i18n import _, ngettext, translate
from handlers.render import cabin_name, day_shift, duration, esc, local_time, money
from handlers.trip import last_bookable_day, origin_tz, passengers, travel_day
from handlers.turn import Turn
from models.conversation import Step
from services.dates import BadDate, check_travel_date
from services.flights import LOCAL_LABEL, FlightOption, SourceNote
from services.stats import record_search

PAGE_SIZE = 4  # two lines each: four results and their buttons fit a phone screen


async def show_results(turn: Turn) -> None:
    """The flights for the draft's route, date and passengers; nearest dates when there are none."""
    d = turn.draft
    day, pax = travel_day(turn), passengers(turn)
    result = await turn.svc.flights.search(d.origin, d.destination, day, pax)
    counted = d.dump()
    await record_search(counted, turn.svc.clock.now())  # once per route/date/pax, for /stats conversion
    d.counted_search = counted.get("_counted_search")
    options = result.options
    if d.sort == "price":
        options.sort(key=lambda o: (min(o.flight.fares.values()), o.flight.departs_at))
    header = (f"<b>{esc(d.origin_label)} → {esc(d.destination_label)}</b>\n"
              + _("{day} · {passengers} · source: {source}").format(
                  day=local_date(day), passengers=ngettext("{count} passenger", "{count} passengers", pax)
                  .format(count=pax), source=esc(translate(result.source_label))))
    if pax > 1:
        header += "\n" + _("Prices are totals for all {count} passengers.").format(count=pax)
    for note in result.notes:
        header += f"\n⚠️ {esc(source_note(note))}"
    if not options:
        await _no_flights(turn, header, day)
        return
    d.flight_ids = [str(o.flight.id) for o in options]
    pages = (len(options) + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(d.page, 0), pages - 1)
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
    order = d.sort
    controls = [turn.button(_("⏱ By time") if order == "price" else _("💶 By price"), "sort",
                            "time" if order == "price" else "price")]
    if page > 0:
        controls.insert(0, turn.button(_("‹ Prev"), "pg", str(page - 1)))
    if page < pages - 1:
        controls.append(turn.button(_("Next ›"), "pg", str(page + 1)))
    buttons.append(controls)
    buttons.append([turn.button(_("◀ Day before"), "shift", "-1"), turn.button(_("Day after ▶"), "shift", "1")])
    lines.append(_("Page {page} of {pages} · tap a fare to choose seats.").format(page=page + 1, pages=pages))
    turn.say("\n".join(lines), InlineKeyboardMarkup(buttons), edit=turn.redraw)


def _option_text(turn: Turn, index: int, option: FlightOption, pax: int) -> str:
    f = option.flight
    origin, dest = turn.svc.airports.get(f.origin), turn.svc.airports.get(f.destination)
    otz, dtz = (origin.tz if origin else "UTC"), (dest.tz if dest else "UTC")
    aircraft_type = turn.svc.aircraft.get(f.aircraft)
    aircraft = aircraft_type.name if aircraft_type else f.aircraft
    fares = " · ".join(
        _("{cabin} {price} ({count} left)").format(cabin=cabin_name(c), price=money(v * pax, f.currency),
                                                   count=option.seats_left.get(c, 0))
        for c, v in f.fares.items()
    )
    terms = []  # what a live fare includes (bags, refunds); local flights leave both unset
    if f.checked_bags is not None:
        terms.append(ngettext("{count} checked bag", "{count} checked bags", f.checked_bags).format(
            count=f.checked_bags) if f.checked_bags else _("no checked bag"))
    if f.refundable is not None:
        terms.append(_("refundable") if f.refundable else _("non-refundable"))
    extra = f" · {', '.join(terms)}" if terms else ""
    return (f"<b>{index}. {f.flight_number}</b> {f.origin} {local_time(f.departs_at, otz)} → {f.destination} "
            f"{local_time(f.arrives_at, dtz)}{day_shift(f.departs_at, otz, f.arrives_at, dtz)} · "
            f"{duration(f.duration_minutes)} · {esc(aircraft)}\n    {fares}{extra}")


async def _no_flights(turn: Turn, header: str, day: date) -> None:
    d = turn.draft
    today = turn.today(origin_tz(turn))
    nearby = await turn.svc.flights.nearest_dates(d.origin, d.destination, day, today,
                                                  last_bookable_day(turn), passengers=passengers(turn))
    if nearby:
        buttons = [[turn.button(f"{n:%a %d %b}", "day", n.strftime("%Y%m%d")) for n in nearby[:4]]]
        turn.say(f"{header}\n\n" + _("No flights with {count} free seat(s) on this day. These nearby dates "
                                      "have flights:").format(count=d.pax), InlineKeyboardMarkup(buttons))
    else:
        turn.say(f"{header}\n\n" + _("No flights on this route within 3 days of that date. Try another date or "
                                      "route with /search."))
    turn.conv.step = Step.ASK_DATE  # the nearby dates' buttons (or a typed date) answer it; no prompt


async def on_sort(turn: Turn, arg: str) -> None:
    turn.draft.sort = "price" if arg == "price" else "time"
    turn.draft.page = 0
    turn.goto(Step.RESULTS, edit=True)


async def on_page(turn: Turn, arg: str) -> None:
    turn.draft.page = int(arg) if arg.lstrip("-").isdigit() else 0
    turn.goto(Step.RESULTS, edit=True)


async def on_shift_day(turn: Turn, arg: str) -> None:
    day = travel_day(turn) + timedelta(days=1 if arg == "1" else -1)
    today = turn.today(origin_tz(turn))
    try:
        check_travel_date(day, today, last_bookable_day(turn))
    except BadDate as exc:
        turn.notice = str(exc)
        return
    turn.draft.date = day
    turn.draft.page = 0
    turn.goto(Step.RESULTS)


def source_note(note: SourceNote) -> str:
    """"Live fares unavailable (timed out); showing FlyO inventory." in the traveller's language."""
    source, fallback = translate(note.source), translate(LOCAL_LABEL)
    if note.reason is None:
        return _("No {source} for this route and day; showing {fallback}.").format(source=source, fallback=fallback)
    return _("{source} unavailable ({reason}); showing {fallback}.").format(
        source=source[:1].upper() + source[1:], reason=note.reason, fallback=fallback)
