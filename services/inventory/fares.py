"""Fares of the local inventory: pure functions, reused by the booking service for live pricing.

Money is integer minor units. Every currency used here has two decimals (see `currency_for_country`), so a
fare of 14900 is 149.00 in its currency; `convert_fare` relies on it (every currency in EUR_RATES has two).
"""

from __future__ import annotations

import itertools
import math
import random
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

# Currency rule: the origin country's own currency when it is a major two-decimal currency that Stripe
# charges in everywhere; otherwise USD. Zero-decimal currencies (JPY, KRW) are priced in USD on purpose, so
# that every amount in FlyO has exactly two decimals.
_EUROZONE = frozenset({"AT", "BE", "CY", "DE", "EE", "ES", "FI", "FR", "GR", "HR", "IE", "IT", "LT", "LU",
                       "LV", "MT", "NL", "PT", "SI", "SK"})
_LOCAL_CURRENCY = {"GB": "GBP", "US": "USD", "CH": "CHF", "SE": "SEK", "NO": "NOK", "DK": "DKK", "PL": "PLN",
                   "CZ": "CZK", "CA": "CAD", "AU": "AUD", "SG": "SGD", "HK": "HKD", "AE": "AED"}
# Units of each currency per euro. Fixed, so seeding stays deterministic; fares are quotes, not conversions.
EUR_RATES = {"EUR": 1.0, "GBP": 0.85, "USD": 1.10, "CHF": 0.95, "SEK": 11.3, "NOK": 11.6, "DKK": 7.46,
             "PLN": 4.30, "CZK": 25.0, "CAD": 1.50, "AUD": 1.65, "SGD": 1.47, "HKD": 8.60, "AED": 4.04}
# ISO 4217 currencies whose minor unit is not a hundredth: none may get a rate (convert_fare maps minor units
# to minor units, which is only right when both have two decimals).
_NOT_TWO_DECIMALS = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "PYG", "XOF", "XAF", "BHD", "KWD",
                               "OMR", "JOD", "TND", "LYD", "IQD"})
assert not _NOT_TWO_DECIMALS & EUR_RATES.keys(), "every currency in EUR_RATES must have two decimals"

# One-way economy base fare in EUR by great-circle distance (km), interpolated linearly between points.
_ECONOMY_EUR_BY_KM = ((0, 45.0), (500, 75.0), (1000, 105.0), (2500, 170.0), (5000, 380.0), (8000, 560.0),
                      (12000, 740.0), (18000, 950.0))

# Month -> season factor (peaks: summer holidays, Christmas); business travel follows seasons less.
_SEASON = (0.85, 0.85, 0.95, 1.0, 1.0, 1.1, 1.25, 1.25, 1.0, 0.95, 0.85, 1.05)
# Monday..Sunday: leisure travellers fill Fridays and Sundays, business travellers Mondays and Thursdays.
_WEEKDAY = {
    "economy": (1.0, 0.9, 0.9, 1.0, 1.12, 0.95, 1.1),
    "business": (1.08, 1.0, 1.0, 1.06, 1.08, 0.9, 1.0),
}
# (days before departure at least, factor), checked top-down: late bookings pay more, business a bit less so
# (its fares are mostly flexible already), which keeps business at about 3-5x economy on every date.
_ADVANCE = {
    "economy": ((60, 0.92), (21, 1.0), (14, 1.05), (7, 1.15), (3, 1.3), (0, 1.45)),
    "business": ((60, 0.96), (21, 1.0), (14, 1.05), (7, 1.12), (3, 1.22), (0, 1.35)),
}


def currency_for_country(country: str) -> str:
    if country in _EUROZONE:
        return "EUR"
    return _LOCAL_CURRENCY.get(country, "USD")


def convert_fare(amount_minor: int, from_currency: str, to_currency: str) -> int | None:
    """`amount_minor` (minor units of `from_currency`) in minor units of `to_currency` at the fixed reference
    rates (EUR_RATES, via the euro), rounded half up to a whole minor unit; None when either currency has no
    rate. Both have two decimals, so minor units map to minor units. Exact decimal arithmetic: the same
    amount always converts to the same result, and a larger amount never to a smaller one."""
    source, target = EUR_RATES.get(from_currency), EUR_RATES.get(to_currency)
    if source is None or target is None:
        return None
    if from_currency == to_currency:
        return amount_minor
    value = Decimal(amount_minor) * Decimal(str(target)) / Decimal(str(source))
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def economy_eur(distance_km: float) -> float:
    points = _ECONOMY_EUR_BY_KM
    for (d0, f0), (d1, f1) in itertools.pairwise(points):
        if distance_km <= d1:
            return f0 + (f1 - f0) * (distance_km - d0) / (d1 - d0)
    return points[-1][1]


def base_fares(
    distance_km: float, business_ratio: float, fare_factor: float, currency: str
) -> dict[str, int]:
    """Unrounded base fare per cabin in minor units of `currency`, before date and load adjustments."""
    economy = economy_eur(distance_km) * fare_factor * EUR_RATES[currency] * 100
    return {"business": round(economy * business_ratio), "economy": round(economy)}


def _season(day: date) -> float:
    if (day.month == 12 and day.day >= 18) or (day.month == 1 and day.day <= 3):
        return 1.3  # Christmas and New Year
    return _SEASON[day.month - 1]


def nice_price(minor: float) -> int:
    """Whole units ending in 9 (69, 149, 1199, 43999), as airlines price: minor units, two decimals."""
    units = minor / 100
    step = 10 if units < 1000 else 100 if units < 10000 else 1000
    return (max(step, math.floor(units / step + 0.5) * step) - 1) * 100


def quote_fare(base_minor: int, cabin: str, departure_date: date, today: date, load_factor: float) -> int:
    """The fare for one passenger in minor units: base × season × weekday × advance purchase × demand.

    `load_factor` is the share of the cabin already sold (0..1); the fuller the flight, the dearer the seat.
    """
    days_before = max(0, (departure_date - today).days)
    advance = next(factor for threshold, factor in _ADVANCE[cabin] if days_before >= threshold)
    season = _season(departure_date)
    if cabin == "business":
        season = 1 + (season - 1) / 2
    demand = (0.8 + 0.6 * load_factor**2) if cabin == "economy" else (0.85 + 0.45 * load_factor**2)
    weekday = _WEEKDAY[cabin][departure_date.weekday()]
    return nice_price(base_minor * season * weekday * advance * demand)


def simulated_load_factor(seed: str, flight_number: str, departure_date: date, demand: float) -> float:
    """How full a seeded flight is: the route's demand, busier on Fridays/Sundays and in summer, plus noise.

    Deterministic per (seed, flight, date): `random.Random` seeds from the string by SHA-512.
    """
    rng = random.Random(f"{seed}:{flight_number}:{departure_date.isoformat()}")
    weekday = (0.0, -0.08, -0.08, 0.0, 0.08, -0.04, 0.06)[departure_date.weekday()]
    summer = 0.08 if departure_date.month in (7, 8) else 0.0
    value = demand * 0.8 + weekday + summer + rng.gauss(0, 0.1)
    return round(min(0.98, max(0.1, value)), 3)
