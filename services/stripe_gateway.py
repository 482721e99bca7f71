"""Payment gateways: Stripe Checkout (the only adapter that imports `stripe`) and a labelled demo.

Stripe exceptions are translated here into PaymentError so nothing above knows the SDK.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

import stripe

from core.errors import PaymentError
from models.ops import AttemptStatus, PaymentAttempt
from repos.payments import PaymentRepo
from services.stripe_amounts import from_stripe_amount, to_stripe_amount

log = logging.getLogger(__name__)

LINE_NAME_CHARS = 250  # a product name stays short: Stripe shows it on the Checkout page and the receipt


@dataclass(frozen=True)
class CheckoutLine:
    """One line item: one passenger on one flight."""

    name: str
    amount: int  # ISO minor units of the request's currency


@dataclass(frozen=True)
class CheckoutRequest:
    booking_id: str
    reference: str
    attempt: int
    email: str
    currency: str
    lines: list[CheckoutLine]  # one per passenger per flight, outbound first
    expires_at: int  # epoch seconds
    success_url: str
    cancel_url: str
    locale: str = "auto"  # the Checkout page's language: the booking's ("es", "de"), else the browser's

    @property
    def idempotency_key(self) -> str:
        # One key per booking, attempt and expiry: a double tap or a retry after a timeout returns the same
        # session; an attempt whose session was never stored, made again later with a fresh expiry, gets a new one
        # (Stripe refuses a key reused with other parameters).
        return f"flyo-checkout-{self.booking_id}-{self.attempt}-{self.expires_at}"


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    expires_at: int
    amount_total: int
    currency: str


class PaymentGateway(Protocol):
    demo: bool

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession: ...

    async def expire_checkout(self, session_id: str) -> None: ...

    async def settle_checkout(self, session_id: str) -> dict[str, Any]:
        """Make the session unpayable and say how it ended: {"status": "expired"} or the complete session
        (a dict of the Checkout Session object) when the customer paid first. PaymentError: Stripe can't say."""
        ...

    async def refund(self, payment_intent: str, amount: int, idempotency_key: str, *, currency: str) -> str: ...

    async def close(self) -> None: ...


class StripeGateway:
    """Stripe Checkout through `stripe.StripeClient` (async methods, API root from STRIPE_API_URL).

    Amounts cross in FlyO's ISO 4217 minor units and are converted to Stripe's own here (services/stripe_amounts).
    """

    demo = False

    def __init__(self, api_key: str, api_url: str) -> None:
        self._http = stripe.HTTPXClient(timeout=20)
        self._client = stripe.StripeClient(api_key, base_addresses={"api": api_url.rstrip("/")},
                                           http_client=self._http, max_network_retries=2)

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        line_items: list[dict[str, Any]] = [
            {
                "quantity": 1,
                "price_data": {
                    "currency": request.currency.lower(),
                    "unit_amount": to_stripe_amount(line.amount, request.currency),
                    "product_data": {"name": line.name[:LINE_NAME_CHARS]},
                },
            }
            for line in request.lines
        ]
        metadata = {"booking_id": request.booking_id, "reference": request.reference,
                    "attempt": str(request.attempt)}
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": line_items,
            "client_reference_id": request.booking_id,
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            "customer_email": request.email,
            "expires_at": request.expires_at,
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "locale": request.locale,
        }
        try:
            session = await self._client.v1.checkout.sessions.create_async(
                params,  # type: ignore[arg-type]
                options={"idempotency_key": request.idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _translate(exc, "create the payment link") from None
        currency = str(session.currency).upper()
        return CheckoutSession(id=session.id, url=session.url or "", expires_at=int(session.expires_at),
                               amount_total=from_stripe_amount(int(session.amount_total or 0), currency),
                               currency=currency)

    async def expire_checkout(self, session_id: str) -> None:
        try:
            await self._client.v1.checkout.sessions.expire_async(session_id)
        except stripe.InvalidRequestError as exc:
            # Already expired or completed: the goal (no payable session) holds either way.
            log.info("checkout session %s not expired: %s", session_id, exc.user_message)
        except stripe.StripeError as exc:
            raise _translate(exc, "expire the payment link") from None

    async def settle_checkout(self, session_id: str) -> dict[str, Any]:
        try:
            expired = await self._client.v1.checkout.sessions.expire_async(session_id)
            return dict(expired.to_dict())
        except stripe.InvalidRequestError:
            pass  # not open any more: completed (paid) or expired already — ask which
        except stripe.StripeError as exc:
            raise _translate(exc, "expire the payment link") from None
        try:
            session = await self._client.v1.checkout.sessions.retrieve_async(session_id)
        except stripe.StripeError as exc:
            raise _translate(exc, "read the payment link") from None
        return dict(session.to_dict())

    async def refund(self, payment_intent: str, amount: int, idempotency_key: str, *, currency: str) -> str:
        """Refund `amount` ISO minor units of `currency`, rounded towards zero to what Stripe accepts."""
        stripe_amount = to_stripe_amount(amount, currency, refund=True)
        try:
            refund = await self._client.v1.refunds.create_async(
                {"payment_intent": payment_intent, "amount": stripe_amount, "reason": "requested_by_customer"},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _translate(exc, "refund the payment") from None
        return str(refund.id)

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]


def _translate(exc: stripe.StripeError, doing: str) -> PaymentError:
    status = getattr(exc, "http_status", None)
    message = getattr(exc, "user_message", None) or str(exc)
    log.warning("stripe could not %s (HTTP %s): %s", doing, status, message)
    return PaymentError(f"Stripe could not {doing} ({message}).")


DEMO_COMPLETING = AttemptStatus.COMPLETING  # PaymentAttempt.status while the demo page's paid event is delivered


class DemoGateway:
    """Terminal chat only: labelled demo sessions on FlyO's own server (/demo/checkout/<id>), no money.

    Behaves like Stripe where it matters for safety: the session id is unguessable (it is the only key to
    the checkout page), the same idempotency key returns the same session, and an expired session stays
    expired (its PaymentAttempt is marked, and the demo page refuses it).
    """

    demo = True

    def __init__(self, public_url: str, attempts: PaymentRepo | None = None) -> None:
        self.public_url = public_url.rstrip("/")
        self.attempts = attempts or PaymentRepo()
        self._sessions: dict[str, CheckoutSession] = {}  # idempotency key → session (one console process)

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        known = self._sessions.get(request.idempotency_key)
        if known is not None:  # a double tap or a retry gets the same session, as with Stripe
            return known
        session_id = f"cs_demo_{secrets.token_urlsafe(32)}"
        session = CheckoutSession(id=session_id, url=f"{self.public_url}/demo/checkout/{session_id}",
                                  expires_at=request.expires_at,
                                  amount_total=sum(line.amount for line in request.lines),
                                  currency=request.currency.upper())
        self._sessions[request.idempotency_key] = session
        return session

    async def expire_checkout(self, session_id: str) -> None:
        # Only an open session expires; a paid one stays paid (Stripe answers "already complete").
        await self.attempts.expire_open_attempt(session_id)

    async def settle_checkout(self, session_id: str) -> dict[str, Any]:
        await self.expire_checkout(session_id)
        attempt = await self.attempts.attempt(session_id)
        if attempt is None:
            raise PaymentError("Unknown demo checkout session.")
        # "completing": the person pressed Pay (demo) and the event is on its way (or was lost): paid, as on Stripe.
        return self.session_object(attempt, paid=attempt.status in (AttemptStatus.PAID, DEMO_COMPLETING))

    @staticmethod
    def session_object(attempt: PaymentAttempt, *, paid: bool) -> dict[str, Any]:
        """The Checkout Session as Stripe would describe it (the demo page's event carries the same object)."""
        return {
            "id": attempt.session_id, "object": "checkout.session", "mode": "payment", "livemode": False,
            "status": "complete" if paid else "expired", "payment_status": "paid" if paid else "unpaid",
            "amount_total": to_stripe_amount(attempt.amount, attempt.currency),
            "amount_subtotal": to_stripe_amount(attempt.amount, attempt.currency), "currency": attempt.currency.lower(),
            "client_reference_id": attempt.booking_id,
            "metadata": {"booking_id": attempt.booking_id, "reference": attempt.reference,
                         "attempt": str(attempt.attempt)},
            # One payment per session, so one stable id: the event and a later settle agree on it.
            "payment_intent": "pi_demo_" + hashlib.sha256(attempt.session_id.encode()).hexdigest()[:24]
            if paid else None,
        }

    async def refund(self, payment_intent: str, amount: int, idempotency_key: str, *, currency: str) -> str:
        return f"re_demo_{secrets.token_hex(6)}"

    async def close(self) -> None:
        return None

