"""Airports of the network: IATA code, city, country and the time zone local times are shown in."""

from __future__ import annotations

from beanie import Document
from pymongo import ASCENDING, IndexModel


class Airport(Document):
    iata: str
    icao: str = ""
    name: str
    city: str
    country: str  # ISO 3166-1 alpha-2
    tz: str  # IANA zone, e.g. "Europe/London"
    lat: float
    lon: float
    metro: str = ""  # IATA metropolitan-area code when the city has several airports (LON, NYC, PAR)

    class Settings:
        name = "airports"
        indexes = [IndexModel([("iata", ASCENDING)], unique=True), IndexModel([("city", ASCENDING)])]
