"""The price of an itinerary of one way: one through fare in the first flight's currency.

A direct flight costs its own fare. A connection costs the sum of its flights' fares in the cabin, later
flights sold in another currency converted with the inventory's reference rates (services.inventory.fares) and
rounded to whole units, so one booking is always paid in one currency. The same rule prices the results
(services.connections) and the traveller's pick (handlers), so what is shown is what is charged.
"""

from __future__ import annotations

from collections.abc import Sequence

from models.flight import Flight
from services.inventory.fares import convert_fare


def whole_units(minor: int) -> int:
    """A converted fare rounded half up to whole units (£377.86 → £378.00), as fares are quoted; every currency
    with a reference rate has two decimals (services.inventory.fares)."""
    return (minor + 50) // 100 * 100


def through_fares(flights: Sequence[Flight], cabin: str, currency: str | None = None) -> tuple[str, list[int]] | None:
    """(currency, fare per passenger of each flight in it), or None when a flight lacks the cabin or its fare
    can't be put in the currency. `currency`: the itinerary's (a return is paid in the outbound's); default the
    first flight's. Only the local inventory's fares are converted: a live fare is the airline's price in its own
    currency, so a live flight sold in another currency is not offered in this itinerary."""
    if not flights or any(cabin not in f.fares for f in flights):
        return None
    currency = currency or flights[0].currency
    fares: list[int] = []
    for flight in flights:
        own = flight.fares[cabin]
        if flight.currency == currency:
            fares.append(own)
            continue
        fare = convert_fare(own, flight.currency, currency) if flight.source == "local" else None
        if fare is None:
            return None
        fares.append(whole_units(fare))
    return currency, fares
