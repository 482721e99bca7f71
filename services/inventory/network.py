"""FlyO's network as pure data: airports, aircraft types, routes and their daily timetable.

Nothing here touches the database or depends on the seed: the network (which routes exist, their aircraft,
block times, departure times and flight numbers) is the airline's published schedule, the same on every run.
Per-route "randomness" comes from `random.Random("network:<route>")`, which hashes the string with SHA-512,
so it is stable across processes and machines (unlike `hash()`, which is salted per process).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import time
from functools import cache

import airportsdata

from models import AircraftType, Airport, CabinLayout

# Only the codes are typed by hand; names, cities, countries, zones and coordinates come from airportsdata.
AIRPORT_CODES: tuple[str, ...] = (
    # Europe
    "LHR", "LGW", "STN", "LCY", "MAN", "EDI", "DUB", "CDG", "ORY", "NCE", "AMS", "BRU", "FRA", "MUC", "BER",
    "ZRH", "GVA", "VIE", "PRG", "WAW", "CPH", "ARN", "OSL", "HEL", "MAD", "BCN", "LIS", "FCO", "MXP", "LIN",
    "ATH", "IST",
    # Middle East and Africa
    "DXB", "DOH", "CAI", "JNB", "CPT", "NBO",
    # Asia and Oceania
    "DEL", "BOM", "SIN", "KUL", "BKK", "HKG", "PVG", "ICN", "NRT", "HND", "SYD", "MEL",
    # Americas
    "JFK", "EWR", "LGA", "BOS", "IAD", "DCA", "ATL", "MIA", "ORD", "DFW", "LAX", "SFO", "SEA", "YYZ", "YVR",
    "MEX", "GRU",
)

# Metro codes come from airportsdata's IATA multi-airport cities, kept where the network serves two or more
# of the city's airports. One correction: its NYC lists JFK and LGA only, but IATA's NYC includes Newark.
_METRO_ADDITIONS = {"EWR": "NYC"}

# airportsdata names the municipality the airport is in; travellers search by the city it serves.
# Checked for every code above (airportsdata 20260905): LHR/LGW/STN/LCY are already "London", CDG/ORY "Paris".
CITY_OVERRIDES: dict[str, str] = {
    "EWR": "New York",  # "Newark": it is one of New York's three airports (metro NYC)
    "IST": "Istanbul",  # "Arnavutköy, Istanbul"
    "YYZ": "Toronto",  # "Mississauga"
    "YVR": "Vancouver",  # "Richmond"
    "FRA": "Frankfurt",  # "Frankfurt am Main"
    "DFW": "Dallas",  # "Dallas-Fort Worth"
}

# Hubs get more frequencies; every other airport is a spoke of at least one of them.
HUBS = frozenset({"LHR", "CDG", "AMS", "FRA", "MUC", "MAD", "IST", "DXB", "DOH", "SIN", "HKG", "HND", "ICN",
                  "JFK", "ORD", "ATL", "LAX", "DFW", "YYZ"})

# Each line: an airport and the airports it is linked to; every link is flown in both directions.
# Long haul only between big airports; short haul fans out from the hubs; a few domestic trunks.
_LINKS = """
LHR: CDG AMS FRA MUC MAD BCN FCO ZRH VIE CPH ARN OSL DUB LIS ATH IST EDI MAN
LHR: JFK BOS ORD LAX SFO YYZ DXB DOH DEL SIN HKG HND JNB
LGW: BCN NCE GVA EDI
STN: DUB BER MXP
LCY: AMS ZRH DUB
CDG: AMS FRA MAD BCN FCO PRG WAW
CDG: JFK LAX MIA MEX GRU DXB SIN BKK NBO CAI
ORY: NCE LIS
AMS: FRA BCN MAD CPH OSL
AMS: JFK ATL SIN
FRA: MUC BER VIE ZRH IST
FRA: JFK ORD SFO DXB DEL HKG
MUC: BER FCO EWR
MAD: BCN LIS MEX GRU
BRU: BCN
LIN: FCO
ZRH: JFK
CPH: OSL HEL
ARN: HEL
IST: ATH DXB JFK
DXB: DEL BOM BKK SYD JNB CAI
DOH: BOM
SIN: HKG BKK KUL SYD MEL
HKG: PVG ICN HND SFO
HND: ICN LAX
NRT: BKK JFK
SYD: MEL LAX
DEL: BOM
JNB: CPT
JFK: LAX SFO MIA ATL
LGA: ORD BOS DCA
EWR: SFO
ORD: LAX DFW SEA YYZ
LAX: SFO SEA MEX
ATL: DFW MIA
YYZ: YVR
MIA: GRU
IAD: SFO
DCA: ATL
"""

# Departure banks in minutes after local midnight (5-minute grid); hubs bank their departures like this.
_SHORT_BANKS = ((360, 475), (540, 715), (780, 1015), (1050, 1255))  # 06:00 · 09:00 · 13:00 · 17:30 starts
_BANKS_FOR_COUNT = {1: (0, 1, 3), 2: (0, 3), 3: (0, 2, 3), 4: (0, 1, 2, 3)}
_LONG_BANKS = ((570, 835), (1080, 1375))  # late morning, evening (overnight eastbound)
_EXTRA_FIRST, _EXTRA_LAST = 330, 1410  # extra slots (departures_scale > 1) stay within 05:30-23:30

CRUISE_KMH = 800
TAXI_MINUTES = 30


@dataclass(frozen=True)
class Slot:
    flight_number: str
    local_time: time  # in the origin's time zone, the same wall-clock time every day (DST included)


@dataclass(frozen=True)
class Route:
    origin: str
    destination: str
    distance_km: int
    aircraft: str  # AircraftType.code
    duration_minutes: int  # block time, taxi included
    base_times: tuple[time, ...]  # departures at departures_scale 1.0
    link_index: int  # position of the link in _LINKS; flight numbers derive from it
    direction: int  # 0 as listed in _LINKS, 1 the way back
    business_ratio: float  # business base fare / economy base fare
    fare_factor: float  # route-specific price level (competition, demand)
    demand: float  # 0..1, how full flights on this route tend to be

    @property
    def key(self) -> str:
        return f"{self.origin}-{self.destination}"


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def initial_bearing(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Degrees clockwise from north; its sine is the eastward share of the track (jet-stream effect)."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360


def aircraft_for(distance_km: float) -> str:
    if distance_km < 800:
        return "E90"
    if distance_km < 2000:
        return "320"
    if distance_km < 5000:
        return "321"
    return "789" if distance_km < 9000 else "77W"


@cache
def _airport_data() -> dict[str, airportsdata.Airport]:
    data = airportsdata.load("IATA")
    return {code: data[code] for code in AIRPORT_CODES}


@cache
def metros() -> dict[str, str]:
    """Airport code -> IATA metro code, for the cities where the network has several airports."""
    served = set(AIRPORT_CODES)
    metro_of = dict(_METRO_ADDITIONS)
    for mac, city in airportsdata.load_iata_macs().items():
        codes = served & set(city["airports"])
        if len(codes | {a for a, m in _METRO_ADDITIONS.items() if m == mac}) >= 2:
            metro_of.update(dict.fromkeys(codes, mac))
    return metro_of


def network_airports() -> list[Airport]:
    """The network's airports, not saved. `model_construct` because Beanie refuses to build a Document
    before `init_beanie`, and these values come from a curated, tested data set."""
    metro_of = metros()
    return [
        Airport.model_construct(
            iata=code, icao=row["icao"], name=row["name"], city=CITY_OVERRIDES.get(code, row["city"]),
            country=row["country"], tz=row["tz"], lat=float(row["lat"]), lon=float(row["lon"]),
            metro=metro_of.get(code, ""),
        )
        for code, row in _airport_data().items()
    ]


def aircraft_types() -> list[AircraftType]:
    """The fleet, not saved (model_construct: see network_airports). Seat letters skip I, as airlines do."""
    def cabin(name: str, first: int, last: int, columns: str, skip: list[int] | None = None, *,
              exits: tuple[int, ...] = (), wing: tuple[int, int] | None = None,
              legroom: tuple[int, ...] = ()) -> CabinLayout:
        return CabinLayout(cabin=name, first_row=first, last_row=last, columns=columns, skip_rows=skip or [],
                           exit_rows=list(exits), wing_rows=list(range(wing[0], wing[1] + 1)) if wing else [],
                           legroom_rows=list(legroom))

    # Exits, wings and legroom rows as these types are commonly configured (the first row of a cabin sits at a
    # bulkhead; over-wing exits have the room to reach them).
    return [
        AircraftType.model_construct(code="E90", name="Embraer 190", cabins=[
            cabin("business", 1, 2, "AC DF", legroom=(1,)),
            cabin("economy", 3, 26, "AC DF", [13], exits=(11,), wing=(9, 15), legroom=(3, 11))]),
        AircraftType.model_construct(code="320", name="Airbus A320", cabins=[
            cabin("business", 1, 3, "AC DF", legroom=(1,)),
            cabin("economy", 4, 30, "ABC DEF", [13], exits=(11, 12), wing=(9, 16), legroom=(4, 11, 12))]),
        AircraftType.model_construct(code="321", name="Airbus A321", cabins=[
            cabin("business", 1, 4, "AC DF", legroom=(1,)),
            cabin("economy", 5, 36, "ABC DEF", [13], exits=(5, 16, 25), wing=(14, 21), legroom=(5, 16, 25))]),
        AircraftType.model_construct(code="789", name="Boeing 787-9", cabins=[
            cabin("business", 1, 7, "AC DG HK", exits=(1,), legroom=(1,)),
            cabin("economy", 10, 40, "ABC DEF HJK", [13], exits=(10, 28), wing=(17, 26), legroom=(10, 28))]),
        AircraftType.model_construct(code="77W", name="Boeing 777-300ER", cabins=[
            cabin("business", 1, 8, "AC DG HK", exits=(1,), legroom=(1,)),
            cabin("economy", 10, 48, "ABC DEFG HJK", [13], exits=(10, 31, 44), wing=(20, 30),
                  legroom=(10, 31, 44))]),
    ]


@cache
def _links() -> tuple[tuple[str, str], ...]:
    links: list[tuple[str, str]] = []
    seen: set[frozenset[str]] = set()
    for line in _LINKS.strip().splitlines():
        hub, _, spokes = line.partition(":")
        for spoke in spokes.split():
            pair = frozenset((hub.strip(), spoke))
            if pair in seen or hub.strip() == spoke:
                raise ValueError(f"duplicate or self link {hub}-{spoke} in _LINKS")
            seen.add(pair)
            links.append((hub.strip(), spoke))
    return tuple(links)


def _daily_departures(a: str, b: str, distance: float, rng: random.Random) -> int:
    hubs = (a in HUBS) + (b in HUBS)
    if distance < 2500:  # hub-to-hub shuttles fly 3-4 a day, thin routes 1-2
        count = 1 + hubs + (rng.random() < 0.35)
    elif distance < 5000:
        count = 1 + (hubs == 2) + (rng.random() < 0.3)
    else:
        count = 1 + (hubs == 2 and distance < 9000 and rng.random() < 0.4)
    return max(1, min(4, count))


def _base_times(
    count: int, long_haul: bool, from_the_americas_eastwards: bool, rng: random.Random
) -> tuple[time, ...]:
    if long_haul and count == 1:
        # Long haul from the Americas eastwards leaves in the evening and lands in the morning.
        banks = [_LONG_BANKS[1 if from_the_americas_eastwards else rng.randrange(2)]]
    elif long_haul:
        banks = list(_LONG_BANKS)
    else:
        banks = [_SHORT_BANKS[i] for i in _BANKS_FOR_COUNT[count]]
        if count == 1:
            banks = [rng.choice(banks)]
    minutes = sorted(rng.randrange(lo, hi + 1, 5) for lo, hi in banks)
    return tuple(time(m // 60, m % 60) for m in minutes)


@cache
def _routes() -> tuple[Route, ...]:
    data = _airport_data()
    routes: list[Route] = []
    for index, (a, b) in enumerate(_links()):
        pa, pb = data[a], data[b]
        lat_a, lon_a, lat_b, lon_b = float(pa["lat"]), float(pa["lon"]), float(pb["lat"]), float(pb["lon"])
        distance = great_circle_km(lat_a, lon_a, lat_b, lon_b)
        # Shared by both directions: the same frequency and price level each way.
        link_rng = random.Random(f"network:{a}-{b}")
        count = _daily_departures(a, b, distance, link_rng)
        ratio = link_rng.uniform(3.0, 3.8) if distance < 2500 else link_rng.uniform(3.8, 4.8)
        fare_factor = link_rng.uniform(0.9, 1.15)
        demand = min(1.0, 0.45 + 0.15 * ((a in HUBS) + (b in HUBS)) + link_rng.uniform(0, 0.2))
        for direction, (o, d, lat1, lon1, lat2, lon2) in enumerate(
            ((a, b, lat_a, lon_a, lat_b, lon_b), (b, a, lat_b, lon_b, lat_a, lon_a))
        ):
            rng = random.Random(f"network:{o}-{d}")
            # Jet stream: eastbound legs are faster, westbound slower; plus a little per-route variation.
            wind = 1 - 0.06 * math.sin(math.radians(initial_bearing(lat1, lon1, lat2, lon2)))
            wind += rng.uniform(-0.02, 0.02)
            block = TAXI_MINUTES + distance / CRUISE_KMH * 60 * wind
            routes.append(Route(
                origin=o, destination=d, distance_km=round(distance), aircraft=aircraft_for(distance),
                duration_minutes=5 * round(block / 5),
                base_times=_base_times(count, distance >= 5000, lon1 < -30 < lon2, rng),
                link_index=index, direction=direction, business_ratio=round(ratio, 3),
                fare_factor=round(fare_factor, 3), demand=round(demand, 3),
            ))
    return tuple(routes)


def network_routes() -> list[Route]:
    """Every directed route, in a stable order (link order, outbound before return)."""
    return list(_routes())


def find_route(origin: str, destination: str) -> Route | None:
    """The route between two airports (e.g. for live pricing with `fares.base_fares`), if FlyO flies it."""
    return _routes_by_key().get(f"{origin}-{destination}")


@cache
def _routes_by_key() -> dict[str, Route]:
    return {r.key: r for r in _routes()}


def max_daily_departures() -> int:
    """Slots a route can have while every flight number keeps four digits (see _flight_number)."""
    return 4 + (10000 - 2000) // (2 * len(_links()))


def _flight_number(route: Route, slot: int) -> str:
    # Base slots (0-3): 100 + 10·link + 2·slot + direction, e.g. LHR-CDG FO100/FO102…, CDG-LHR FO101/FO103….
    # Extra slots (departures_scale > 1) take a block of 2·links numbers each from 2000 up. Both stable across
    # days, and an outbound number is always even, its return odd.
    links = len(_links())
    if slot < 4:
        number = 100 + 10 * route.link_index + 2 * slot + route.direction
    else:
        number = 2000 + (slot - 4) * 2 * links + 2 * route.link_index + route.direction
    if number > 9999:
        raise ValueError(f"flight number {number} for {route.key} slot {slot} exceeds four digits")
    return f"FO{number}"


def departures(route: Route, scale: float = 1.0) -> list[Slot]:
    """The route's daily slots; `scale` multiplies their number (min. one), extra ones fill the day evenly."""
    total = max(1, round(len(route.base_times) * scale))
    if total > max_daily_departures():
        raise ValueError(f"{total} departures a day on {route.key} exceeds {max_daily_departures()}; "
                         "lower departures_scale")
    times = list(route.base_times[:total])
    used = {t.hour * 60 + t.minute for t in times}
    extra = total - len(times)
    rng = random.Random(f"network:extra:{route.key}")
    offset = rng.randrange(0, 60, 5)
    positions = (_EXTRA_LAST - _EXTRA_FIRST - 60) // 5
    for j in range(extra):
        minute = _EXTRA_FIRST + offset + 5 * (j * positions // extra)
        while minute in used:  # collides with a base slot: next free 5-minute step, wrapping within the day
            minute = minute + 5 if minute < _EXTRA_LAST else _EXTRA_FIRST
        used.add(minute)
        times.append(time(minute // 60, minute % 60))
    return [Slot(_flight_number(route, k), t) for k, t in enumerate(times)]
