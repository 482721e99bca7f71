"""Infants on a lap: who may travel so, what they pay, and what a booking with them costs.

An infant is under 2 on the day of the trip's *last* flight (a baby who turns 2 before the return needs a seat
of their own on it, so such a baby is not offered the lap). A lap infant has no seat and pays INFANT_FARE_PERCENT
of each flight's fare; each adult (16 or over on the first flight's day) holds at most one infant. Live
(airline) fares were priced by the airline for seated travellers only, so their flights offer no lap.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from models.booking import Passenger, Segment
from services.passengers import age_on

INFANT_MAX_AGE = 2  # under this: an infant
ADULT_AGE = 16  # from this age a passenger may hold an infant on the lap


def is_infant(born: date, last_flight_day: date) -> bool:
    return age_on(born, last_flight_day) < INFANT_MAX_AGE


def is_adult(born: date, first_flight_day: date) -> bool:
    return age_on(born, first_flight_day) >= ADULT_AGE


def infant_fare(fare: int, percent: int) -> int:
    """`percent` of a fare (minor units), rounded half up to a whole minor unit."""
    return (fare * percent + 50) // 100


def lap_holders(births: Sequence[date | None], on_lap: Sequence[bool], first_flight_day: date) -> int:
    """Passengers who can hold an infant on their lap: 16 or over on the first flight's day and not on a lap
    themselves — or not dated yet (they may be)."""
    return sum(1 for born, lap in zip(births, on_lap, strict=True)
               if not lap and (born is None or is_adult(born, first_flight_day)))


def party_price(fare: int, infant_fare: int, seated: int, infants: int) -> int:
    """One flight for the party: each seated passenger at the fare, each lap infant at the infant fare."""
    return fare * seated + infant_fare * infants


def booking_total(segments: Sequence[Segment], passengers: Sequence[Passenger]) -> int:
    """What the whole booking costs: each seated passenger each flight's fare, each lap infant its infant fare."""
    infants = sum(1 for p in passengers if p.on_lap)
    seated = len(passengers) - infants
    return sum(party_price(s.fare_per_passenger, s.infant_fare, seated, infants) for s in segments)
