"""Money is integer minor units plus an ISO 4217 currency; the import point for showing it (core/formatting.py)."""

from __future__ import annotations

from core.formatting import minor_units
from core.formatting import money as _format_money


def money(minor: int, currency: str, *, locale: str | None = None) -> str:
    """12345, "EUR" → "€123.45"; 12345, "KWD" → "KWD12.345"; in the update's locale unless one is given."""
    return _format_money(minor, currency, locale)


def minor_units_exponent(currency: str) -> int:
    """ISO 4217 minor units: KWD 3, JPY 0, GBP 2 (what FlyO stores; Stripe's own units: services/stripe_amounts)."""
    return minor_units(currency)
