"""The booking flow as data: for each step, what it shows, what typed text does and which buttons it has.

The router (handlers.router) only reads this table. A step handler never calls another step: it changes
the draft and moves on with `turn.goto(Step.X)`; the router then shows step X with its `prompt`. This
module is the only one that imports the step modules (search, seats, passengers, review, payment).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from core.i18n import N_, _, translate
from handlers import (
    cancel_card,
    disruption,
    flight_cards,
    laps,
    passengers,
    payment,
    results,
    return_trip,
    review,
    saved_people,
    search,
    seats,
)
from handlers.turn import Turn
from models.conversation import Step

Prompt = Callable[[Turn], Awaitable[None]]
OnText = Callable[[Turn, str], Awaitable[None]]
Action = Callable[[Turn, str], Awaitable[None]]  # a button: (turn, the arg of "flow:action:arg")

DEFAULT_HINT = N_("Send /search to find a flight, or type it in one line: <code>LHR JFK 15 Dec 2</code>.")


async def _idle(turn: Turn) -> None:
    turn.say(_("Send /search to find a flight, or /mybookings to see your bookings."))


def go(step: Step, *, edit: bool = False) -> Action:
    """A button that only moves to `step` (e.g. "◀ Back to flights")."""
    async def run(turn: Turn, _arg: str) -> None:
        turn.goto(step, edit=edit)
    return run


def no_arg(handler: Prompt) -> Action:
    async def run(turn: Turn, _arg: str) -> None:
        await handler(turn)
    return run


@dataclass(frozen=True)
class StepRow:
    prompt: Prompt  # says what the step needs (also after a stale button or stray text)
    text: OnText | None = None  # typed text; None: a whole one-line search, else the hint
    buttons: dict[str, Action] = field(default_factory=dict)  # action → handler, valid in this step only
    hint: str = DEFAULT_HINT  # for text the step doesn't take (marked with N_, translated where shown)
    prompt_after_hint: bool = True


FLOW: dict[Step, StepRow] = {
    Step.IDLE: StepRow(_idle, prompt_after_hint=False),
    Step.ASK_ORIGIN: StepRow(search.prompt_origin, search.on_origin_text, {"org": search.on_origin_pick}),
    Step.ASK_DESTINATION: StepRow(search.prompt_destination, search.on_destination_text,
                                  {"dst": search.on_destination_pick, "bk": go(Step.ASK_ORIGIN)}),
    Step.ASK_DATE: StepRow(search.prompt_date, search.on_date_text,
                           {"cal": search.on_calendar, "day": search.on_date_pick, "bk": go(Step.ASK_DESTINATION)}),
    Step.ASK_TRIP: StepRow(return_trip.prompt_trip, return_trip.on_trip_text,
                           {"trip": return_trip.on_trip, "bk": go(Step.ASK_DATE)}),
    Step.ASK_RETURN: StepRow(return_trip.prompt_return, return_trip.on_return_text,
                             {"rcal": return_trip.on_return_calendar, "rday": return_trip.on_return_pick,
                              "bk": go(Step.ASK_TRIP)}),
    Step.ASK_PASSENGERS: StepRow(search.prompt_passengers, search.on_passengers,
                                 {"px": search.on_passengers, "bk": search.on_back_from_passengers}),
    Step.RESULTS: StepRow(results.show_results, None, {
        "day": search.on_date_pick, "rday": return_trip.on_return_pick, "sort": results.on_sort, "pg": results.on_page,
        "shift": results.on_shift_day, "out": results.on_outbound, "fl": seats.on_flight_pick,
    }, hint=N_("Tap a fare to choose it, or send a new search like <code>LHR JFK 15 Dec 2</code>.")),
    Step.SEATS: StepRow(seats.show_seat_map, seats.on_seat_text, {
        "s": seats.on_seat, "x": seats.on_taken, "sp": seats.on_seat_page, "auto": no_arg(seats.on_auto),
        "sd": no_arg(seats.on_seats_done), "back": seats.on_back,
    }, hint=seats.HINT),
    Step.PAX: StepRow(passengers.ask_next, passengers.on_answer, {
        "skip": no_arg(passengers.on_skip), "kv": no_arg(passengers.on_keep_value), "pb": passengers.on_back,
        "lap": laps.on_lap,  # an infant: on a lap or in a seat
        "sv": saved_people.on_saved, "svn": saved_people.on_someone_new, "ce": saved_people.on_contact_email,
    }),
    Step.REVIEW: StepRow(review.show_review, None, {
        "rv": review.on_review, "agree": review.on_agree,  # agree: consent to a re-priced fare
    }, hint=N_("Use the buttons under the summary to confirm or change your booking.")),
    Step.BOOKED: StepRow(payment.show_status, prompt_after_hint=False),
}

# Buttons valid whatever the step, with flow "*" in their data (notifications send them; they carry their own
# target): "*:pay:<booking id>", "*:new:".
ANYWHERE: dict[str, Action] = {"pay": payment.on_pay, "new": search.begin,
                               "cx": cancel_card.on_yes, "keep": cancel_card.on_keep,  # the cancellation card
                               "fsy": flight_cards.on_yes, "fsn": flight_cards.on_no,  # an admin's flight status card
                               "rbk": disruption.on_rebook, "rbr": disruption.on_refund,  # a disrupted flight's choice
                               "dsc": search.on_discard, "stay": search.on_stay}  # /search mid-booking

def hint(step: Step) -> str:
    """The step's hint in the update's language (the table holds the English, marked with N_)."""
    return translate(FLOW[step].hint)


NEW_SEARCH: Callable[[Turn, str], Awaitable[None]] = search.begin  # /search [query]
ONE_LINE: Callable[[Turn, str], Awaitable[bool]] = search.one_line  # a whole search typed in a step without text
ON_CONTACT: Prompt = passengers.on_contact  # a shared contact (the phone question)
