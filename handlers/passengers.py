"""Passenger details, one question at a time; a wrong answer is explained and the question repeated."""

from __future__ import annotations

from telegram import (
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from core.formatting import local_date
from core.i18n import N_, _
from handlers.laps import ask_lap, birth_date_given, lap_pending, settle_laps
from handlers.render import esc
from handlers.saved_people import email_rows, phone_row, traveller_rows
from handlers.turn import Turn
from models.conversation import Person, Step
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

SKIP_WORDS = {"skip", "no", "none", "-", "/skip", "⏭ skip"}
SKIP = N_("⏭ Skip")
BACK = N_("◀ Back")


def _skipped(text: str) -> bool:
    answer = text.strip().casefold()
    label = _(SKIP).casefold()  # the Skip button in the traveller's language, tapped or typed without its emoji
    return answer in SKIP_WORDS or answer in (label, label.lstrip("⏭").strip())


def _people(turn: Turn) -> list[Person]:
    return turn.draft.persons()


def next_question(turn: Turn) -> tuple[int, str] | None:
    for index, person in enumerate(_people(turn)):
        for field in fields_for(index):
            if not person.answered(field):
                return index, field
            if field == "dob" and lap_pending(turn, person):
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
        if await settle_laps(turn):
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
    # Asked again (from the review, or ◀ Back): what it was, and a button to keep it, on the question itself.
    now, keep = "", []
    if turn.draft.editing:
        was = turn.draft.old_answer
        shown = (format_phone(was) if field == "phone" else was) if was else _("(none)")
        now, keep = _("Now: <b>{value}</b>").format(value=esc(shown)) + "\n", [[turn.button(_("✅ Keep"), "kv")]]
    if field == "name":
        saved = [] if turn.draft.editing else await traveller_rows(turn)
        turn.say(now + _("👤 <b>Passenger {number} of {count}</b>: full name as in the passport (given and family "
                         "name), e.g. Ada Lovelace.").format(number=index + 1, count=turn.draft.pax)
                 + ("\n" + _("Or tap someone you booked for before:") if saved else ""),
                 InlineKeyboardMarkup([*keep, *saved, back]))
    elif field == "dob":
        turn.say(now + _("🎂 Date of birth of <b>{name}</b>? (YYYY-MM-DD or DD.MM.YYYY)").format(name=name),
                 InlineKeyboardMarkup([*keep, back]))
    elif field == "lap":
        ask_lap(turn, name, back)
    elif field == "email":
        turn.say(now + _("📧 E-mail address for the confirmation and tickets of this booking?"),
                 InlineKeyboardMarkup([*keep, *await email_rows(turn), back]))
    elif field == "phone":
        if now:  # the reply keyboard can't carry an inline Keep: it goes above, in a message of its own
            turn.say(now.strip(), InlineKeyboardMarkup(keep))
        turn.draft.asked_phone = True
        saved_phone = await phone_row(turn)  # the last booking's number, one tap
        keyboard = ReplyKeyboardMarkup(
            [[KeyboardButton(_("📱 Share my number"), request_contact=True)], *([saved_phone] if saved_phone else []),
             [KeyboardButton(_(SKIP)), KeyboardButton(_(BACK))]],
            resize_keyboard=True, one_time_keyboard=True,
        )
        turn.say(_("📱 Phone number for flight updates (optional): tap <b>Share my number</b>, type it with the "
                   "country code (+44 20 7946 0958), or tap Skip."), keyboard)
    else:
        turn.say(now + _("🛂 Passport or ID number of <b>{name}</b> (optional; you can also give it at "
                         "check-in).").format(name=name),
                 InlineKeyboardMarkup([*keep, [turn.button(_(SKIP), "skip")], back]))


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
            was = turn.draft.old_answer if turn.draft.editing else None
            born = parse_birth_date(text, turn.today())
            person.dob = born.isoformat()
            if ambiguous_birth_date(text):
                turn.say(_("📅 Read as <b>{day}</b> (day first). If that's wrong, you can change it from the "
                           "review with Edit passenger.").format(day=esc(local_date(born))))
            await birth_date_given(turn, index, was)
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


async def on_back(turn: Turn, arg: str = "") -> None:
    """◀ Back: the question before, with its answer offered to keep; from the first one, the seat map."""
    d = turn.draft
    if arg and arg != f"{d.pi}:{d.field}":  # the Back of a question already left
        turn.notice = _("That button is from an earlier step; the current question is the newest message.")
        return
    if d.editing and d.field in Person.model_fields and d.pi < len(_people(turn)):  # further back: it stays as it was
        setattr(_people(turn)[d.pi], d.field, d.old_answer)
    d.editing, d.old_answer = False, None
    previous = _previous_question(turn, d.pi, d.field or "name") if d.field else None
    if previous is None:
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
