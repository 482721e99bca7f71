"""A whole search in one message: `LHR JFK 15 Dec 2`, `London to New York, 15 Dec, 3 passengers`, and with a
return date: `LHR JFK 15 Dec 22 Dec 2`, `london new york 15 dec - 22 dec`, `LHR JFK 2026-12-15 2026-12-22`.

The work is bounded whatever the text (issue #12: trying every split of a 449-character message, each split
fuzzy-scoring every airport, held the event loop for 11.7 s; 4 KB took minutes):
- text over MAX_CHARS characters or MAX_WORDS words (filler words like "to" not counted) is not read at all;
- the date — the last 1–3 words, after an optional passenger count — is read first (a regex, no look-ups), and
  only splits whose date reads are looked up as places; a place is at most MAX_PLACE_WORDS words;
- so are two dates (outbound then return, each 1–3 words): a split with two dates is tried first, and only when
  both read as dates; if its place words don't give two places, the one-date readings follow. A trailing number
  is still tried as the passenger count first (`LHR JFK 15 Dec 22` is 22 passengers, not a return on the 22nd);
- each distinct place text is looked up once per message (a per-message cache), without "did you mean"
  suggestions, and after MAX_LOOKUPS look-ups the parser gives up: no real search needs that many (the
  two-date readings share that budget and the cache with the one-date ones).
When no reading gives two places and a date, a *partial* reading (issue #15) keeps what was understood, within
the same budget and cache: the date tail (if any reads, leaving at least one place word), then places read from
the left, each the shortest run of 1…MAX_PLACE_WORDS words that is one (a word that starts none is "not
recognised"; a word without a letter is never looked up), up to two places. At least one place must be read,
and it must be sure (not a fuzzy guess) unless a date was read too; the verdict PARTIAL names the words not
recognised as an airport (`unknown`, and which place they stood for) or the words left over where the date
should be (`bad_date_text`).
A return day-month without a year that reads before the outbound is next year's (`28 Dec 3 Jan`); a return
explicitly before the outbound is kept as typed, with the verdict RETURN_BEFORE_OUTBOUND. Range checks (past,
beyond the bookable window) are the caller's, as for the outbound.
`ParseStats` reports the work, so tests assert the bounds and the benchmark reports them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Literal

from services.airports import AirportDirectory, AirportMatch
from services.dates import BadDate, parse_date, year_implied

MAX_CHARS = 200
MAX_WORDS = 12
MAX_PLACE_WORDS = 6  # "John F Kennedy International Airport" is 5
MAX_LOOKUPS = 24  # a real search needs a handful; a hostile one is cut off here
MAX_PASSENGERS = 9
FILLER = frozenset({"to", "from", "on", "for", "pax", "passengers", "passenger", "adults", "->", "→", "-"})


class Verdict(StrEnum):
    FOUND = "found"
    TOO_LONG = "too_long"  # over MAX_CHARS / MAX_WORDS: not read
    NOT_FOUND = "not_found"  # read, but no split gave two places and a date
    BAD_PASSENGERS = "bad_passengers"  # places and date(s) read; the passenger count is outside 1–9
    RETURN_BEFORE_OUTBOUND = "return_before_outbound"  # places, both dates and 1–9 passengers read; return < day
    PARTIAL = "partial"  # some of it read (a place at least): see `unknown`, `unknown_slot`, `bad_date_text`


@dataclass
class ParseStats:
    words_considered: int = 0
    lookups: int = 0  # airport look-ups made (after the per-message cache)
    cache_hits: int = 0
    splits_tried: int = 0  # (origin, destination) cuts tried after their date read


@dataclass
class SearchQuery:
    verdict: Verdict
    stats: ParseStats = field(default_factory=ParseStats)
    origin: AirportMatch | None = None
    destination: AirportMatch | None = None
    day: date | None = None
    today: date | None = None  # the origin's today, the date was read against it
    passengers: int = 1  # as typed (out of range when the verdict is BAD_PASSENGERS)
    return_day: date | None = None  # None: one way; read against the same `today` as `day`
    day_text: str | None = None  # the outbound date as typed (to say how an ambiguous 05/06 was read)
    unknown: str | None = None  # PARTIAL: the words not recognised as an airport…
    unknown_slot: Literal["origin", "destination"] | None = None  # …and which place they stood for
    bad_date_text: str | None = None  # PARTIAL: two places, then words that don't read as a date


class _OutOfLookups(Exception):
    pass


class _Places:
    """The per-message cache of look-ups, charged against the message's budget."""

    def __init__(self, directory: AirportDirectory, stats: ParseStats) -> None:
        self.directory = directory
        self.stats = stats
        self.seen: dict[str, AirportMatch] = {}

    def find(self, words: list[str]) -> AirportMatch:
        text = " ".join(words)
        key = text.casefold()  # the directory ignores case, so "London" and "london" are one look-up
        if key in self.seen:
            self.stats.cache_hits += 1
            return self.seen[key]
        if self.stats.lookups >= MAX_LOOKUPS:
            raise _OutOfLookups
        self.stats.lookups += 1
        match = self.directory.resolve(text, suggest=False)
        self.seen[key] = match
        return match


def words_of(text: str) -> list[str]:
    return [w for w in text.replace(",", " ").split() if w.casefold() not in FILLER]


def too_long(text: str) -> bool:
    """Longer than any search a person types: answered without reading it (checked before splitting)."""
    stripped = text.strip()
    return len(stripped) > MAX_CHARS or len(words_of(stripped)) > MAX_WORDS


def _passenger_readings(words: list[str]) -> list[tuple[int | None, list[str]]]:
    """A trailing number of up to 3 digits may be the passenger count (a 4-digit one is a year): try that
    reading first, then the words as they are ("LHR JFK Dec 15" is a date, not 15 passengers)."""
    readings: list[tuple[int | None, list[str]]] = []
    last = words[-1] if words else ""
    if len(words) >= 4 and last.isdecimal() and len(last) <= 3:  # isdecimal: int() accepts every such text
        readings.append((int(last), words[:-1]))
    readings.append((None, words))
    return readings


def _cuts(count: int) -> range:
    """Where `count` place words may be split so that both sides are 1…MAX_PLACE_WORDS words."""
    return range(max(1, count - MAX_PLACE_WORDS), min(count - 1, MAX_PLACE_WORDS) + 1)


def _date_readings(words: list[str]) -> Iterator[tuple[list[str], str, str | None]]:
    """(place words, outbound date text, return date text or None) for every tail of `words` that may be dates:
    two dates (each 1–3 words) first, then one; at least two place words are left."""
    for return_len in (1, 2, 3):
        for out_len in (1, 2, 3):
            place_words = words[:-(out_len + return_len)]
            if len(place_words) >= 2:
                yield (place_words, " ".join(words[-(out_len + return_len):-return_len]),
                       " ".join(words[-return_len:]))
    for date_len in (1, 2, 3):
        place_words = words[:-date_len]
        if len(place_words) >= 2:
            yield place_words, " ".join(words[-date_len:]), None


class _Dates:
    """Whether a text reads as a date (on UTC's today, before any look-up), each distinct text read once."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.seen: dict[str, bool] = {}

    def read(self, text: str | None) -> bool:
        if text is None:
            return True
        if text not in self.seen:
            try:
                parse_date(text, self.today)
            except BadDate:
                self.seen[text] = False
            else:
                self.seen[text] = True
        return self.seen[text]


def return_day_of(text: str, day: date, today: date) -> date:
    """The return date typed as `text`, for an outbound on `day`: a day-month without a year that reads before
    the outbound is next year's (outbound 28 Dec, return 3 Jan); any other date is kept as read."""
    back = parse_date(text, today)
    if back < day and year_implied(text):
        with suppress(ValueError):  # 29 February: no such day next year, kept as read
            back = back.replace(year=back.year + 1)
    return back


def parse_search(text: str, directory: AirportDirectory, today_at: Callable[[str | None], date]) -> SearchQuery:
    """Read origin, destination, date(s) and passengers from one message, with bounded work.

    `today_at(tz)` is today in a time zone (None: UTC); the dates are read against the origin's today.
    """
    stats = ParseStats()
    if too_long(text):
        return SearchQuery(Verdict.TOO_LONG, stats)
    words = words_of(text)
    stats.words_considered = len(words)
    places = _Places(directory, stats)
    dates = _Dates(today_at(None))
    try:
        for passengers, rest in _passenger_readings(words):
            for place_words, out_text, back_text in _date_readings(rest):
                if not (dates.read(out_text) and dates.read(back_text)):
                    continue  # no look-ups for a split whose dates can't be dates
                for cut in _cuts(len(place_words)):
                    stats.splits_tried += 1
                    origin = places.find(place_words[:cut])
                    if not origin.found:
                        continue
                    destination = places.find(place_words[cut:])
                    if not destination.found:
                        continue
                    today = today_at(origin.airports[0].tz)
                    try:
                        day = parse_date(out_text, today)
                        back = None if back_text is None else return_day_of(back_text, day, today)
                    except BadDate:
                        continue
                    pax = 1 if passengers is None else passengers
                    if not 1 <= pax <= MAX_PASSENGERS:
                        verdict = Verdict.BAD_PASSENGERS
                    elif back is not None and back < day:
                        verdict = Verdict.RETURN_BEFORE_OUTBOUND
                    else:
                        verdict = Verdict.FOUND
                    return SearchQuery(verdict, stats, origin, destination, day, today, pax, back, out_text)
        return _partial(words, places, dates, today_at) or SearchQuery(Verdict.NOT_FOUND, stats)
    except _OutOfLookups:
        pass
    return SearchQuery(Verdict.NOT_FOUND, stats)


def _partial_dates(words: list[str], dates: _Dates) -> tuple[list[str], str | None, str | None]:
    """The first tail of two dates, else of one, that reads (each 1–3 words, at least one word left before)."""
    for place_words, out_text, back_text in _date_readings(["", *words]):  # "" stands for the one word left
        if dates.read(out_text) and dates.read(back_text):
            return place_words[1:], out_text, back_text
    return words, None, None


def _scan_places(words: list[str], places: _Places) -> list[tuple[int, int, AirportMatch]]:
    """Up to two places from the left, each the shortest run of words that is one: (start, end, match)."""
    found: list[tuple[int, int, AirportMatch]] = []
    start = 0
    while start < len(words) and len(found) < 2:
        # A word without a letter ("15", "2/12", "→") is no place: never looked up, and it ends a run.
        run = 0
        while run < min(MAX_PLACE_WORDS, len(words) - start) and any(c.isalpha() for c in words[start + run]):
            run += 1
        for end in range(start + 1, start + run + 1):
            match = places.find(words[start:end])
            if match.found:
                found.append((start, end, match))
                start = end
                break
        else:
            start += 1  # no place starts at this word
    return found


def _partial(words: list[str], places: _Places, dates: _Dates,
             today_at: Callable[[str | None], date]) -> SearchQuery | None:
    """What can be kept of a search that doesn't read whole (see the module's docstring); None: nothing."""
    passengers, rest = _passenger_readings(words)[0]
    place_words, out_text, back_text = _partial_dates(rest, dates)
    found = _scan_places(place_words, places)
    if not found or not (any(m.sure for _s, _e, m in found) or out_text is not None):
        return None
    query = SearchQuery(Verdict.PARTIAL, places.stats, passengers=1 if passengers is None else passengers)
    (start, end, first), *second = found
    if second:
        query.origin, query.destination = first, second[0][2]
        between, after = place_words[end:second[0][0]], place_words[second[0][1]:]
        if between:  # "LHR XYZ JFK": the words between two places
            query.unknown, query.unknown_slot, query.destination = " ".join(between), "destination", None
        elif after and out_text is None:
            query.bad_date_text = " ".join(after)
    elif start > 0:  # "XYZ JFK 15 Dec": the words before the one place stood for the origin
        query.destination, query.unknown, query.unknown_slot = first, " ".join(place_words[:start]), "origin"
    else:
        query.origin = first
        if place_words[end:]:
            query.unknown, query.unknown_slot = " ".join(place_words[end:]), "destination"
    where = query.origin or query.destination
    assert where is not None
    today = today_at(where.airports[0].tz)
    if out_text is not None:
        try:
            query.day = parse_date(out_text, today)
            query.return_day = None if back_text is None else return_day_of(back_text, query.day, today)
        except BadDate:  # read on UTC's today, not on the origin's: leave the date to be asked
            query.day = query.return_day = None
        query.today, query.day_text = today, out_text
    return query
