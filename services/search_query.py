"""A whole search in one message: `LHR JFK 15 Dec 2`, `London to New York, 15 Dec, 3 passengers`.

The work is bounded whatever the text (issue #12: trying every split of a 449-character message, each split
fuzzy-scoring every airport, held the event loop for 11.7 s; 4 KB took minutes):
- text over MAX_CHARS characters or MAX_WORDS words (filler words like "to" not counted) is not read at all;
- the date — the last 1–3 words, after an optional passenger count — is read first (a regex, no look-ups), and
  only splits whose date reads are looked up as places; a place is at most MAX_PLACE_WORDS words;
- each distinct place text is looked up once per message (a per-message cache), without "did you mean"
  suggestions, and after MAX_LOOKUPS look-ups the parser gives up: no real search needs that many.
`ParseStats` reports the work, so tests assert the bounds and the benchmark reports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from services.airports import AirportDirectory, AirportMatch
from services.dates import BadDate, parse_date

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
    BAD_PASSENGERS = "bad_passengers"  # places and date read; the passenger count is outside 1–9


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


def _reads_as_date(text: str, today: date) -> bool:
    try:
        parse_date(text, today)
    except BadDate:
        return False
    return True


def parse_search(text: str, directory: AirportDirectory, today_at: Callable[[str | None], date]) -> SearchQuery:
    """Read origin, destination, date and passengers from one message, with bounded work.

    `today_at(tz)` is today in a time zone (None: UTC); the date is read against the origin's today.
    """
    stats = ParseStats()
    if too_long(text):
        return SearchQuery(Verdict.TOO_LONG, stats)
    words = words_of(text)
    stats.words_considered = len(words)
    places = _Places(directory, stats)
    try:
        for passengers, rest in _passenger_readings(words):
            for date_len in (1, 2, 3):
                place_words, date_text = rest[:-date_len], " ".join(rest[-date_len:])
                if len(place_words) < 2:
                    break
                if not _reads_as_date(date_text, today_at(None)):
                    continue  # no look-ups for a split whose date can't be a date
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
                        day = parse_date(date_text, today)
                    except BadDate:
                        continue
                    pax = 1 if passengers is None else passengers
                    verdict = Verdict.FOUND if 1 <= pax <= MAX_PASSENGERS else Verdict.BAD_PASSENGERS
                    return SearchQuery(verdict, stats, origin, destination, day, today, pax)
    except _OutOfLookups:
        pass
    return SearchQuery(Verdict.NOT_FOUND, stats)
