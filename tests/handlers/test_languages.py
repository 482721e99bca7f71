"""FlyO in Spanish and German (issue #20): a whole booking — one-line search with the date typed the local way,
results, seat map, passengers, review, payment link, the signed payment, the confirmation in the chat and by
e-mail — walked in each language, and everything the traveller was shown checked for English left in it:

- no English sentence of the catalogue shown as it is (a string that missed its translation, or text built
  outside gettext that happens to be a catalogue phrase),
- no English weekday or month abbreviation (a date formatted by hand instead of by Babel),
- no common English word (the, your, seat, flight, booking, please, …) outside proper nouns, markup and links.

The script waits for the translated texts themselves, found in the catalogue by a piece of their English.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from core.database import Database
from core.formatting import cabin_name
from core.i18n import LOCALE_DIR, _, use_locale
from models import Booking, BookingStatus
from tests.flows import drain_outbox, travel_day
from tests.handlers.test_every_text_translated import everything_shown
from tests.paying import PayingBot, paying_bot

LANGUAGES = [("es-MX", "es"), ("de-AT", "de")]
ENGLISH_DATES = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun|Jan|Feb|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b")
ENGLISH_WORDS = re.compile(r"\b(the|your|you|please|seats?|flights?|passengers?|bookings?|tap|with|from|and|"
                           r"paid|payment|departs?|arrives?|when|where|which)\b", re.IGNORECASE)
NOT_WORDS = re.compile(r"<[^>]+>|https?://\S+|\S+@\S+|/[a-z_]+|cs_test_\w+")
LOCAL_DATE = {"es": "{day} dic", "de": "{day}. Dez."}


@cache
def catalogue(locale: str) -> Catalog:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "flyo.po").open("rb") as source:
        return read_po(source, locale=locale)


def says(english: str, locale: str) -> str:
    """The longest piece, without placeholders or markup, of the translation of the shortest msgid containing
    `english`: what to wait for or press."""
    ids = [m.id for m in catalogue(locale) if isinstance(m.id, str) and m.id and english in m.id]
    assert ids, f"no msgid contains {english!r}"
    with use_locale(locale):
        text = _(min(ids, key=len))
    return max((part.strip() for part in re.split(r"\{[^{}]*\}|<[^>]+>", text)), key=len)


def english_left(text: str, locale: str) -> list[str]:
    """English in a text shown to a traveller of `locale` (see the module's docstring)."""
    found: list[str] = []
    plain = NOT_WORDS.sub(" ", text)
    for message in catalogue(locale):
        if not isinstance(message.id, str) or not message.id or message.string == message.id:
            continue
        for part in re.split(r"\{[^{}]*\}|<[^>]+>|\n", message.id):
            part = part.strip(" .,:;—·()")
            if len(part) >= 18 and len(part.split()) >= 3 and part in plain:
                found.append(part)
    found += ENGLISH_DATES.findall(plain)
    found += [w for w in ENGLISH_WORDS.findall(plain) if w.lower() not in {"and"} or locale != "es"]
    return found


@pytest.fixture
async def paying(inventory_db: Database, telegram: Any, tmp_path: Path) -> AsyncIterator[PayingBot]:
    async with paying_bot(inventory_db, telegram, tmp_path, FLOOD_MAX_UPDATES=500) as running:
        yield running


@pytest.mark.parametrize(("language_code", "locale"), LANGUAGES)
async def test_a_whole_booking_in_the_travellers_language(paying: PayingBot, language_code: str,
                                                          locale: str) -> None:
    user = 6100 + LANGUAGES.index((language_code, locale))
    t = paying.telegram.traveller(user, first_name="Zoë", language_code=language_code)
    day = travel_day(paying.bot.clock, 12)
    typed_day = LOCAL_DATE[locale].format(day=day.day) if day.month == 12 else day.isoformat()
    await t.send("/start")
    await t.wait_for("/search")
    await t.send(f"LHR JFK {typed_day} 2")
    await t.wait_for(says("tap a fare to choose it", locale))
    await t.press(f"1. {cabin_name('economy', locale)}")
    await t.wait_for(says("Tap a seat for passenger", locale))
    await t.press(says("Pick for me", locale))
    await t.wait_for(says("All seats picked", locale))
    await t.press(says("✅ Continue (", locale))
    for index, (name, born) in enumerate([("Zoë Müller", "1985-12-10"), ("José Núñez", "1990-04-02")]):
        await t.wait_for(says("</b>: full name as in the passport", locale))
        await t.send(name)
        await t.wait_for(says("Date of birth of", locale))
        await t.send(born)
        if index == 0:
            await t.wait_for(says("E-mail address for the confirmation", locale))
            await t.send("zoe@example.com")
            await t.wait_for(says("Phone number for flight updates", locale))
            with use_locale(locale):
                await t.send(_("⏭ Skip"))
        await t.wait_for(says("Passport or ID number of", locale))
        await t.press(says("⏭ Skip", locale))
    await t.wait_for(says("Please review your booking", locale))
    await t.press(says("✅ Confirm and pay", locale))
    booking = None
    for _attempt in range(100):
        booking = await Booking.find(Booking.user_id == user).sort("-created_at").first_or_none()
        if booking is not None and booking.payment.session_id:
            break
        await t.wait_for(lambda message: True, timeout=5)
    assert booking is not None and booking.locale == locale and booking.payment.session_id
    status, body = await paying.post_event(paying.completed_event(booking.payment.session_id))
    assert (status, body["outcome"]) == (200, "confirmed")
    await drain_outbox(paying.services, timeout=30)
    confirmed = await Booking.get(booking.id)
    assert confirmed is not None and confirmed.status == BookingStatus.CONFIRMED
    await t.send("/mybookings")
    await t.wait_for(booking.reference)
    await paying.telegram.wait_until_callbacks_answered()
    shown = everything_shown(paying, t.chat_id)
    mails = paying.sendgrid.messages_to("zoe@example.com")
    assert mails, "no confirmation e-mail"
    shown += [mail.subject or "" for mail in mails] + [mail.text or "" for mail in mails]
    problems = {text[:160]: words for text in shown if (words := english_left(text, locale))}
    assert not problems, f"English shown to a {locale} traveller:\n" + "\n".join(
        f"{words} in {text!r}" for text, words in problems.items())


@pytest.mark.parametrize("locale", ["es", "de"])
def test_the_check_finds_english_and_accepts_the_language(locale: str) -> None:
    assert english_left("Your booking K7Q2MX departs Thu 10 Dec at 12:45.", locale)
    with use_locale(locale):
        review = _("🧾 <b>Please review your booking</b>")
    assert english_left(review, locale) == []
    assert english_left("🧾 Please review your booking", locale)  # a catalogue sentence shown in English
    assert english_left("LHR → JFK · FO280 · Zoë Müller · zoe@example.com · https://checkout.stripe.com/c/pay/x",
                        locale) == []
