"""How FlyO shows money, dates, times, durations and cabins to travellers: one module, backed by Babel (CLDR).

Every function takes the traveller's locale and defaults to the one of the update being handled
(`core.i18n.current_locale()`). English is FlyO's source language and keeps its house style — "£123.45",
"Sat 28 Nov 2026, 08:54", "7h 05m" — which the tests assert byte for byte; every other locale gets CLDR's own
patterns for the same fields. Money is integer minor units plus an ISO 4217 code (see `minor_units`).
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_skeleton
from babel.numbers import get_currency_precision
from babel.units import format_unit

from core.i18n import DEFAULT_LOCALE, N_, current_locale, translations

# ISO 4217 minor units where CLDR's currency digits (what Babel's `get_currency_precision` answers) differ.
# CLDR records the digits people use in cash and everyday prices; FlyO stores amounts in ISO 4217 minor units
# (what banks, Amadeus and card networks exchange), so those must be the exponent. Checked against ISO 4217
# list one (https://www.six-group.com/en/products-services/financial-information/data-standards.html#scrollTo=
# currency-codes) with babel 2.18: every current code agrees except these.
ISO_MINOR_UNITS: dict[str, int] = {
    "IQD": 3,  # Iraqi dinar: 1000 fils (CLDR 0)
    "AFN": 2, "ALL": 2, "IRR": 2, "KPW": 2, "LAK": 2, "LBP": 2, "MGA": 2,  # CLDR 0 for each
    "MMK": 2, "RSD": 2, "SLL": 2, "SOS": 2, "SYP": 2, "YER": 2,  # CLDR 0 for each
}

CABIN_NAMES = {"economy": N_("Economy"), "premium": N_("Premium economy"), "business": N_("Business"),
               "first": N_("First")}

# English house style (CLDR date patterns); other locales use the skeletons below.
_EN_TIME = "HH:mm"
_EN_DATE = "EEE dd MMM y"
_EN_DAY_TIME = "EEE dd MMM, HH:mm"
_EN_DATE_TIME = "EEE dd MMM y, HH:mm"
_TIME_SKELETON = "Hm"  # 24-hour clock, as on every boarding pass
_DATE_SKELETON = "yMMMEd"
_DAY_SKELETON = "MMMEd"


def _locale(locale: str | None) -> Locale:
    try:
        return Locale.parse(locale or current_locale())
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(DEFAULT_LOCALE)


def _english(loc: Locale) -> bool:
    return loc.language == "en"


def minor_units(currency: str) -> int:
    """Digits after the decimal point in ISO 4217 (KWD 3, JPY 0, GBP 2); unknown codes count as 2."""
    code = currency.upper()
    found = ISO_MINOR_UNITS.get(code)
    return found if found is not None else get_currency_precision(code)


def money(minor: int, currency: str, locale: str | None = None) -> str:
    """12345, "EUR" → "€123.45"; 12345, "KWD" → "KWD12.345"; 500, "JPY" → "¥500" (en). Never raises."""
    code = currency.strip().upper()
    digits = minor_units(code)
    amount = Decimal(minor).scaleb(-digits)
    loc = _locale(locale)
    if not (len(code) == 3 and code.isascii() and code.isalpha()):
        return f"{amount:,.{digits}f} {code}".strip()
    try:
        pattern = copy.copy(loc.currency_formats["standard"])
        pattern.frac_prec = (digits, digits)
        return str(pattern.apply(amount, loc, currency=code, currency_digits=False))
    except Exception:  # a malformed code or missing locale data: still show a readable amount
        return f"{amount:,.{digits}f} {code}"


def local_time(moment: datetime, tz: str, locale: str | None = None) -> str:
    """The wall-clock time at the airport: "08:54"."""
    loc = _locale(locale)
    zone = ZoneInfo(tz)
    if _english(loc):
        return format_datetime(moment, _EN_TIME, tzinfo=zone, locale=loc)
    return format_skeleton(_TIME_SKELETON, moment, tzinfo=zone, locale=loc)


def local_date(day: date, locale: str | None = None) -> str:
    """A calendar day: "Thu 19 Nov 2026"."""
    loc = _locale(locale)
    if _english(loc):
        return format_date(day, _EN_DATE, locale=loc)
    return format_skeleton(_DATE_SKELETON, datetime.combine(day, datetime.min.time()), locale=loc)


def short_date(day: date, locale: str | None = None) -> str:
    """A day on a button, no year: "Mon 14 Dec" ("lun, 14 dic", "Mo., 14. Dez.")."""
    loc = _locale(locale)
    if _english(loc):
        return format_date(day, "EEE dd MMM", locale=loc)
    return format_skeleton(_DAY_SKELETON, datetime.combine(day, datetime.min.time()), locale=loc)


def day_month(day: date, locale: str | None = None) -> str:
    """Day and month, nothing else (an SMS): "08 Dec" ("8 dic", "8. Dez.")."""
    loc = _locale(locale)
    if _english(loc):
        return format_date(day, "dd MMM", locale=loc)
    return format_skeleton("MMMd", datetime.combine(day, datetime.min.time()), locale=loc)


def long_date(day: date, locale: str | None = None) -> str:
    """A day in words, as a birth date reads: "10 December 1985" (English day first, as FlyO's other dates;
    other languages their own long form)."""
    loc = _locale(locale)
    return format_date(day, "d MMMM y" if _english(loc) else "long", locale=loc)


def month_year(day: date, locale: str | None = None) -> str:
    """A calendar's title: "December 2026" (the stand-alone month name, as the locale writes it alone)."""
    return format_date(day, "LLLL y", locale=_locale(locale))


def local_day_time(moment: datetime, tz: str, locale: str | None = None) -> str:
    """Weekday, day and time at the airport, no year: "Sun 25 Oct, 01:30"."""
    return _date_time(moment, tz, locale, _EN_DAY_TIME, _DAY_SKELETON)


def local_datetime(moment: datetime, tz: str, locale: str | None = None) -> str:
    """Date and time at the airport: "Sun 25 Oct 2026, 01:30"."""
    return _date_time(moment, tz, locale, _EN_DATE_TIME, _DATE_SKELETON)


def _date_time(moment: datetime, tz: str, locale: str | None, english: str, skeleton: str) -> str:
    loc = _locale(locale)
    zone = ZoneInfo(tz)
    if _english(loc):
        return format_datetime(moment, english, tzinfo=zone, locale=loc)
    day = format_skeleton(skeleton, moment, tzinfo=zone, locale=loc)
    clock = format_skeleton(_TIME_SKELETON, moment, tzinfo=zone, locale=loc)
    return str(loc.datetime_formats["medium"]).replace("{1}", day).replace("{0}", clock)


def duration(minutes: int, locale: str | None = None) -> str:
    """Flight time: 425 → "7h 05m" (en), "7 Std., 05 Min." (de)."""
    loc = _locale(locale)
    hours, rest = divmod(max(minutes, 0), 60)
    patterns = loc._data["unit_patterns"]  # Babel's own lookup; narrow is missing in some locales
    narrow = all(patterns.get(f"duration-{unit}", {}).get("narrow") for unit in ("hour", "minute"))
    length: Literal["narrow", "short"] = "narrow" if narrow else "short"
    parts = (format_unit(hours, "duration-hour", length=length, locale=loc),
             format_unit(rest, "duration-minute", length=length, format="00", locale=loc))
    joiner = loc.list_patterns.get(f"unit-{length}", {}).get("2") or "{0} {1}"
    return str(joiner).format(*parts)


def cabin_name(cabin: str, locale: str | None = None) -> str:
    """"premium" → "Premium economy", translated; an unknown cabin is title-cased as is."""
    name = CABIN_NAMES.get(cabin)
    return translations(locale).gettext(name) if name else cabin.title()
