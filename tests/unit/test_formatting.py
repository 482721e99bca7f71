"""core/formatting.py: money in ISO 4217 minor units, airport-local dates and times across DST, durations."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core import formatting
from core.i18n import use_locale
from services.money import minor_units_exponent, money

NBSP = "\xa0"


@pytest.mark.parametrize(("minor", "currency", "shown"), [
    (12345, "GBP", "£123.45"),
    (12345, "EUR", "€123.45"),
    (12345, "USD", "$123.45"),
    (500, "JPY", "¥500"),  # zero-decimal: 500 minor units are 500 yen
    (123456, "KRW", "₩123,456"),
    (12345, "KWD", "KWD12.345"),  # three decimals: 12.345 dinars, not 123.45
    (5, "BHD", "BHD0.005"),
    (990000, "CLP", "CLP990,000"),
    (15000, "ISK", "ISK15,000"),  # ISO 4217: króna has no minor unit
    (1234500, "HUF", "HUF12,345.00"),  # ISO 4217: forint has 2 (the old table said 0)
    (-4500, "GBP", "-£45.00"),  # a refund shown as negative
    (-1, "KWD", "-KWD0.001"),
    (0, "EUR", "€0.00"),
    (0, "JPY", "¥0"),
    (123456789012, "USD", "$1,234,567,890.12"),  # grouping
    (100000000, "JPY", "¥100,000,000"),
    (12345, "eur", "€123.45"),  # lowercase, as Stripe sends it
    (12345, " gbp ", "£123.45"),
    (12345, "XYZ", "XYZ123.45"),  # unknown but well-formed: the code, two decimals
    (12345, "EURO", "123.45 EURO"),  # malformed: a readable fallback, never a crash
    (12345, "", "123.45"),
    (12345, "IQD", "IQD12.345"),  # CLDR says 0 digits, ISO 4217 says 3: ISO wins
    (12345, "RSD", "RSD123.45"),  # CLDR 0, ISO 2
])
def test_money_in_english(minor: int, currency: str, shown: str) -> None:
    assert money(minor, currency, locale="en") == shown


@pytest.mark.parametrize(("minor", "currency", "locale", "shown"), [
    (12345, "EUR", "de", f"123,45{NBSP}€"),
    (12345, "KWD", "de", f"12,345{NBSP}KWD"),
    (123456789, "EUR", "fr", f"1\u202f234\u202f567,89{NBSP}€"),
    (500, "JPY", "ja", "￥500"),
    (12345, "GBP", "not-a-locale", "£123.45"),  # unknown locale: English
])
def test_money_follows_the_locale(minor: int, currency: str, locale: str, shown: str) -> None:
    assert money(minor, currency, locale=locale) == shown


def test_money_defaults_to_the_update_locale() -> None:
    with use_locale("de"):
        assert money(12345, "EUR") == f"123,45{NBSP}€"
    assert money(12345, "EUR") == "€123.45"


@pytest.mark.parametrize(("currency", "exponent"), [
    ("GBP", 2), ("JPY", 0), ("KRW", 0), ("KWD", 3), ("BHD", 3), ("JOD", 3), ("OMR", 3), ("TND", 3), ("LYD", 3),
    ("IQD", 3), ("CLP", 0), ("ISK", 0), ("UGX", 0), ("VND", 0), ("XAF", 0), ("XOF", 0), ("PYG", 0), ("HUF", 2),
    ("TWD", 2), ("MGA", 2), ("kwd", 3), ("XYZ", 2),
])
def test_minor_units_are_iso_4217(currency: str, exponent: int) -> None:
    assert minor_units_exponent(currency) == exponent


def test_every_override_really_differs_from_cldr() -> None:
    from babel.numbers import get_currency_precision

    for code, digits in formatting.ISO_MINOR_UNITS.items():
        assert get_currency_precision(code) != digits, f"{code}: CLDR now agrees, drop the override"


LONDON, NEW_YORK = "Europe/London", "America/New_York"


@pytest.mark.parametrize(("moment", "tz", "time", "stamp"), [
    # Europe/London leaves BST at 01:00 UTC on Sun 25 Oct 2026
    (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), LONDON, "01:30", "Sun 25 Oct 2026, 01:30"),  # still BST
    (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), LONDON, "01:30", "Sun 25 Oct 2026, 01:30"),  # GMT: same wall clock
    (datetime(2026, 10, 24, 23, 5, tzinfo=UTC), LONDON, "00:05", "Sun 25 Oct 2026, 00:05"),  # next day locally
    (datetime(2026, 10, 26, 9, 0, tzinfo=UTC), LONDON, "09:00", "Mon 26 Oct 2026, 09:00"),
    # America/New_York leaves EDT at 06:00 UTC on Sun 1 Nov 2026
    (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), NEW_YORK, "01:30", "Sun 01 Nov 2026, 01:30"),  # EDT
    (datetime(2026, 11, 1, 6, 30, tzinfo=UTC), NEW_YORK, "01:30", "Sun 01 Nov 2026, 01:30"),  # EST
    (datetime(2026, 11, 2, 3, 0, tzinfo=UTC), NEW_YORK, "22:00", "Sun 01 Nov 2026, 22:00"),  # previous day
    (datetime(2026, 3, 8, 7, 0, tzinfo=UTC), NEW_YORK, "03:00", "Sun 08 Mar 2026, 03:00"),  # spring forward
])
def test_airport_local_times_across_dst(moment: datetime, tz: str, time: str, stamp: str) -> None:
    assert formatting.local_time(moment, tz, "en") == time
    assert formatting.local_datetime(moment, tz, "en") == stamp
    assert formatting.local_day_time(moment, tz, "en") == stamp.replace(" 2026", "")


@pytest.mark.parametrize(("locale", "stamp", "time"), [
    ("de", "So., 25. Okt. 2026, 01:30", "01:30"),
    ("fr", "dim. 25 oct. 2026, 01:30", "01:30"),
    ("ja", "2026年10月25日(日) 1:30", "1:30"),
])
def test_other_locales_use_cldr_patterns(locale: str, stamp: str, time: str) -> None:
    moment = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert formatting.local_datetime(moment, LONDON, locale) == stamp
    assert formatting.local_time(moment, LONDON, locale) == time


def test_local_date() -> None:
    assert formatting.local_date(date(2026, 11, 19), "en") == "Thu 19 Nov 2026"
    assert formatting.local_date(date(2026, 11, 19), "de") == "Do., 19. Nov. 2026"


@pytest.mark.parametrize(("minutes", "locale", "shown"), [
    (425, "en", "7h 05m"),
    (60, "en", "1h 00m"),
    (59, "en", "0h 59m"),
    (0, "en", "0h 00m"),
    (1439, "en", "23h 59m"),
    (18 * 60 + 50, "en", "18h 50m"),  # the longest flights
    (-5, "en", "0h 00m"),  # never a negative duration
    (425, "de", "7 Std., 05 Min."),
    (425, "fr", "7h 05min"),
    (425, "pt_BR", "7 h 05 min"),
])
def test_durations(minutes: int, locale: str, shown: str) -> None:
    assert formatting.duration(minutes, locale) == shown


@pytest.mark.parametrize(("cabin", "shown"), [
    ("economy", "Economy"), ("premium", "Premium economy"), ("business", "Business"), ("first", "First"),
    ("sleeper", "Sleeper"),
])
def test_cabin_names(cabin: str, shown: str) -> None:
    assert formatting.cabin_name(cabin, "en") == shown


def test_render_keeps_its_english_outputs() -> None:
    from handlers import render

    moment = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert render.local_time(moment, LONDON) == "01:30"
    assert render.local_time(moment, LONDON, "%a %d %b, %H:%M") == "Sun 25 Oct, 01:30"
    assert render.local_time(moment, LONDON, "%d/%m") == "25/10"  # any other strftime format as is
    assert render.local_datetime(moment, LONDON) == "Sun 25 Oct 2026, 01:30"
    assert render.duration(425) == "7h 05m"
    assert render.cabin_name("premium") == "Premium economy"
    assert render.money(12345, "KWD") == "KWD12.345"


# ---- Stripe's amounts (services/stripe_amounts.py, https://docs.stripe.com/currencies) -------------------------
@pytest.mark.parametrize(("minor", "currency", "charge", "refund"), [
    (1999, "GBP", 1999, 1999),  # two-decimal: the same integer
    (1999, "usd", 1999, 1999),
    (500, "JPY", 500, 500),  # zero-decimal in both
    (123456, "KRW", 123456, 123456),
    (50000, "UGX", 50000, 50000),  # zero-decimal for charges; its special case is about payouts
    (5, "ISK", 500, 500),  # ISO has no minor unit; Stripe wants two decimals, always 00
    (15000, "isk", 1500000, 1500000),
    (1234500, "HUF", 1234500, 1234500),  # two decimals for charges (zero-decimal only for payouts)
    (99950, "TWD", 99950, 99950),
    (12345, "KWD", 12350, 12340),  # three decimals, last digit 0: nearest for a charge, down for a refund
    (5124, "KWD", 5120, 5120),
    (5125, "BHD", 5130, 5120),  # a half goes up for a charge
    (5120, "OMR", 5120, 5120),
    (12345, "MGA", 123, 123),  # ISO 2 decimals, Stripe zero-decimal
    (12350, "MGA", 124, 123),
    (0, "KWD", 0, 0),
])
def test_to_stripe_amount(minor: int, currency: str, charge: int, refund: int) -> None:
    from services.stripe_amounts import to_stripe_amount

    assert to_stripe_amount(minor, currency) == charge
    assert to_stripe_amount(minor, currency, refund=True) == refund


@pytest.mark.parametrize(("amount", "currency", "minor"), [
    (1999, "gbp", 1999),
    (500, "jpy", 500),
    (500, "isk", 5),
    (1500050, "isk", 15001),  # a fractional króna from before 2023 rounds to the nearest
    (12350, "kwd", 12350),
    (123, "mga", 12300),
    (50000, "ugx", 50000),
    (1234500, "huf", 1234500),
    (99950, "twd", 99950),
])
def test_from_stripe_amount(amount: int, currency: str, minor: int) -> None:
    from services.stripe_amounts import from_stripe_amount

    assert from_stripe_amount(amount, currency) == minor


@pytest.mark.parametrize("currency", ["GBP", "JPY", "ISK", "KWD", "BHD", "MGA", "HUF", "TWD", "UGX", "XYZ"])
@pytest.mark.parametrize("minor", [0, 10, 500, 12340, 987650])
def test_stripe_amounts_round_trip(minor: int, currency: str) -> None:
    """What Stripe charged, read back, is what FlyO refunds: no unit lost either way for amounts Stripe accepts."""
    from services.stripe_amounts import from_stripe_amount, to_stripe_amount

    charged = to_stripe_amount(minor, currency)
    assert to_stripe_amount(from_stripe_amount(charged, currency), currency, refund=True) == charged


@pytest.mark.parametrize(("fare", "passengers", "currency", "charged"), [
    (12345, 2, "GBP", 24690),  # two-decimal: the ISO total
    (12345, 2, "KWD", 24700),  # each line item rounded to tens of fils on its own: 12350 × 2, not 24690 → 24690
    (12345, 3, "JPY", 37035),
    (5, 2, "ISK", 1000),  # ISK 5 per passenger is sent as 500
])
def test_checkout_total_is_what_stripe_charges_for_the_line_items(fare: int, passengers: int, currency: str,
                                                                   charged: int) -> None:
    from services.stripe_amounts import checkout_total

    assert checkout_total([fare] * passengers, currency) == charged


def test_long_date_reads_as_a_birth_date() -> None:
    from datetime import date

    from core.formatting import long_date

    assert long_date(date(1985, 12, 10), "en") == "10 December 1985"
    assert long_date(date(1985, 12, 10), "de") == "10. Dezember 1985"
