"""Money is integer minor units plus an ISO 4217 currency; this formats it for people."""

from __future__ import annotations

ZERO_DECIMAL = {"JPY", "KRW", "VND", "CLP", "ISK", "HUF", "TWD", "UGX", "XAF", "XOF"}
SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "JPY": "¥", "CHF": "CHF ", "AUD": "A$", "CAD": "C$",
           "SGD": "S$", "HKD": "HK$", "INR": "₹", "AED": "AED ", "BRL": "R$", "MXN": "MX$", "ZAR": "R "}
def money(minor: int, currency: str) -> str:
    """12345, "EUR" → "€123.45"; zero-decimal currencies have no fraction."""
    code = currency.upper()
    amount = f"{minor:,}" if code in ZERO_DECIMAL else f"{minor / 100:,.2f}"
    symbol = SYMBOLS.get(code)
    return f"{symbol}{amount}" if symbol else f"{amount} {code}"


def minor_units_exponent(currency: str) -> int:
    return 0 if currency.upper() in ZERO_DECIMAL else 2
