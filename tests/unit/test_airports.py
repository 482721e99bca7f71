"""Airport lookup as a traveller types it: code, metro code, city, airport name, accents, typos, nonsense.

A pure function over an in-memory directory built from a handful of real airports (no database).
"""

from __future__ import annotations

import pytest

from models.airport import Airport
from services.airports import MAX_QUERY_CHARS, SUGGESTIONS, SURE_SCORE, AirportDirectory


def _airport(iata: str, name: str, city: str, country: str, tz: str, metro: str = "") -> Airport:
    # model_construct: Beanie refuses to build a Document before init_beanie, and nothing is saved here
    airport: Airport = Airport.model_construct(iata=iata, icao="", name=name, city=city, country=country, tz=tz,
                                               lat=0.0, lon=0.0, metro=metro)
    return airport


AIRPORTS = [
    _airport("LHR", "London Heathrow Airport", "London", "GB", "Europe/London", "LON"),
    _airport("LGW", "London Gatwick Airport", "London", "GB", "Europe/London", "LON"),
    _airport("STN", "London Stansted Airport", "London", "GB", "Europe/London", "LON"),
    _airport("LCY", "London City Airport", "London", "GB", "Europe/London", "LON"),
    _airport("EDI", "Edinburgh Airport", "Edinburgh", "GB", "Europe/London"),
    _airport("JFK", "John F Kennedy International Airport", "New York", "US", "America/New_York", "NYC"),
    _airport("LGA", "La Guardia Airport", "New York", "US", "America/New_York", "NYC"),
    _airport("CDG", "Charles de Gaulle International Airport", "Paris", "FR", "Europe/Paris", "PAR"),
    _airport("ORY", "Paris-Orly Airport", "Paris", "FR", "Europe/Paris", "PAR"),
    _airport("AMS", "Amsterdam Airport Schiphol", "Amsterdam", "NL", "Europe/Amsterdam"),
    _airport("FRA", "Frankfurt am Main Airport", "Frankfurt", "DE", "Europe/Berlin"),
    _airport("MUC", "Munich Airport", "Munich", "DE", "Europe/Berlin"),
    _airport("ZRH", "Zurich Airport", "Zurich", "CH", "Europe/Zurich"),
    _airport("GRU", "Guarulhos International Airport", "São Paulo", "BR", "America/Sao_Paulo"),
    _airport("DXB", "Dubai International Airport", "Dubai", "AE", "Asia/Dubai"),
    _airport("IST", "Istanbul Airport", "Istanbul", "TR", "Europe/Istanbul"),
]
LONDON = ["LCY", "LGW", "LHR", "STN"]


@pytest.fixture(scope="module")
def directory() -> AirportDirectory:
    return AirportDirectory(AIRPORTS)


# (typed, the airports offered, the city named when it has several airports or was typed as a city)
FOUND: list[tuple[str, list[str], str | None]] = [
    # IATA codes, any case, surrounding spaces ignored
    ("LHR", ["LHR"], None),
    ("lhr", ["LHR"], None),
    ("  jfk ", ["JFK"], None),
    ("Cdg", ["CDG"], None),
    # metropolitan-area codes: every airport of the city
    ("LON", LONDON, "London"),
    ("nyc", ["JFK", "LGA"], "New York"),
    ("PAR", ["CDG", "ORY"], "Paris"),
    # city names: a city with several airports offers them all
    ("London", LONDON, "London"),
    ("LONDON", LONDON, "London"),
    ("new york", ["JFK", "LGA"], "New York"),
    ("Munich", ["MUC"], "Munich"),
    ("dubai", ["DXB"], "Dubai"),
    # accents typed or not
    ("Zürich", ["ZRH"], "Zurich"),
    ("Sao Paulo", ["GRU"], "São Paulo"),
    ("SÃO PAULO", ["GRU"], "São Paulo"),
    ("İstanbul", ["IST"], "Istanbul"),
    # airport names (a word of one airport's name picks that airport, not its whole city)
    ("Heathrow", ["LHR"], None),
    ("gatwick", ["LGW"], None),
    ("London City", ["LCY"], None),
    ("London Heathrow", ["LHR"], None),
    ("charles de gaulle", ["CDG"], None),
    ("Schiphol", ["AMS"], None),
    ("Kennedy", ["JFK"], None),
    ("orly", ["ORY"], None),
    ("edinburgh airport", ["EDI"], None),
    # typos: one city clearly wins
    ("londn", LONDON, "London"),
    ("pariss", ["CDG", "ORY"], "Paris"),
    ("nwe york", ["JFK", "LGA"], "New York"),
    ("new yrok", ["JFK", "LGA"], "New York"),
    ("frankfrut", ["FRA"], None),
    ("amsterdm", ["AMS"], None),
    ("edinbrugh", ["EDI"], None),
]


@pytest.mark.parametrize(("typed", "codes", "city"), FOUND, ids=[typed.strip() or "blank" for typed, _, _ in FOUND])
def test_a_typed_place_resolves_to_its_airports(directory: AirportDirectory, typed: str, codes: list[str],
                                                city: str | None) -> None:
    match = directory.resolve(typed)
    assert match.found
    assert sorted(a.iata for a in match.airports) == codes
    assert match.city == city
    assert match.suggestions == []


# (typed, the first "did you mean" airport, or None when nothing is worth suggesting)
NOT_FOUND: list[tuple[str, str | None]] = [
    ("", None),  # nothing typed: nothing to suggest either
    ("   ", None),
    ("munchen", "MUC"),  # the German name is not in the directory, but Munich is the nearest
    ("xyz", "ZRH"),  # three letters that are no code: a code-like miss, suggestions by closeness
    ("zzzzzzzz", "ZRH"),
    ("ab", "AMS"),  # two letters are never fuzzy-matched to a city
    ("LHR JFK", "JFK"),  # a whole route is not one place
    ("1 dec", "CDG"),  # a date is not a place
]


@pytest.mark.parametrize(("typed", "first_suggestion"), NOT_FOUND, ids=[t.strip() or "blank" for t, _ in NOT_FOUND])
def test_an_unknown_place_is_not_found_and_gets_up_to_three_suggestions(directory: AirportDirectory, typed: str,
                                                                        first_suggestion: str | None) -> None:
    match = directory.resolve(typed)
    assert not match.found and match.airports == [] and match.city is None
    if first_suggestion is None:
        assert match.suggestions == []
    else:
        assert len(match.suggestions) == SUGGESTIONS
        assert match.suggestions[0].iata == first_suggestion
        assert len({a.iata for a in match.suggestions}) == SUGGESTIONS  # three different airports


@pytest.mark.parametrize("typed", ["munchen", "xyz", "qqqq"])
def test_without_suggest_a_miss_is_just_a_miss(directory: AirportDirectory, typed: str) -> None:
    match = directory.resolve(typed, suggest=False)  # what the one-line search parser asks
    assert not match.found and match.suggestions == []


@pytest.mark.parametrize("typed", ["x" * 5000, "london " * 700, "LHR" + " " * 4000 + "JFK"])
def test_a_long_text_is_cut_before_the_lookup(directory: AirportDirectory, typed: str) -> None:
    match = directory.resolve(typed)
    assert len(match.query) <= MAX_QUERY_CHARS


def test_code_lookup_and_city_airports(directory: AirportDirectory) -> None:
    lhr = directory.get("lhr")
    assert lhr is not None and lhr.name == "London Heathrow Airport"
    assert directory.get("XXX") is None
    assert sorted(a.iata for a in directory.city_airports("london")) == LONDON
    assert directory.city_airports("Atlantis") == []


# Issue #15: a fuzzy match is taken only from SURE_SCORE; under it, it is a guess the bot asks about.
# The network's real airports and their real typos, on both sides of the threshold.
@pytest.fixture(scope="module")
def network() -> AirportDirectory:
    from services.inventory.network import network_airports

    return AirportDirectory(network_airports())


@pytest.mark.parametrize(("typed", "codes"), [
    ("londn", ["LCY", "LGW", "LHR", "STN"]), ("pariss", ["CDG", "ORY"]), ("frankfrut", ["FRA"]),
    ("amsterdm", ["AMS"]), ("chicgo", ["ORD"]), ("bostn", ["BOS"]), ("madrd", ["MAD"]), ("Atlanta", ["ATL"]),
    ("LHR", ["LHR"]), ("Heathrow", ["LHR"]),
])
def test_a_clear_typo_or_a_name_is_sure(network: AirportDirectory, typed: str, codes: list[str]) -> None:
    match = network.resolve(typed)
    assert match.sure and sorted(a.iata for a in match.airports) == codes and match.score >= SURE_SCORE
    assert match.suggestions == []


@pytest.mark.parametrize(("typed", "guess", "offered"), [
    ("Atlantis", ["ATL"], ["ATL", "ATH", "DFW"]),  # "Atlantis" silently became Atlanta
    ("tokio", ["HND", "NRT"], ["HND", "NRT", "YYZ"]),
])
def test_a_weak_fuzzy_match_is_a_guess_with_three_suggestions(network: AirportDirectory, typed: str,
                                                              guess: list[str], offered: list[str]) -> None:
    match = network.resolve(typed)
    assert match.found and not match.sure and match.score < SURE_SCORE
    assert sorted(a.iata for a in match.airports) == guess
    assert [a.iata for a in match.suggestions] == offered  # the guess first
    assert network.resolve(typed, suggest=False).suggestions == []  # the parser's look-up: no extra work


def test_the_threshold_sits_between_the_guesses_and_the_typos() -> None:
    assert 80 < SURE_SCORE <= 88  # "atlantis" scores 80; "nwe york" 88, "londn" 91
