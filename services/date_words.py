"""The words of typed travel dates, in English, Spanish and German (issue #20), for services/dates.py.

Every language's words are read in every locale (travellers mix languages), so no word may mean two things:
"mar" is March in all three, "may" is May in English and Spanish and "mai" in German, "ago" only agosto,
"morgen" only tomorrow. The tables hold *folded* words (`fold`: case-folded, accents dropped), so "Mañana",
"manana", "MÄRZ" and a decomposed (NFD) "März" are each one entry; the German spellings without umlauts
("Maerz", "uebermorgen", "naechsten") are entries of their own.
"""

from __future__ import annotations

import unicodedata

# English: a month is any beginning of its name from three letters ("dec", "decem"), as before issue #20.
MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
MONTH_NAMES = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
               "november", "december"]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

# Spanish and German: whole names and the listed abbreviations only (no prefixes: "Junior" is no "Juni").
_ES_MONTHS = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
              "noviembre", "diciembre"]
_ES_SHORT = ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"]
_DE_MONTHS = ["januar", "februar", "marz", "april", "mai", "juni", "juli", "august", "september", "oktober",
              "november", "dezember"]
_DE_SHORT = ["jan", "feb", "mar", "apr", "mai", "jun", "jul", "aug", "sep", "okt", "nov", "dez"]
MONTH_WORDS: dict[str, int] = {
    **{word: i for names in (_ES_MONTHS, _ES_SHORT, _DE_MONTHS, _DE_SHORT) for i, word in enumerate(names, start=1)},
    "sept": 9, "set": 9, "setiembre": 9,  # Spanish
    "janner": 1, "feber": 2, "maerz": 3, "mrz": 3,  # German (Austrian "Jänner", "Feber")
}

# Weekday names, any language (Monday is 0), for the Spanish and German phrasings ("el viernes", "am Freitag").
WEEKDAY_WORDS: dict[str, int] = {
    **{word: i for i, word in enumerate(WEEKDAYS)},
    **{word: i for i, word in enumerate(["lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo"])},
    **{word: i for i, word in enumerate(
        ["montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag"])},
    "sonnabend": 5,
}
WEEKDAY_ARTICLES = frozenset({"el", "am"})  # "el viernes", "am Freitag"
WEEKDAY_NEXT = frozenset({"proximo", "nachsten", "nachster", "nachste", "naechsten", "naechster", "naechste",
                          "kommenden", "kommender", "kommende"})  # "próximo viernes", "nächsten Freitag": as alone
WEEKDAY_AFTER = ("que", "viene")  # "el viernes que viene"

# Days from today.
DAY_WORDS: dict[str, int] = {
    "today": 0, "tonight": 0, "hoy": 0, "heute": 0,
    "tomorrow": 1, "manana": 1, "morgen": 1,
    "pasado manana": 2, "ubermorgen": 2, "uebermorgen": 2,
}

# "in 3 days", "en tres días", "in einer Woche": the count, and the unit's days.
NUMBER_WORDS: dict[str, int] = {
    **{w: i for i, w in enumerate(["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                                   "eleven", "twelve"], start=1)},
    **{w: i for i, w in enumerate(["uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve",
                                   "diez", "once", "doce"], start=1)},
    **{w: i for i, w in enumerate(["ein", "zwei", "drei", "vier", "funf", "sechs", "sieben", "acht", "neun",
                                   "zehn", "elf", "zwolf"], start=1)},
    "a": 1, "un": 1, "una": 1, "eine": 1, "einer": 1, "einem": 1, "einen": 1,  # "in a week", "en una semana"…
    "fuenf": 5, "zwoelf": 12,
}
UNIT_DAYS: dict[str, int] = {
    "day": 1, "days": 1, "week": 7, "weeks": 7,
    "dia": 1, "dias": 1, "semana": 7, "semanas": 7,
    "tag": 1, "tage": 1, "tagen": 1, "woche": 7, "wochen": 7,
}
IN_WORDS = frozenset({"in", "en"})


def fold(text: str) -> str:
    """`text` case-folded, its accents dropped and its spaces collapsed: "  Pasado  MAÑANA" → "pasado manana";
    composed (NFC) and decomposed (NFD) accents alike."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def english_month(word: str) -> int | None:
    """"dec", "decem", "December", "sept" → the month; "Decoration" or "marsh" → None (a prefix of the name)."""
    if len(word) < 3:
        return None
    month = MONTHS.get(word[:3])
    if month is None:
        return None
    return month if MONTH_NAMES[month - 1].startswith(word) else None


def month_of(word: str) -> int | None:
    """A folded month word in any of the languages ("dec", "dic", "dez", "diciembre", "dezember"), or None."""
    return english_month(word) or MONTH_WORDS.get(word)


def weekday_of(words: list[str]) -> int | None:
    """A weekday phrase, folded and split: [el|am] [próximo|nächsten|kommenden…] WEEKDAY [que viene] → the
    weekday (Monday 0); None for anything else ("el", "próximo 15 dic", "el lunes martes")."""
    if tuple(words[-2:]) == WEEKDAY_AFTER:
        words = words[:-2]
    if words[:1] and words[0] in WEEKDAY_ARTICLES:
        words = words[1:]
    if words[:1] and words[0] in WEEKDAY_NEXT:
        words = words[1:]
    return WEEKDAY_WORDS.get(words[0]) if len(words) == 1 else None


def in_days(words: list[str]) -> int | None:
    """"in 3 days", "en tres días", "in einer Woche", folded and split → the number of days; else None."""
    if len(words) != 3 or words[0] not in IN_WORDS or words[2] not in UNIT_DAYS:
        return None
    count = int(words[1]) if words[1].isdecimal() and len(words[1]) <= 3 else NUMBER_WORDS.get(words[1])
    return None if count is None else count * UNIT_DAYS[words[2]]
