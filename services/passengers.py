"""Passenger answers, validated one by one; each error says exactly what to fix."""

from __future__ import annotations

import re
from datetime import date

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from core.errors import FlyOError
from core.i18n import _


class BadAnswer(FlyOError):
    pass


NAME_PART = re.compile(r"^[^\W\d_]+(?:['’-][^\W\d_]+)*$")


def parse_full_name(text: str) -> str:
    name = " ".join(text.split())
    if not name:
        raise BadAnswer(_("Please type the passenger's full name as in the passport, e.g. Ada Lovelace."))
    parts = name.split(" ")
    bad = [p for p in parts if not NAME_PART.match(p)]
    if bad:
        raise BadAnswer(_("“{part}” can't be part of a name: use letters, spaces, hyphens and apostrophes "
                          "only.").format(part=bad[0]))
    if len(parts) < 2:
        raise BadAnswer(_("Please give both the given name and the family name, e.g. Ada Lovelace."))
    if len(name) > 70:
        raise BadAnswer(_("That name is longer than airlines accept (70 characters). Please shorten it."))
    return " ".join(p[:1].upper() + p[1:] if p.islower() else p for p in parts)


def parse_birth_date(text: str, today: date) -> date:
    raw = text.strip()
    for pattern, order in ((r"(\d{4})-(\d{1,2})-(\d{1,2})", "ymd"), (r"(\d{1,2})[./](\d{1,2})[./](\d{4})", "dmy")):
        if m := re.fullmatch(pattern, raw):
            y, mo, d = (int(m[1]), int(m[2]), int(m[3])) if order == "ymd" else (int(m[3]), int(m[2]), int(m[1]))
            try:
                born = date(y, mo, d)
            except ValueError:
                raise BadAnswer(_("{text} is not a date in the calendar.").format(text=raw)) from None
            break
    else:
        raise BadAnswer(_("Please type the date of birth as YYYY-MM-DD or DD.MM.YYYY, e.g. 1990-04-23."))
    if born > today:
        raise BadAnswer(_("A date of birth can't be in the future."))
    if born.year < today.year - 120:
        raise BadAnswer(_("Please check the year: that would make the passenger older than 120."))
    return born


def parse_email(text: str) -> str:
    try:
        result = validate_email(text.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise BadAnswer(_("That e-mail address doesn't look right: {reason}").format(reason=exc)) from None
    return result.normalized


def parse_phone(text: str) -> str:
    raw = text.strip()
    try:
        number = phonenumbers.parse(raw if raw.startswith("+") else f"+{raw}", None)
    except phonenumbers.NumberParseException:
        raise BadAnswer(_("Please type the phone number in international format, e.g. +44 20 7946 0958.")) from None
    if not phonenumbers.is_valid_number(number):
        raise BadAnswer(_("{text} is not a valid phone number. Include the country code, e.g. +1 212 555 0100.").format(
            text=raw))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_document_number(text: str) -> str:
    value = re.sub(r"[\s-]", "", text).upper()
    if not re.fullmatch(r"[A-Z0-9]{5,20}", value):
        raise BadAnswer("A travel document number has 5–20 letters or digits, e.g. 533401234.")
    return value
