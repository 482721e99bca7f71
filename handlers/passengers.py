"""Passenger details, one question at a time; a wrong answer is explained and the question repeated."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove

from core.formatting import local_date
from core.i18n import N_, _
from handlers.render import esc
from handlers.turn import Turn
from models.conversation import Person, Step
from services.passengers import (
    BadAnswer,
    age_on,
    ambiguous_birth_date,
    fields_for,
    format_phone,
    parse_birth_date,
    parse_document_number,
    parse_email,
    parse_full_name,
    parse_phone,
)

SKIP_WORDS = {"skip", "no", "none", "-", "/skip", "⏭ skip"}
SKIP = N_("⏭ Skip")


def _skipped(text: str) -> bool:
    answer = text.strip().casefold()
    return answer in SKIP_WORDS or answer == _(SKIP).casefold()  # the Skip button in the traveller's language


def _people(turn: Turn) -> list[Person]:
    people = turn.draft.people
    while len(people) < (turn.draft.pax or 0):
        people.append(Person())
    turn.draft.people = people  # stored from now on, even if it was the default list
    return people


def next_question(turn: Turn) -> tuple[int, str] | None:
    for index, person in enumerate(_people(turn)):
        for field in fields_for(index):
            if not person.answered(field):
                return index, field
    return None


def _reply_keyboard_shown(turn: Turn) -> bool:
    """Whether the phone question's reply keyboard is showing (and is now being removed)."""
    shown = turn.draft.asked_phone
    turn.draft.asked_phone = False
    return shown


async def ask_next(turn: Turn) -> None:
    """The next unanswered question; the review once every passenger is complete."""
    pending = next_question(turn)
    if pending is None:
        turn.goto(Step.REVIEW)
        return
    index, field = pending
    turn.conv.step = Step.PAX
    turn.draft.pi, turn.draft.field = index, field
    person = _people(turn)[index]
    name = esc(person.name or "")
    if turn.draft.editing:  # asked again from the review: what it was, and a button to keep it
        was = turn.draft.old_answer
        shown = (format_phone(was) if field == "phone" else was) if was else _("(none)")
        turn.say(_("Now: <b>{value}</b>").format(value=esc(shown)),
                 InlineKeyboardMarkup([[turn.button(_("✅ Keep"), "kv")]]))
    if field == "name":
        turn.say(_("👤 <b>Passenger {number} of {count}</b>: full name as in the passport (given and family name), "
                   "e.g. Ada Lovelace.").format(number=index + 1, count=turn.draft.pax),
                 ReplyKeyboardRemove() if _reply_keyboard_shown(turn) else None)
    elif field == "dob":
        turn.say(_("🎂 Date of birth of <b>{name}</b>? (YYYY-MM-DD or DD.MM.YYYY)").format(name=name))
    elif field == "email":
        turn.say(_("📧 E-mail address for the confirmation and tickets of this booking?"))
    elif field == "phone":
        turn.draft.asked_phone = True
        keyboard = ReplyKeyboardMarkup(
            [[KeyboardButton(_("📱 Share my number"), request_contact=True)], [KeyboardButton(_(SKIP))]],
            resize_keyboard=True, one_time_keyboard=True,
        )
        turn.say(_("📱 Phone number for flight updates (optional): tap <b>Share my number</b>, type it with the "
                   "country code (+44 20 7946 0958), or tap Skip."), keyboard)
    else:
        if _reply_keyboard_shown(turn):  # the reply keyboard goes with a message of its own
            phone = _people(turn)[index].phone if index == 0 else None
            turn.say(_("📱 Phone number saved: {phone}.").format(phone=esc(format_phone(phone))) if phone
                     else _("📱 OK, no phone number."), ReplyKeyboardRemove())
        turn.say(_("🛂 Passport or ID number of <b>{name}</b> (optional; you can also give it at check-in).").format(
            name=name), InlineKeyboardMarkup([[turn.button(_(SKIP), "skip")]]))


async def on_answer(turn: Turn, text: str) -> None:
    index, field = turn.draft.pi, turn.draft.field or "name"
    person = _people(turn)[index]
    if turn.draft.date is None:
        raise ValueError("the draft has no travel date")
    departure = turn.draft.date
    try:
        if field == "name":
            person.name = parse_full_name(text)
            if person.name != " ".join(text.split()):  # as typed, the next question already shows it
                turn.say(_("✅ Saved as <b>{name}</b>.").format(name=esc(person.name)))
        elif field == "dob":
            born = parse_birth_date(text, turn.today())
            person.dob = born.isoformat()
            if ambiguous_birth_date(text):
                turn.say(_("📅 Read as <b>{day}</b> (day first). If that's wrong, you can change it from the "
                           "review with Edit passenger.").format(day=esc(local_date(born))))
            if age_on(born, departure) < 2:
                turn.say(_("Noted: {name} travels as an infant (under 2 on the day of travel).").format(
                    name=esc(person.name)))
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
