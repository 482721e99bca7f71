"""Passenger details, one question at a time; a wrong answer is explained and the question repeated."""

from __future__ import annotations

from datetime import date

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from core.formatting import local_date
from core.i18n import N_, _
from handlers.render import esc, money
from handlers.turn import Turn
from models.conversation import Person, Step
from services.infants import infant_fare, is_adult, is_infant
from services.passengers import (
    BadAnswer,
    ambiguous_birth_date,
    fields_for,
    format_phone,
    parse_birth_date,
    parse_document_number,
    parse_email,
    parse_full_name,
    parse_phone,
)
from services.seats import chat_holder

SKIP_WORDS = {"skip", "no", "none", "-", "/skip", "⏭ skip"}
SKIP = N_("⏭ Skip")
BACK = N_("◀ Back")


def _skipped(text: str) -> bool:
    answer = text.strip().casefold()
    return answer in SKIP_WORDS or answer == _(SKIP).casefold()  # the Skip button in the traveller's language


def _people(turn: Turn) -> list[Person]:
    people = turn.draft.people
    while len(people) < (turn.draft.pax or 0):
        people.append(Person())
    turn.draft.people = people  # stored from now on, even if it was the default list
    return people


def _last_day(turn: Turn) -> date | None:
    """The day of the trip's last way (an infant must be under 2 on it to fly on a lap)."""
    d = turn.draft
    return (d.return_date if d.is_return and d.return_date else None) or d.date


def _lap_pending(turn: Turn, person: Person) -> bool:
    """Whether to ask "on a lap or in a seat?": an infant whose answer is not in yet."""
    last = _last_day(turn)
    return (person.dob is not None and not person.answered("on_lap") and last is not None
            and is_infant(date.fromisoformat(person.dob), last))


def next_question(turn: Turn) -> tuple[int, str] | None:
    for index, person in enumerate(_people(turn)):
        for field in fields_for(index):
            if not person.answered(field):
                return index, field
            if field == "dob" and _lap_pending(turn, person):
                return index, "lap"
    return None


def _previous_question(turn: Turn, index: int, field: str) -> tuple[int, str] | None:
    """The question before (`index`, `field`): the lap question goes back to its birth date."""
    if field == "lap":
        return index, "dob"
    order = [(i, f) for i in range(len(_people(turn))) for f in fields_for(i)]
    at = order.index((index, field)) if (index, field) in order else 0
    return order[at - 1] if at > 0 else None


def _reply_keyboard_shown(turn: Turn) -> bool:
    """Whether the phone question's reply keyboard is showing (and is now being removed)."""
    shown = turn.draft.asked_phone
    turn.draft.asked_phone = False
    return shown


def _remove_reply_keyboard(turn: Turn) -> None:
    """The phone question's keyboard goes with a message of its own, so the next question can carry buttons."""
    if not _reply_keyboard_shown(turn):
        return
    first = _people(turn)[0]
    if not first.answered("phone"):
        text = _("◀ Back.")
    elif first.phone:
        text = _("📱 Phone number saved: {phone}.").format(phone=esc(format_phone(first.phone)))
    else:
        text = _("📱 OK, no phone number.")
    turn.say(text, ReplyKeyboardRemove())


async def ask_next(turn: Turn) -> None:
    """The next unanswered question; the review once every passenger is complete."""
    pending = next_question(turn)
    if pending is None:
        _remove_reply_keyboard(turn)
        if await _settle_laps(turn):
            turn.goto(Step.REVIEW)
        return
    index, field = pending
    turn.conv.step = Step.PAX
    turn.draft.pi, turn.draft.field = index, field
    if field != "phone":
        _remove_reply_keyboard(turn)
    person = _people(turn)[index]
    name = esc(person.name or "")
    back = [turn.button(_(BACK), "pb", f"{index}:{field}")]  # this question's: a double tap goes back once
    if turn.draft.editing:  # asked again (from the review, or ◀ Back): what it was, and a button to keep it
        was = turn.draft.old_answer
        shown = (format_phone(was) if field == "phone" else was) if was else _("(none)")
        turn.say(_("Now: <b>{value}</b>").format(value=esc(shown)),
                 InlineKeyboardMarkup([[turn.button(_("✅ Keep"), "kv")]]))
    if field == "name":
        turn.say(_("👤 <b>Passenger {number} of {count}</b>: full name as in the passport (given and family name), "
                   "e.g. Ada Lovelace.").format(number=index + 1, count=turn.draft.pax), InlineKeyboardMarkup([back]))
    elif field == "dob":
        turn.say(_("🎂 Date of birth of <b>{name}</b>? (YYYY-MM-DD or DD.MM.YYYY)").format(name=name),
                 InlineKeyboardMarkup([back]))
    elif field == "lap":
        _ask_lap(turn, name, back)
    elif field == "email":
        turn.say(_("📧 E-mail address for the confirmation and tickets of this booking?"),
                 InlineKeyboardMarkup([back]))
    elif field == "phone":
        turn.draft.asked_phone = True
        keyboard = ReplyKeyboardMarkup(
            [[KeyboardButton(_("📱 Share my number"), request_contact=True)],
             [KeyboardButton(_(SKIP)), KeyboardButton(_(BACK))]],
            resize_keyboard=True, one_time_keyboard=True,
        )
        turn.say(_("📱 Phone number for flight updates (optional): tap <b>Share my number</b>, type it with the "
                   "country code (+44 20 7946 0958), or tap Skip."), keyboard)
    else:
        turn.say(_("🛂 Passport or ID number of <b>{name}</b> (optional; you can also give it at check-in).").format(
            name=name), InlineKeyboardMarkup([[turn.button(_(SKIP), "skip")], back]))


def _ask_lap(turn: Turn, name: str, back: list[InlineKeyboardButton]) -> None:
    d = turn.draft
    percent, currency = turn.svc.settings.INFANT_FARE_PERCENT, d.currency()
    lap = money(sum(infant_fare(p.fare, percent) for p in d.picks), currency)
    seat = money(d.fare_per_passenger(), currency)
    turn.say(_("👶 <b>{name}</b> is under 2 for the whole trip. Infants can fly on an adult's lap, without a seat, "
               "at {percent}% of the fare ({lap}), or in a seat of their own at the full fare ({seat}). "
               "Each adult can hold one infant.").format(name=name, percent=percent, lap=lap, seat=seat),
             InlineKeyboardMarkup([[turn.button(_("👶 On a lap · {price}").format(price=lap), "lap", "1")],
                                   [turn.button(_("💺 Own seat · {price}").format(price=seat), "lap", "0")], back]))


async def on_answer(turn: Turn, text: str) -> None:
    index, field = turn.draft.pi, turn.draft.field or "name"
    person = _people(turn)[index]
    if turn.draft.date is None:
        raise ValueError("the draft has no travel date")
    if text.strip() == _(BACK):  # the phone question's reply keyboard button
        await on_back(turn)
        return
    if field == "lap":
        turn.say(_("Please tap <b>On a lap</b> or <b>Own seat</b>."))
        await ask_next(turn)
        return
    try:
        if field == "name":
            person.name = parse_full_name(text)
            if person.name != " ".join(text.split()):  # as typed, the next question already shows it
                turn.say(_("✅ Saved as <b>{name}</b>.").format(name=esc(person.name)))
        elif field == "dob":
            await _on_birth_date(turn, index, text)
        elif field == "email":
            person.email = parse_email(text)
        elif field == "phone":
            person.phone = None if _skipped(text) else parse_phone(text)
        elif field == "doc":
            person.doc = None if _skipped(text) else parse_document_number(text)
    except BadAnswer as exc:
        turn.say(f"⚠️ {esc(exc)}")
        await ask_next(turn)
        return
    turn.draft.editing, turn.draft.old_answer = False, None  # answered: a later question has no "Keep"
    await ask_next(turn)


async def _on_birth_date(turn: Turn, index: int, text: str) -> None:
    d = turn.draft
    born = parse_birth_date(text, turn.today())
    person = _people(turn)[index]
    was = d.old_answer if d.editing else None
    person.dob = born.isoformat()
    if ambiguous_birth_date(text):
        turn.say(_("📅 Read as <b>{day}</b> (day first). If that's wrong, you can change it from the "
                   "review with Edit passenger.").format(day=esc(local_date(born))))
    if was != person.dob and person.answered("on_lap"):  # a new birth date: the lap is decided again
        await _set_lap(turn, index, None)
    last = _last_day(turn)
    if last is None or not is_infant(born, last) or person.answered("on_lap"):
        return
    flights = [await turn.svc.flights.get(p.flight_id) for p in d.picks]
    name = esc(person.name)
    if any(f is None or f.source != "local" for f in flights):
        await _set_lap(turn, index, False)
        turn.say(_("Noted: {name} is under 2. On this airline's fare infants need a seat of their own, at the "
                   "full fare.").format(name=name))
    elif len(_people(turn)) == 1:
        await _set_lap(turn, index, False)
        turn.say(_("Noted: {name} is under 2 and travels in a seat of their own (an infant flies on a lap only "
                   "with an adult of the same booking).").format(name=name))
    elif _lap_capacity(turn, index) < 1:
        await _set_lap(turn, index, False)
        turn.say(_("Noted: {name} is under 2. Every adult already has an infant on the lap, so {name} gets a "
                   "seat of their own at the full fare.").format(name=name))


def _lap_capacity(turn: Turn, index: int) -> int:
    """Laps still free for passenger `index`: adults (16+) and passengers not yet dated, minus the laps taken."""
    d = turn.draft
    first = d.date
    assert first is not None
    people = [p for i, p in enumerate(_people(turn)) if i != index]
    maybe_adults = sum(1 for p in people if p.dob is None
                       or (not p.on_lap and is_adult(date.fromisoformat(p.dob), first)))
    return maybe_adults - sum(1 for p in people if p.on_lap)


async def _set_lap(turn: Turn, index: int, lap: bool | None) -> None:
    """Put passenger `index` on a lap (their seat on every flight is freed) or in a seat (one more to pick);
    None: not decided (asked again)."""
    d = turn.draft
    person = _people(turn)[index]
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
    if arg == "1" and _lap_capacity(turn, d.pi) < 1:
        turn.notice, turn.alert = _("Each adult can hold one infant; every adult already has one."), True
        return
    await _set_lap(turn, d.pi, arg == "1")
    name = d.people[d.pi].name or ""
    turn.notice = (_("{name} flies on a lap.") if arg == "1" else _("{name} gets a seat.")).format(name=name)
    await ask_next(turn)


async def _settle_laps(turn: Turn) -> bool:
    """Every birth date known: one lap infant per adult at most, and only infants on a lap. A passenger taken off
    a lap needs a seat: then the seat map (False), else on to the review (True)."""
    d = turn.draft
    first, last = d.date, _last_day(turn)
    assert first is not None and last is not None
    people = _people(turn)
    adults = sum(1 for p in people if p.dob and not p.on_lap and is_adult(date.fromisoformat(p.dob), first))
    for index, person in enumerate(people):
        too_old = person.on_lap and not is_infant(date.fromisoformat(person.dob or ""), last)
        if person.on_lap and (too_old or adults < 1):
            await _set_lap(turn, index, False)
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


async def on_back(turn: Turn, arg: str = "") -> None:
    """◀ Back: the question before, with its answer offered to keep; from the first one, the seat map."""
    d = turn.draft
    if arg and arg != f"{d.pi}:{d.field}":  # the Back of a question already left
        turn.notice = _("That button is from an earlier step; the current question is the newest message.")
        return
    previous = _previous_question(turn, d.pi, d.field or "name") if d.field else None
    if previous is None:
        d.editing, d.old_answer = False, None
        d.seg, d.seat_page = max(len(d.picks) - 1, 0), 0
        _remove_reply_keyboard(turn)
        turn.goto(Step.SEATS)
        return
    index, field = previous
    d.ask_again(index, field)
    await ask_next(turn)


async def on_contact(turn: Turn) -> None:
    contact = turn.contact
    if turn.draft.field != "phone" or contact is None:
        turn.say(_("Thanks, but I wasn't asking for a phone number just now."))
        return
    if contact.user_id is not None and contact.user_id != turn.user_id:
        turn.say(_("That is someone else's contact. Please share your own number, type it, or tap Skip."))
        return
    await on_answer(turn, contact.phone_number)


async def on_keep_value(turn: Turn) -> None:
    """"✅ Keep" under a detail asked again from the review: the old answer stands; back to the review."""
    d = turn.draft
    if not d.editing or d.field is None or d.pi >= len(d.people):
        turn.notice = _("This button is no longer active.")
        return
    setattr(_people(turn)[d.pi], d.field, d.old_answer)  # answered again, with what it was (None: skipped)
    d.editing, d.old_answer = False, None
    if _reply_keyboard_shown(turn):
        turn.say(_("✅ Kept."), ReplyKeyboardRemove())
    await ask_next(turn)


async def on_skip(turn: Turn) -> None:
    if turn.draft.field in ("phone", "doc"):
        await on_answer(turn, "skip")
    else:
        turn.notice = _("This answer is required.")
