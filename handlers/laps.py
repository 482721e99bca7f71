"""Infants on a lap, in the passenger questions: the question "on a lap or in a seat?", the seat a lap frees or
a seat taken back, and the check before the review (one lap per adult). The rules are services.infants'."""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.i18n import _
from handlers.render import esc, money
from handlers.turn import Turn
from models.conversation import Person, Step
from services.infants import infant_fare, is_infant, lap_holders
from services.seats import chat_holder


def last_day(turn: Turn) -> date | None:
    """The day of the trip's last way (an infant must be under 2 on it to fly on a lap)."""
    d = turn.draft
    return (d.return_date if d.is_return and d.return_date else None) or d.date


def lap_pending(turn: Turn, person: Person) -> bool:
    """Whether to ask "on a lap or in a seat?": an infant whose answer is not in yet."""
    last = last_day(turn)
    return (person.dob is not None and not person.answered("on_lap") and last is not None
            and is_infant(date.fromisoformat(person.dob), last))


def ask_lap(turn: Turn, name: str, back: list[InlineKeyboardButton]) -> None:
    d = turn.draft
    percent, currency = turn.svc.settings.INFANT_FARE_PERCENT, d.currency()
    lap = money(sum(infant_fare(p.fare, percent) for p in d.picks), currency)
    seat = money(d.fare_per_passenger(), currency)
    turn.say(_("👶 <b>{name}</b> is under 2 for the whole trip. Infants can fly on an adult's lap, without a seat, "
               "at {percent}% of the fare ({lap}), or in a seat of their own at the full fare ({seat}). "
               "Each adult can hold one infant.").format(name=name, percent=percent, lap=lap, seat=seat),
             InlineKeyboardMarkup([[turn.button(_("👶 On a lap · {price}").format(price=lap), "lap", "1")],
                                   [turn.button(_("💺 Own seat · {price}").format(price=seat), "lap", "0")], back]))


async def birth_date_given(turn: Turn, index: int, was: str | None) -> None:
    """Passenger `index` has a (new) birth date: a changed one decides the lap again; an infant who can't have a
    lap (alone, an airline's fare, every adult holding one) gets a seat, and is told why."""
    d = turn.draft
    person = d.persons()[index]
    if was != person.dob and person.answered("on_lap"):
        await set_lap(turn, index, None)
    last = last_day(turn)
    if person.dob is None or last is None or not is_infant(date.fromisoformat(person.dob), last) \
            or person.answered("on_lap"):
        return
    flights = [await turn.svc.flights.get(p.flight_id) for p in d.picks]
    name = esc(person.name)
    if any(f is None or f.source != "local" for f in flights):
        await set_lap(turn, index, False)
        turn.say(_("Noted: {name} is under 2. On this airline's fare infants need a seat of their own, at the "
                   "full fare.").format(name=name))
    elif len(d.persons()) == 1:
        await set_lap(turn, index, False)
        turn.say(_("Noted: {name} is under 2 and travels in a seat of their own (an infant flies on a lap only "
                   "with an adult of the same booking).").format(name=name))
    elif lap_capacity(turn, index) < 1:
        await set_lap(turn, index, False)
        turn.say(_("Noted: {name} is under 2. Every adult already has an infant on the lap, so {name} gets a "
                   "seat of their own at the full fare.").format(name=name))


def lap_capacity(turn: Turn, index: int) -> int:
    """Laps still free for passenger `index`: adults (16+) and passengers not yet dated, minus the laps taken."""
    first = turn.draft.date
    assert first is not None
    others = [p for i, p in enumerate(turn.draft.persons()) if i != index]
    return lap_holders(_births(others), [bool(p.on_lap) for p in others], first) - sum(1 for p in others if p.on_lap)


def _births(people: list[Person]) -> list[date | None]:
    return [date.fromisoformat(p.dob) if p.dob else None for p in people]


async def set_lap(turn: Turn, index: int, lap: bool | None) -> None:
    """Put passenger `index` on a lap (their seat on every flight is freed) or in a seat (one more to pick);
    None: not decided (asked again)."""
    d = turn.draft
    person = d.persons()[index]
    where = d.seat_index(index)
    if person.on_lap and not lap:
        for pick in d.picks:
            pick.seats.insert(where, None)
    elif lap and not person.on_lap:
        for pick in d.picks:
            seat = pick.seats.pop(where) if where < len(pick.seats) else None
            if seat:
                await turn.svc.seats.release(pick.flight_id, seat, chat_holder(turn.chat_id))
    if lap is None:
        d.people[index] = Person(**{f: getattr(person, f) for f in person.model_fields_set if f != "on_lap"})
    else:
        person.on_lap = lap


async def on_lap(turn: Turn, arg: str) -> None:
    """"On a lap" or "Own seat", tapped under the lap question."""
    d = turn.draft
    if d.field != "lap" or arg not in ("0", "1") or d.pi >= len(d.people):
        turn.notice = _("This button is no longer active.")
        return
    if arg == "1" and lap_capacity(turn, d.pi) < 1:
        turn.notice, turn.alert = _("Each adult can hold one infant; every adult already has one."), True
        return
    await set_lap(turn, d.pi, arg == "1")
    name = d.people[d.pi].name or ""
    turn.notice = (_("{name} flies on a lap.") if arg == "1" else _("{name} gets a seat.")).format(name=name)
    turn.goto(Step.PAX)


async def settle_laps(turn: Turn) -> bool:
    """Every birth date known: one lap infant per adult at most, and only infants on a lap. A passenger taken off
    a lap needs a seat: then the seat map (False), else on to the review (True)."""
    d = turn.draft
    first, last = d.date, last_day(turn)
    assert first is not None and last is not None
    people = d.persons()
    adults = lap_holders(_births(people), [bool(p.on_lap) for p in people], first)  # every birth date is known
    for index, person in enumerate(people):
        too_old = person.on_lap and not is_infant(date.fromisoformat(person.dob or ""), last)
        if person.on_lap and (too_old or adults < 1):
            await set_lap(turn, index, False)
            turn.say(_("{name} needs a seat of their own: each adult (16 or over) can hold one infant on the "
                       "lap.").format(name=esc(person.name)))
        elif person.on_lap:
            adults -= 1
    missing = next((i for i, p in enumerate(d.picks) if not all(p.seats)), None)
    if missing is None:
        return True
    d.seg, d.seat_page = missing, 0
    turn.goto(Step.SEATS)
    return False
