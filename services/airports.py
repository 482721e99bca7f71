"""Airport lookup by IATA code, metro code, city or airport name — case-insensitive and typo-tolerant.

Every lookup does bounded work whatever it is given (issue #12: a long message once held the event loop for
seconds): the text is cut to `MAX_QUERY_CHARS` first, the airports' folded names are computed once when the
directory is built (not per lookup), and the fuzzy pass tells rapidfuzz the lowest score that can matter, so it
skips keys that can't reach it. `counters` count the work, so tests and benchmarks can bound it per message.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from models.airport import Airport

# Longer than any city or airport name a traveller types; the fuzzy scorer's cost grows with the text's length.
MAX_QUERY_CHARS = 60
ACCEPT_SCORE = 80  # a typo ("londn") is accepted from this WRatio score…
TIE_MARGIN = 2  # …when no key of another city scores within this of the best
# Issue #15: a fuzzy match under this score is a guess ("atlantis" → Atlanta scores 80, "londn" → London 91):
# it is found, but not `sure`, and the bot asks "Did you mean Atlanta (ATL)?" instead of taking it.
SURE_SCORE = 85
MIN_FUZZY_CHARS = 4  # shorter text is a code or nothing: fuzzy matching two letters finds noise
SUGGESTIONS = 3


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().strip()


@dataclass
class AirportMatch:
    """`airports` non-empty: a match (several → a city with several airports). Else `suggestions`."""

    query: str
    airports: list[Airport] = field(default_factory=list)
    city: str | None = None
    suggestions: list[Airport] = field(default_factory=list)  # also for a guess: the guess's airports first
    score: float = 100.0  # 100 for a code, a city or a word of a name; a typo's fuzzy score

    @property
    def found(self) -> bool:
        return bool(self.airports)

    @property
    def sure(self) -> bool:
        """Found and not a guess: a fuzzy match scoring under SURE_SCORE is asked about."""
        return self.found and self.score >= SURE_SCORE


@dataclass
class LookupCounters:
    """Work done by one directory since it was built (monotonic; compare before and after)."""

    lookups: int = 0  # resolve() calls
    fuzzy_scans: int = 0  # passes of the fuzzy scorer over a list of keys
    scored: int = 0  # keys handed to the scorer: an upper bound on its calls


class AirportDirectory:
    """The network's airports in memory (tens of entries): lookups cost no database round trip."""

    def __init__(self, airports: list[Airport]) -> None:
        self.by_code = {a.iata: a for a in airports}
        self.counters = LookupCounters()
        ordered = sorted(self.by_code.values(), key=lambda a: a.iata)
        # Folded once here: folding (NFKD + casefold) every airport's names on every lookup was most of its cost.
        self._airports = ordered
        self._city_keys = [_fold(a.city) for a in ordered]
        self._name_keys = [_fold(a.name) for a in ordered]
        self._code_keys = [a.iata.casefold() for a in ordered]
        self._by_city: dict[str, list[Airport]] = {}
        self._by_metro: dict[str, list[Airport]] = {}
        self._choices: dict[str, list[Airport]] = {}
        for airport, city, name in zip(ordered, self._city_keys, self._name_keys, strict=True):
            self._by_city.setdefault(city, []).append(airport)
            if airport.metro:
                self._by_metro.setdefault(airport.metro, []).append(airport)
            for key in (city, name, _fold(f"{airport.name} {airport.city}")):
                self._choices.setdefault(key, []).append(airport)
        self._choice_keys = list(self._choices)
        self._city_key_of = {a.iata: city for a, city in zip(ordered, self._city_keys, strict=True)}

    def get(self, code: str) -> Airport | None:
        return self.by_code.get(code.upper())

    def tz(self, code: str) -> str:
        """The airport's time zone; "UTC" for one FlyO does not know (texts still show a time)."""
        airport = self.get(code)
        return airport.tz if airport else "UTC"

    def city(self, code: str) -> str:
        """The airport's city; the code itself for one FlyO does not know."""
        airport = self.get(code)
        return airport.city if airport else code

    def city_airports(self, city: str) -> list[Airport]:
        return list(self._by_city.get(_fold(city), []))

    def resolve(self, text: str, *, suggest: bool = True) -> AirportMatch:
        """The airports `text` names; with `suggest`, up to three "did you mean" airports when none.

        Only the first MAX_QUERY_CHARS characters are read. The one-line search parser passes
        `suggest=False`: it only needs to know whether a piece of the message is a place.
        """
        self.counters.lookups += 1
        query = text.strip()[:MAX_QUERY_CHARS]
        folded = _fold(query)
        if not folded:
            return AirportMatch(query)
        upper = query.upper()
        if len(upper) == 3 and upper in self.by_code:
            return AirportMatch(query, [self.by_code[upper]])
        metro = self._by_metro.get(upper) if len(upper) == 3 else None
        if metro:
            return AirportMatch(query, list(metro), city=metro[0].city)
        exact_city = self._by_city.get(folded)
        if exact_city:
            return AirportMatch(query, list(exact_city), city=exact_city[0].city)
        if len(folded) >= MIN_FUZZY_CHARS:
            named = [a for a, name in zip(self._airports, self._name_keys, strict=True) if folded in name]
            if len(named) == 1:
                return AirportMatch(query, named)
            city_key, score = self._fuzzy_city(folded)
            if city_key is not None:
                city_airports = list(self._by_city[city_key])
                match = AirportMatch(query, city_airports,
                                     city=city_airports[0].city if len(city_airports) > 1 else None, score=score)
                if suggest and not match.sure:  # a guess: offer it first, then the next closest airports
                    codes = {a.iata for a in city_airports}
                    others = [a for a in self._suggest(folded, 2 * SUGGESTIONS) if a.iata not in codes]
                    match.suggestions = (city_airports + others)[:SUGGESTIONS]
                return match
        if not suggest:
            return AirportMatch(query)
        return AirportMatch(query, suggestions=self._suggest(folded))

    def _fuzzy_city(self, folded: str) -> tuple[str | None, float]:
        """The one city whose keys score best (≥ ACCEPT_SCORE) for a typo, with its score; None when none or
        several tie."""
        self.counters.fuzzy_scans += 1
        self.counters.scored += len(self._choice_keys)
        # Keys under the cutoff can neither win nor tie with a winner, so rapidfuzz may skip them early.
        scored = process.extract(folded, self._choice_keys, scorer=fuzz.WRatio, limit=12,
                                 score_cutoff=ACCEPT_SCORE - TIE_MARGIN)
        if not scored or scored[0][1] < ACCEPT_SCORE:
            return None, 0.0
        best = scored[0][1]
        cities = {self._city_key_of[a.iata] for key, score, _ in scored if score >= best - TIE_MARGIN
                  for a in self._choices[key]}
        # Accept a typo only when one city clearly wins ("londn" → London), otherwise suggest.
        return (cities.pop(), best) if len(cities) == 1 else (None, 0.0)

    def _suggest(self, folded: str, count: int = SUGGESTIONS) -> list[Airport]:
        """The airports closest to `folded` by city, name or code (ties by code, for stable answers)."""
        best = [0.0] * len(self._airports)
        for keys, scorer, weight in ((self._city_keys, fuzz.WRatio, 1.0), (self._name_keys, fuzz.WRatio, 1.0),
                                     (self._code_keys, fuzz.ratio, 0.9)):
            self.counters.fuzzy_scans += 1
            self.counters.scored += len(keys)
            for _key, score, index in process.extract(folded, keys, scorer=scorer, limit=None):
                best[index] = max(best[index], score * weight)
        ranked = sorted(range(len(self._airports)), key=lambda i: (-best[i], self._airports[i].iata))
        return [self._airports[i] for i in ranked[:count]]
