"""What the seat map Mini App draws (issue #19): the draft's flights, each cabin to scale, and every seat's kind
and state — built here so the page and the chat's inline grid read one set of rules (layouts, holds, the
provider's blocked seats).

Seat states are as the traveller sees them: "mine" (held by this chat), "taken" (booked or held by anyone else,
or not on sale) and "free". The page is a view: it never decides; the confirm goes through the same atomic holds
as a tap (handlers.seat_app).
"""

from __future__ import annotations

from typing import Any

from core.formatting import cabin_name, local_day_time
from core.i18n import _, current_locale
from models.aircraft import CabinLayout
from models.conversation import Draft, Pick
from models.flight import Flight
from services.context import Services
from services.money import money
from services.seats import chat_holder

JSON = dict[str, Any]


def layout_view(layout: CabinLayout, states: dict[str, str]) -> JSON:
    """The cabin grid: column groups (an aisle between groups), rows with their features, and each seat as
    [code, kind, state]. `states`: seat → "mine" | "taken" for the seats that are not free."""
    exits, wings, legroom = set(layout.exit_rows), set(layout.wing_rows), set(layout.legroom_rows)
    kinds = {letter: layout.seat_kind(letter) for letter in layout.seat_letters()}
    return {
        "groups": layout.columns.split(),
        "rows": [{"row": row, "exit": row in exits, "wing": row in wings, "legroom": row in legroom,
                  "seats": [[f"{row}{letter}", kinds[letter], states.get(f"{row}{letter}", "free")]
                            for letter in layout.seat_letters()]}
                 for row in layout.rows()],
    }


async def segment_view(svc: Services, index: int, pick: Pick, flight: Flight | None, chat_id: int) -> JSON | None:
    """One flight of the draft as the page shows it; None when its flight or layout is gone."""
    if flight is None:
        return None
    layout, blocked = await svc.flights.layout(flight, pick.cabin)
    if layout is None:
        return None
    live = await svc.seats.taken(pick.flight_id, chat_holder(chat_id))
    states = {code: "taken" for code in blocked} | live
    airports = svc.airports
    aircraft = svc.aircraft.get(flight.aircraft)
    fares = sorted(flight.fares.items(), key=lambda item: item[1])
    return {
        "index": index,
        "flight_id": pick.flight_id,
        "flight": flight.flight_number,
        "origin": flight.origin,
        "destination": flight.destination,
        "route": f"{airports.city(flight.origin)} → {airports.city(flight.destination)}",
        "departs": local_day_time(flight.departs_at, airports.tz(flight.origin)),
        "aircraft": aircraft.name if aircraft else flight.aircraft,
        "cabin": pick.cabin,
        "cabin_name": cabin_name(pick.cabin),
        "price": money(pick.fare, pick.currency),
        # Every class on the flight with its fare (the chosen one is what this trip pays per seat).
        "classes": [{"cabin": cabin, "name": cabin_name(cabin),
                     "price": money(pick.fare if cabin == pick.cabin else fare, flight.currency
                                    if cabin != pick.cabin else pick.currency),
                     "chosen": cabin == pick.cabin} for cabin, fare in fares],
        "picked": list(pick.seats),
        **layout_view(layout, states),
    }


def page_texts() -> dict[str, str]:
    """Everything the page itself says, in the traveller's language ({name}: filled in by the page)."""
    return {
        "title": _("Choose your seats"), "loading": _("Loading the seat map…"),
        "free": _("Free"), "yours": _("Yours"), "taken": _("Taken"), "legroom": _("Extra legroom"),
        "your_fare": _("{cabin} {price} per seat (your fare)"), "passenger": _("Passenger {number}: {seat}"),
        "choose": _("choose a seat"), "map": _("Seat map, {cabin}, {flight}"),
        "front": _("{cabin} · front of the aircraft"), "exit": _("Exit row"), "seat": _("Seat {seat}"),
        "window": _("window"), "aisle": _("aisle"), "middle": _("middle"), "exit_row": _("exit row"),
        "state_yours": _("yours"), "state_taken": _("taken"), "state_free": _("free"),
        "confirm": _("Confirm seats"), "confirm_count": _("Confirm seats ({done}/{total})"),
        "holding": _("Holding your seats…"), "freed": _("{seat} is free again."),
        "is_taken": _("{seat} is taken. Please choose a free seat."),
        "all_seated": _("Every passenger has a seat. Tap one of the chosen seats to free it first."),
        "next_flight": _("Now the seats on the next flight."),
        "lost": _("{seats} was just taken by another traveller. Please choose again."),
        "expired": _("This page has expired. Open it again from the chat."),
        "outdated": _("This seat map is out of date. Return to the chat."),
        "offline": _("FlyO could not be reached. Check your connection; trying again…"),
        "check": _("Please check your seats."), "held": _("Your seats are held. Return to the chat."),
    }


async def seat_map_view(svc: Services, draft: Draft, chat_id: int, flow: str) -> JSON:
    """The whole page's data: one segment per flight of the draft (a connection or a return has several)."""
    segments = []
    for index, pick in enumerate(draft.picks):
        view = await segment_view(svc, index, pick, await svc.flights.get(pick.flight_id), chat_id)
        if view is not None:
            segments.append(view)
    return {"flow": flow, "lang": current_locale().split("_")[0], "texts": page_texts(),
            "passengers": len(draft.picks[0].seats) if draft.picks else 0,
            "hold_minutes": svc.settings.HOLD_MINUTES, "segments": segments,
            "complete": len(segments) == len(draft.picks)}
