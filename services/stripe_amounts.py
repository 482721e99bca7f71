"""FlyO's money (ISO 4217 minor units) ↔ Stripe's `amount` integers, which are not always the same thing.

Stripe's rules (https://docs.stripe.com/currencies, "Minor units in API amounts" and "Special cases"):
- most currencies: the ISO minor unit (cents) — the same integer;
- zero-decimal currencies (BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF): whole units. ISO 4217
  agrees except for MGA (ISO: 2 decimals), so MGA is divided by 100;
- three-decimal currencies (BHD JOD KWD OMR TND): ISO's thousandths, but the last digit must be 0 ("5.124 KWD must
  be rounded to 5120 or 5130"), so amounts are rounded to a multiple of 10;
- ISK: zero-decimal since 2023, but still sent with two decimals that must be 00 — 5 ISK is 500 (ISO: 5);
- HUF, TWD: zero-decimal for payouts only; charges and refunds take two decimals like ISO. FlyO makes no payouts.
  UGX's special case is likewise about payouts; its charges are zero-decimal like ISO.
A currency Stripe does not list (IQD, LYD, ...) passes through as its ISO minor units; Stripe refuses the charge.

Rounding: a charge goes to the nearest amount Stripe accepts (halves away from zero); a refund rounds towards zero,
so FlyO never asks Stripe to refund more than was taken. Converting Stripe's amounts back is exact for every
amount Stripe can hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from services.money import minor_units_exponent

ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND",
                          "VUV", "XAF", "XOF", "XPF"})
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
WHOLE_UNITS_IN_CENTS = frozenset({"ISK"})  # two decimals in the API, always 00


def stripe_exponent(currency: str) -> int:
    """Decimal places in Stripe's `amount` for this currency (JPY 0, KWD 3, ISK 2, most 2)."""
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    if code in WHOLE_UNITS_IN_CENTS:
        return 2
    return minor_units_exponent(code)


def _step(code: str) -> int:
    """The granularity Stripe accepts, in its own units: 10 for three-decimal currencies, 100 for ISK, else 1."""
    if code in THREE_DECIMAL:
        return 10
    if code in WHOLE_UNITS_IN_CENTS:
        return 100
    return 1


def to_stripe_amount(minor: int, currency: str, *, refund: bool = False) -> int:
    """ISO minor units → Stripe's amount: 12345 KWD → 12350 (a refund: 12340); 5 ISK → 500; 12345 MGA → 123."""
    code = currency.upper()
    value = Decimal(minor).scaleb(stripe_exponent(code) - minor_units_exponent(code))
    step = _step(code)
    rounding = ROUND_DOWN if refund else ROUND_HALF_UP
    return int((value / step).quantize(Decimal(1), rounding)) * step


def from_stripe_amount(amount: int, currency: str) -> int:
    """Stripe's amount → ISO minor units: 500 ISK → 5; 123 MGA → 12300; 12350 KWD → 12350; 1999 GBP → 1999.

    An ISK amount from before 2023 with öre in it (rare) rounds to the nearest króna."""
    code = currency.upper()
    value = Decimal(amount).scaleb(minor_units_exponent(code) - stripe_exponent(code))
    return int(value.quantize(Decimal(1), ROUND_HALF_UP))


def checkout_total(line_amounts: Iterable[int], currency: str) -> int:
    """What Stripe charges for a Checkout of these line items (ISO minor units each), in Stripe's units: each
    line item is rounded on its own, so this, not the ISO total, is what a paid session's amount_total must
    equal."""
    return sum(to_stripe_amount(amount, currency) for amount in line_amounts)
