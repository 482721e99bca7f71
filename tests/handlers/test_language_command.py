"""/language (issue #20): a traveller picks FlyO's language with buttons; the choice outlives the update (every
later message, the command menu aside, follows it), goes back to Telegram's with "Same as my Telegram app",
and reaches the bookings they already have: a sweep's message about one is written in it. Pressed 25 times, it
answers every press and changes nothing more; a forged code is refused."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from core.i18n import _, use_locale
from models import Booking
from tests.paying import PayingBot


def german(msgid: str) -> str:
    with use_locale("de"):
        return _(msgid)


async def test_choosing_german_then_back_to_telegrams_language(bot: Any) -> None:
    ada = bot.telegram.traveller(6201, language_code="en")
    await ada.send("/language")
    menu = await ada.wait_for("Choose a language")
    assert [b for b in menu.button_labels() if "English" in b or "Deutsch" in b or "Español" in b] == [
        "English", "Español", "Deutsch"]
    await ada.press("Deutsch", menu)
    edited = await ada.wait_for("FlyO spricht Deutsch")
    assert edited.message_id == menu.message_id and "✅ Deutsch" in edited.button_labels()
    await bot.telegram.wait_until_callbacks_answered()
    assert ada.callback_answers[-1].get("text") == german("FlyO now speaks {language}.").format(language="Deutsch")
    await ada.send("/help")
    await ada.wait_for(german("• /language — English, Español or Deutsch"))
    await ada.send("/search")
    await ada.wait_for(lambda m: "Von wo" in m.plain_text() or "Abflug" in m.plain_text())
    await ada.send("/language")
    menu = await ada.wait_for("Wählen Sie eine Sprache")
    await ada.press("Telegram", menu)
    await ada.wait_for("FlyO speaks English")
    await ada.send("/help")
    await ada.wait_for("/language — English, Español or Deutsch")


async def test_a_forged_language_and_25_presses(bot: Any) -> None:
    ada = bot.telegram.traveller(6202)
    await ada.send("/language")
    menu = await ada.wait_for("Choose a language")
    await ada.press_data("*:lng:xx", menu.message_id)
    await bot.telegram.wait_until_callbacks_answered()
    assert "not available" in str(ada.callback_answers[-1].get("text"))
    await asyncio.gather(*(ada.press("Español", menu) for _ in range(25)))
    await bot.telegram.wait_until_callbacks_answered()
    assert len(ada.callback_answers) == 26
    from repos.conversations import ConversationRepo

    stored = await ConversationRepo().get(6202)  # in the database, not only this process's cache
    assert stored is not None and stored.language == "es" and stored.locale == "es"


async def test_a_booking_speaks_the_language_chosen_after_it(paying: PayingBot) -> None:
    ada = paying.telegram.traveller(6203)
    booking, _session = await paying.booked_with_link(ada)
    assert booking.locale == "en"
    await ada.send("/language")
    await ada.press("Deutsch", await ada.wait_for("Choose a language"))
    await ada.wait_for("FlyO spricht Deutsch")
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.locale == "de"
    paying.bot.clock.advance(timedelta(minutes=paying.bot.settings.PAYMENT_WINDOW_MINUTES + 5))
    assert booking.payment.session_id
    paying.stripe.expire_session(booking.payment.session_id)
    await paying.services.sweeper.run()
    await paying.deliver()
    expired = german("⌛ Booking <b>{reference}</b> was cancelled because it wasn't paid in time, and its seats "
                     "were released. You can search again any time.").format(reference=booking.reference)
    await ada.wait_for(lambda m: m.plain_text() in expired.replace("<b>", "").replace("</b>", ""), timeout=10)


async def test_the_skip_word_typed_in_the_travellers_language(bot: Any) -> None:
    """"Omitir" typed (the Skip button's word without its emoji) skips the optional phone question."""
    from tests.flows import travel_day

    ada = bot.telegram.traveller(6204)
    await ada.send("/language")
    await ada.press("Español", await ada.wait_for("Choose a language"))
    await ada.wait_for("FlyO habla Español")
    with use_locale("es"):
        skip = _("⏭ Skip").lstrip("⏭").strip()
    await ada.send(f"LHR JFK {travel_day(bot.clock).isoformat()} 1")
    await ada.press("1. ", await ada.wait_for("LHR"))
    await ada.wait_for("asiento")
    await ada.press("🎲")
    await ada.wait_for(lambda m: any("✅ Continuar" in label for label in m.button_labels()))
    await ada.press("✅ Continuar")
    await ada.wait_for("Pasajero 1 de 1")
    await ada.send("Ada Lovelace")
    await ada.wait_for("Fecha de nacimiento")
    await ada.send("1985-12-10")
    await ada.wait_for("correo")
    await ada.send("ada@example.com")
    await ada.wait_for("teléfono")
    await ada.send(skip)
    await ada.wait_for("Pasaporte")
