"""Airport lookup by IATA code, metro code, city or airport name — case-insensitive and typo-tolerant."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from models.airport import Airport


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().strip()


@dataclass
class AirportMatch:
    """`airports` non-empty: a match (several → a city with several airports). Else `suggestions`."""

    query: str
    airports: list[Airport] = field(default_factory=list)
    city: str | None = None
    suggestions: list[Airport] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.airports)


class AirportDirectory:
    """The network's airports in memory (tens of entries): lookups cost no database round trip."""

    def __init__(self, airports: list[Airport]) -> None:
        self.by_code = {a.iata: a for a in airports}
        self._choices: dict[str, list[Airport]] = {}
        for airport in airports:
            for key in (airport.city, airport.name, f"{airport.name} {airport.city}"):
                self._choices.setdefault(_fold(key), []).append(airport)

    def get(self, code: str) -> Airport | None:
        return self.by_code.get(code.upper())

    def city_airports(self, city: str) -> list[Airport]:
        return sorted((a for a in self.by_code.values() if _fold(a.city) == _fold(city)), key=lambda a: a.iata)

    def resolve(self, text: str) -> AirportMatch:
        query = text.strip()
        folded = _fold(query)
        if not folded:
            return AirportMatch(query)
        upper = query.upper()
        if len(upper) == 3 and upper in self.by_code:
            return AirportMatch(query, [self.by_code[upper]])
        metro = sorted((a for a in self.by_code.values() if a.metro and a.metro == upper), key=lambda a: a.iata)
        if len(upper) == 3 and metro:
            return AirportMatch(query, metro, city=metro[0].city)
        exact_city = [a for a in self.by_code.values() if _fold(a.city) == folded]
        if exact_city:
            return AirportMatch(query, sorted(exact_city, key=lambda a: a.iata), city=exact_city[0].city)
        named = [a for a in self.by_code.values() if len(folded) >= 4 and folded in _fold(a.name)]
        if len(named) == 1:
            return AirportMatch(query, named)
        scored = process.extract(folded, list(self._choices), scorer=fuzz.WRatio, limit=12)
        if scored and len(folded) >= 4 and scored[0][1] >= 80:
            best = scored[0][1]
            top = [key for key, score, _ in scored if score >= best - 2]
            cities = {a.city for key in top for a in self._choices[key]}
            # Accept a typo only when one city clearly wins ("londn" → London), otherwise suggest.
            if len(cities) == 1:
                city_airports = self.city_airports(cities.pop())
                city = city_airports[0].city if len(city_airports) > 1 else None
                return AirportMatch(query, city_airports, city=city)
        suggestions = [a for a, _score in self._rank_suggestions(folded)][:3]
        return AirportMatch(query, suggestions=suggestions)

    def _rank_suggestions(self, folded: str) -> list[tuple[Airport, float]]:
        scores: dict[str, float] = {}
        for airport in self.by_code.values():
            score = max(
                fuzz.WRatio(folded, _fold(airport.city)),
                fuzz.WRatio(folded, _fold(airport.name)),
                fuzz.ratio(folded, airport.iata.casefold()) * 0.9,
            )
            scores[airport.iata] = score
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        return [(self.by_code[code], score) for code, score in ranked]
