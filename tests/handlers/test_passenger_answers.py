"""Passenger answers as the traveller reads them (issue #15 item 9): names saved as on a ticket and shown back,
phone numbers shown formatted with a precise reason when the digits don't fit the country, dates of birth with a
format hint when typed month first."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.flows import to_passengers


async def test_a_name_is_saved_capitalised_and_shown_back(bot: Any) -> None:
    t = bot.telegram.traveller(15901)
    await to_passengers(t, bot.clock, pax=2, days_ahead=9)
    await t.send("josé müller-o'brien")
    saved = await t.wait_for("Saved as")
    assert saved.plain_text() == "✅ Saved as José Müller-O'Brien."
    await t.wait_for("Date of birth of José Müller-O'Brien?")
    await t.send("1990-04-23")
    await t.wait_for("E-mail address")
    await t.send("jose@example.com")
    await t.wait_for("Phone number")
    await t.send("Skip")
    await t.wait_for("Passport or ID")
    await t.press("Skip")
    await t.wait_for("Passenger 2 of 2")
    await t.send("ludwig van beethoven")
    await t.wait_for("Saved as Ludwig van Beethoven.")
    await t.wait_for("Date of birth of Ludwig van Beethoven?")


async def test_a_name_typed_as_on_the_ticket_needs_no_echo(bot: Any) -> None:
    t = bot.telegram.traveller(15902)
    await to_passengers(t, bot.clock, days_ahead=9)
    await t.send("Van Morrison")
    await t.wait_for("Date of birth of Van Morrison?")
    assert not any("Saved as" in m.plain_text() for m in t.messages())


async def test_a_4_kb_name_and_200_combining_characters_get_short_precise_answers(bot: Any) -> None:
    t = bot.telegram.traveller(15903)
    await to_passengers(t, bot.clock, days_ahead=9)
    await t.send("Ada " + "Lovelace " * 454)  # 4 KB of letters
    too_long = await t.wait_for("longer than airlines accept (70 characters)")
    await t.send("Ada " + "#" * 4092)
    symbols = await t.wait_for("can't be part of a name")
    await t.send("\u0308" * 200 + " Lovelace")
    marks = await t.wait_for("can't be part of a name")
    await t.send("Zo" + "\u0308" * 200 + " Lovelace")
    stacked = await t.wait_for("longer than airlines accept")
    assert all(len(m.plain_text()) < 200 for m in (too_long, symbols, marks, stacked))
    await t.send("ZOË ŁUKASZ")  # and the question is still open
    await t.wait_for("Saved as Zoë Łukasz.")


async def _to_phone(t: Any, bot: Any, chat: int) -> None:
    await to_passengers(t, bot.clock, days_ahead=9)
    await t.send("Ada Lovelace")
    await t.wait_for("Date of birth")
    await t.send("1990-12-10")
    await t.wait_for("E-mail address")
    await t.send("ada@example.com")
    await t.wait_for("Phone number")


async def test_a_phone_number_with_too_few_digits_for_its_country_is_explained(bot: Any) -> None:
    t = bot.telegram.traveller(15904)
    await _to_phone(t, bot, 15904)
    await t.send("+1 555 0100")
    short = await t.wait_for("too few digits")
    assert short.plain_text().startswith("⚠️ +1 555 0100 has too few digits. After +1 (US/Canada) a number has "
                                         "10 digits, e.g. +1 ")
    await t.send("+44 20 7946")
    await t.wait_for("After +44 (United Kingdom) a number has 9 to 10 digits")
    await t.send("020 7946 0958")
    await t.wait_for("looks like a number without its country code")
    await t.send("+999 1234")
    await t.wait_for("doesn't start with a country code I know")
    await t.send("+" + "9" * 4095)
    garbage = await t.wait_for("international format")
    assert len(garbage.plain_text()) < 200
    await t.send("0044 20 7946 0958")
    saved = await t.wait_for("Phone number saved")
    assert "📱 Phone number saved: +44 20 7946 0958." in saved.plain_text()


async def test_a_shared_contact_is_shown_formatted(bot: Any) -> None:
    t = bot.telegram.traveller(15905)
    await _to_phone(t, bot, 15905)
    await t.share_contact("12125550100")  # Telegram sends it without the +
    saved = await t.wait_for("Phone number saved")
    assert "+1 212 555 0100" in saved.plain_text()


async def test_dates_of_birth_typed_month_first_or_impossible_get_a_precise_answer(bot: Any) -> None:
    t = bot.telegram.traveller(15906)
    await to_passengers(t, bot.clock, days_ahead=9)
    await t.send("Ada Lovelace")
    await t.wait_for("Date of birth")
    await t.send("12/13/1990")
    await t.wait_for("13 is not a month: write it as 13.12.1990 or 1990-12-13.")
    await t.send("31.02.1990")
    await t.wait_for("31.02.1990 is not a date in the calendar: February 1990 has 28 days.")
    today = bot.clock.now().date()
    await t.send((today + timedelta(days=3)).strftime("%d.%m.%Y"))
    await t.wait_for("can't be in the future")
    await t.send(today.replace(year=today.year - 121).isoformat())
    await t.wait_for("older than 120")
    await t.send("1" * 4096)
    await t.wait_for("YYYY-MM-DD or DD.MM.YYYY")
    await t.send("05/06/1990")  # a valid date both ways: say how it was read
    read = await t.wait_for("Read as")
    assert "5 Jun 1990" in read.plain_text() and "day first" in read.plain_text()
    await t.wait_for("E-mail address")
