"""Passenger answers, validated one by one; each error says exactly what to fix.

Names are capitalised word by word, only where the traveller typed a word all in lower or all in upper case: a
word typed in mixed case (McDonald, DeVito, MacArthur) is theirs and stays as typed. There is no guessing of
Mc/Mac (Macey and Mack are names too): `mcdonald` becomes `Mcdonald`. Each part of a hyphenated name is
capitalised, and so is the letter after a one-letter prefix with an apostrophe (O'Brien, D'Angelo); after a
longer one it stays (Ng'ang'a). Particles typed in lower case after the first word stay lower case (Ludwig van
Beethoven, Maria de la Cruz); typed capitalised they stay so (Van Morrison). Only the case of a letter changes,
never the letter or the length (ß, İ keep their form), and scripts without case (王芳) are left as typed.

Phone numbers are stored as E.164 and shown in the international format with spaces (ITU-T E.123):
+44 20 7946 0958, +1 212 555 0100.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import phonenumbers
from babel import Locale, UnknownLocaleError
from email_validator import EmailNotValidError, validate_email

from core.errors import FlyOError
from core.formatting import local_date, month_year
from core.i18n import _, current_locale, ngettext
from services.dates import shorten


class BadAnswer(FlyOError):
    pass


NAME_MAX = 70  # what airlines accept
SEPARATORS = "'’-"
PARTICLES = frozenset({
    "af", "al", "av", "bin", "binti", "da", "dal", "das", "de", "degli", "dei", "del", "della", "den", "der", "des",
    "di", "do", "dos", "du", "el", "la", "le", "lo", "op", "ten", "ter", "van", "von", "y", "zu", "zur",
})


def _is_letter(char: str) -> bool:
    return unicodedata.category(char).startswith("L")


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def _name_part_ok(part: str) -> bool:
    """Letters (with their combining marks), joined by single hyphens or apostrophes; no digits or symbols."""
    for segment in re.split(r"['’-]", part):
        if not segment or not _is_letter(segment[0]) or not all(_is_letter(c) or _is_mark(c) for c in segment):
            return False
    return True


def _upper(char: str) -> str:
    up = char.upper()
    return up if len(up) == 1 else char  # ß → SS would add a letter: keep ß


def _lower(text: str) -> str:
    low = text.lower()  # the whole word, so a Greek final sigma comes out as ς
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)  # İ → i̇ would add a mark: keep İ


def _one_case(word: str) -> bool:
    """Typed all in lower case or all in upper case (a word with no cased letter, like 王芳, is neither)."""
    return word.islower() or word.isupper()


def _capitalise_word(word: str) -> str:
    out = list(_lower(word))
    start = True  # the next letter begins a name part
    for i, char in enumerate(out):
        if char in SEPARATORS:
            # a hyphen starts a part; an apostrophe only after a one-letter prefix (O'Brien, not Ng'Ang'A)
            start = char == "-" or (i == 1 or (i >= 2 and out[i - 2] in SEPARATORS))
        elif start and _is_letter(char):
            out[i] = _upper(char)
            start = False
        elif not _is_mark(char):
            start = False
    return "".join(out)


def capitalise_name(name: str) -> str:
    """The name as it goes on the ticket: see the module's docstring for the rules."""
    words = name.split(" ")
    result = []
    for index, word in enumerate(words):
        if not _one_case(word) or (index > 0 and word.islower() and word in PARTICLES):
            result.append(word)
        else:
            result.append(_capitalise_word(word))
    return " ".join(result)


def parse_full_name(text: str) -> str:
    name = unicodedata.normalize("NFC", " ".join(text.split()))
    if not name:
        raise BadAnswer(_("Please type the passenger's full name as in the passport, e.g. Ada Lovelace."))
    parts = name.split(" ")
    bad = [p for p in parts if not _name_part_ok(p)]
    if bad:
        raise BadAnswer(_("“{part}” can't be part of a name: use letters, spaces, hyphens and apostrophes "
                          "only.").format(part=shorten(bad[0], 30)))
    if len(parts) < 2:
        raise BadAnswer(_("Please give both the given name and the family name, e.g. Ada Lovelace."))
    if len(name) > NAME_MAX:
        raise BadAnswer(_("That name is longer than airlines accept ({count} characters). Please shorten it.").format(
            count=NAME_MAX))
    return capitalise_name(name)


DATE_FORMS = (
    (re.compile(r"(\d{4})[-./](\d{1,2})[-./](\d{1,2})"), "ymd"),
    (re.compile(r"(\d{1,2})[-./](\d{1,2})[-./](\d{4})"), "dmy"),
)


def _days_in_month(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - date(year, month, 1)).days


def _calendar_date(raw: str, year: int, month: int, day: int) -> date:
    """The date, or the precise reason it is not one."""
    if year < 1:
        raise BadAnswer(_("{text} is not a date in the calendar: there is no year 0.").format(text=raw))
    if not 1 <= month <= 12:
        if 1 <= day <= 12 and 1 <= month <= _days_in_month(year, day):  # month and day typed the other way round
            swapped = date(year, day, month)
            raise BadAnswer(_("{month} is not a month: write it as {dotted} or {iso}.").format(
                month=month, dotted=swapped.strftime("%d.%m.%Y"), iso=swapped.isoformat()))
        raise BadAnswer(_("{text} is not a date in the calendar: {month} is not a month.").format(
            text=raw, month=month))
    days = _days_in_month(year, month)
    if not 1 <= day <= days:
        raise BadAnswer(_("{text} is not a date in the calendar: {month} has {days} days.").format(
            text=raw, month=month_year(date(year, month, 1), current_locale()), days=days))
    return date(year, month, day)


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def parse_birth_date(text: str, today: date) -> date:
    raw = shorten(text, 30)
    for pattern, order in DATE_FORMS:
        if m := pattern.fullmatch(text.strip()):
            y, mo, d = (int(m[1]), int(m[2]), int(m[3])) if order == "ymd" else (int(m[3]), int(m[2]), int(m[1]))
            born = _calendar_date(raw, y, mo, d)
            break
    else:
        raise BadAnswer(_("Please type the date of birth as YYYY-MM-DD or DD.MM.YYYY, e.g. 1990-04-23."))
    if born > today:
        raise BadAnswer(_("A date of birth can't be in the future ({day} is after today).").format(
            day=local_date(born, current_locale())))
    if age_on(born, today) > 120:
        raise BadAnswer(_("Please check the year: that would make the passenger older than 120."))
    return born


def ambiguous_birth_date(text: str) -> bool:
    """Typed day-first with slashes where month-first would also be a date (05/06/1990): say how it was read."""
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/\d{4}", text.strip())
    return bool(m) and int(m[1]) != int(m[2]) and int(m[1]) <= 12 and int(m[2]) <= 12  # type: ignore[index]


def parse_email(text: str) -> str:
    try:
        result = validate_email(text.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise BadAnswer(_("That e-mail address doesn't look right: {reason}").format(reason=exc)) from None
    return result.normalized


def fields_for(index: int) -> list[str]:
    """The details asked of passenger `index`: the first also gives the booking's e-mail and phone."""
    return ["name", "dob", "email", "phone", "doc"] if index == 0 else ["name", "dob", "doc"]


def format_phone(e164: str) -> str:
    """A stored E.164 number as shown: +44 20 7946 0958 (international format, spaces as E.123 writes it)."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL).replace("-", " ")


def _country(code: int) -> str:
    if code == 1:
        return _("US/Canada")
    region = phonenumbers.region_code_for_country_code(code)
    try:
        names = Locale.parse(current_locale()).territories
    except (UnknownLocaleError, ValueError):
        names = Locale.parse("en").territories
    return str(names.get(region, region))


def _lengths(region: str) -> list[int]:
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if meta is None:
        return []
    found = {n for desc in (meta.fixed_line, meta.mobile) if desc is not None for n in desc.possible_length}
    general = meta.general_desc.possible_length if meta.general_desc is not None else ()
    return sorted(n for n in found if n > 0) or sorted(n for n in general if n > 0)


def _wrong_length(raw: str, number: phonenumbers.PhoneNumber, reason: str) -> BadAnswer:
    code = number.country_code or 0
    region = phonenumbers.region_code_for_country_code(code)
    lengths = _lengths(region)
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.FIXED_LINE)
    if not lengths or example is None:
        return BadAnswer(_("{text} is not a valid phone number. Include the country code, e.g. +1 212 555 0100.")
                         .format(text=raw))
    low, high = lengths[0], lengths[-1]
    shown = format_phone(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
    if low == high:
        rule = ngettext("After +{code} ({country}) a number has {count} digit, e.g. {example}.",
                        "After +{code} ({country}) a number has {count} digits, e.g. {example}.", low).format(
            country=_country(code), count=low, code=code, example=shown)
    else:
        rule = _("After +{code} ({country}) a number has {low} to {high} digits, e.g. {example}.").format(
            country=_country(code), low=low, high=high, code=code, example=shown)
    if reason == "short":
        return BadAnswer(_("{text} has too few digits. {rule}").format(text=raw, rule=rule))
    if reason == "long":
        return BadAnswer(_("{text} has too many digits. {rule}").format(text=raw, rule=rule))
    return BadAnswer(_("{text} is not a valid phone number. {rule}").format(text=raw, rule=rule))


def parse_phone(text: str) -> str:
    raw = shorten(text, 30)
    typed = text.strip()
    if typed.startswith("00"):
        typed = "+" + typed[2:]  # 0044…: the international prefix written out
    elif typed.startswith("0"):
        raise BadAnswer(_("{text} looks like a number without its country code: write it with + and the country "
                          "code, e.g. +44 20 7946 0958.").format(text=raw))
    try:
        number = phonenumbers.parse(typed if typed.startswith("+") else f"+{typed}", None)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE and re.match(r"\+?\d", typed):
            raise BadAnswer(_("{text} doesn't start with a country code I know: begin with + and the country code, "
                              "e.g. +44 for the UK or +1 for the US and Canada.").format(text=raw)) from None
        raise BadAnswer(_("Please type the phone number in international format, e.g. +44 20 7946 0958.")) from None
    if phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    why = phonenumbers.is_possible_number_with_reason(number)
    reasons = {phonenumbers.ValidationResult.TOO_SHORT: "short", phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
               "short", phonenumbers.ValidationResult.TOO_LONG: "long"}
    raise _wrong_length(raw, number, reasons.get(why, "invalid"))


def parse_document_number(text: str) -> str:
    value = re.sub(r"[\s-]", "", text).upper()
    if not re.fullmatch(r"[A-Z0-9]{5,20}", value):
        raise BadAnswer(_("A travel document number has 5–20 letters or digits, e.g. 533401234."))
    return value
