"""The dashboard's bookings export: one CSV row per booking created in the window, newest first.

For admins (the route checks), so the contact e-mail is there in full. Spreadsheets run a cell that starts with
= + - @ (or a tab or carriage return before one) as a formula — a passenger named "=HYPERLINK(…)" would be
code on the admin's machine — so such a cell gets a leading apostrophe (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime

from core.clock import as_utc
from models.booking import Booking
from repos.dashboard import DashboardRepo
from services.context import Services
from services.dashboard import major_units
from services.dashboard_data import window_start

COLUMNS = ("reference", "created_utc", "status", "payment_status", "route", "departure_utc", "passengers",
           "amount", "currency", "email")
MAX_ROWS = 20_000  # 90 days of a busy FlyO; beyond that, a database export is the tool
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The value as text a spreadsheet shows as text: a leading ' before what would start a formula."""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _utc(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def route(booking: Booking) -> str:
    """"LHR-JFK" one way (connections included), "LHR-JFK-LHR" for a return."""
    legs = booking.legs()
    return "-".join([legs[0][0].flight.origin, *(leg[-1].flight.destination for leg in legs)])


def row(booking: Booking) -> list[str]:
    price = booking.price
    values: list[object] = [
        booking.reference, _utc(booking.created_at), booking.status.value, booking.payment.status.value,
        route(booking), _utc(booking.first_flight.departs_at), "; ".join(p.full_name for p in booking.passengers),
        format(major_units(price.total, price.currency), "f"), price.currency, booking.email,
    ]
    return [safe_cell(value) for value in values]


def write_csv(bookings: Iterable[Booking]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow(COLUMNS)
    writer.writerows(row(booking) for booking in bookings)
    return out.getvalue()


async def export(services: Services, days: int) -> tuple[str, str]:
    """(file name, CSV text) of the bookings created in the `days` UTC days ending today."""
    now = services.clock.now()
    bookings = await DashboardRepo().bookings_since(window_start(now, days), MAX_ROWS)
    return f"flyo-bookings-{now:%Y-%m-%d}.csv", write_csv(bookings)
