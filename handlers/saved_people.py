"""Saved travellers in the passenger questions (services.travellers): the people this user booked for before, as
buttons under "Passenger N" ("Ada Lovelace (you)"), and the contact e-mail and phone under their questions.
A tapped traveller answers name, birth date and (if saved) document at once; /profile manages the list."""

from __future__ import annotations

from telegram import InlineKeyboardButton, KeyboardButton

from core.formatting import local_date
from core.i18n import _
from handlers.laps import birth_date_given
from handlers.render import esc
from handlers.turn import Turn
from models.conversation import Person, Step
from services.passengers import format_phone

MAX_OFFERED = 6  # buttons of saved travellers under one question


async def traveller_rows(turn: Turn) -> list[list[InlineKeyboardButton]]:
    """One button per saved traveller not already in this booking, and "Someone new"; none without any."""
    if turn.svc.travellers is None:
        return []
    used = {p.saved for p in turn.draft.persons() if p.saved}
    everyone = await turn.svc.travellers.list(turn.user_id)
    turn.draft.saved_count, turn.draft.saved_self = len(everyone), any(t.is_self for t in everyone)
    saved = [t for t in everyone if str(t.id) not in used][:MAX_OFFERED]
    if not saved:
        return []
    rows = [[turn.button(_("{name} (you)").format(name=t.full_name) if t.is_self else t.full_name, "sv", str(t.id))]
            for t in saved]
    return [*rows, [turn.button(_("➕ Add someone new"), "svn")]]


async def email_rows(turn: Turn) -> list[list[InlineKeyboardButton]]:
    """The contact e-mail of the last booking, one tap to use again."""
    if turn.svc.travellers is None:
        return []
    email, _phone = await turn.svc.travellers.contact(turn.user_id)
    return [[turn.button(f"📧 {email}", "ce")]] if email else []


async def phone_row(turn: Turn) -> list[KeyboardButton]:
    """The saved phone number as a reply-keyboard button: tapping it sends the number as typed text."""
    if turn.svc.travellers is None:
        return []
    _email, phone = await turn.svc.travellers.contact(turn.user_id)
    return [KeyboardButton(format_phone(phone))] if phone else []


async def on_saved(turn: Turn, arg: str) -> None:
    """A saved traveller tapped under "Passenger N": their name, birth date and document answer it."""
    d = turn.draft
    people = d.persons()
    found = await turn.svc.travellers.get(turn.user_id, arg) if turn.svc.travellers else None
    if d.field != "name" or d.pi >= len(people) or found is None or any(p.saved == arg for p in people):
        turn.notice = _("This button is no longer active.")
        return
    person = Person(name=found.full_name, dob=found.birth_date.isoformat(), saved=arg)
    if found.document_number:
        person.doc = found.document_number
    people[d.pi] = person
    d.editing, d.old_answer = False, None
    turn.say(_("✅ Passenger {number}: <b>{name}</b>, born {born}.").format(
        number=d.pi + 1, name=esc(found.full_name), born=esc(local_date(found.birth_date))))
    await birth_date_given(turn, d.pi, None)
    turn.goto(Step.PAX)


async def on_someone_new(turn: Turn, _arg: str) -> None:
    turn.notice = _("Type the new traveller's full name as in the passport.")


async def on_contact_email(turn: Turn, _arg: str) -> None:
    """The saved contact e-mail tapped under the e-mail question."""
    d = turn.draft
    email = (await turn.svc.travellers.contact(turn.user_id))[0] if turn.svc.travellers else None
    if d.field != "email" or email is None or d.pi >= len(d.persons()):
        turn.notice = _("This button is no longer active.")
        return
    d.persons()[d.pi].email = email
    d.editing, d.old_answer = False, None
    turn.goto(Step.PAX)
