"""A loopback Stripe API fake for FlyO's payment tests.

Why it exists: the bot talks to Stripe through the real `stripe` SDK (`StripeClient`), and what breaks in
production are the wire details the SDK hides - bracket-notation form encoding, idempotent retries, Stripe's
error bodies, session state transitions. A fake speaking that wire format lets tests drive the real SDK end
to end without network access or a Stripe account.

Usage::

    async with FakeStripe() as fake:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": fake.url})
        session = await asyncio.to_thread(client.v1.checkout.sessions.create, params={...})
        paid = fake.complete_session(session.id)
        body = json.dumps(build_event("checkout.session.completed", paid)).encode()
        header = sign_payload(body, "whsec_test")

Shapes follow Stripe's published objects (stripe/openapi fixtures3.json, docs.stripe.com examples); only the
fields FlyO can plausibly read are modelled. The fake is test-mode only: live keys are rejected like bad keys.
The fake never imports the real SDK, so it cannot mask SDK behaviour.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import secrets
import string
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.typedefs import Handler

from ._server import RecordedRequest as RecordedRequest
from ._server import RecordingServer, route

JSON = dict[str, Any]

DEFAULT_API_VERSION = "2024-06-20"
_ALNUM = string.ascii_letters + string.digits
_DOC_BASE = "https://stripe.com/docs/error-codes/"


# ---- public helpers ----------------------------------------------------------------------------------------
def build_event(
    event_type: str,
    obj: dict[str, Any],
    *,
    event_id: str | None = None,
    created: int | None = None,
    api_version: str = DEFAULT_API_VERSION,
) -> dict[str, Any]:
    """Wrap `obj` in a Stripe event envelope of the real shape (docs.stripe.com/api/events/object).

    Why: webhook handlers must be tested with what Stripe actually POSTs; the object is deep-copied so later
    changes to the fake's state do not rewrite an event that was already "sent".
    """
    return {
        "id": event_id or _stripe_id("evt", 24),
        "object": "event",
        "api_version": api_version,
        "created": int(time.time()) if created is None else created,
        "data": {"object": copy.deepcopy(obj)},
        "livemode": bool(obj.get("livemode", False)),
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def sign_payload(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """Return a `Stripe-Signature` header value (`t=...,v1=...`) for `payload`.

    Why: the webhook endpoint must verify signatures exactly as Stripe computes them (v1 scheme: hex
    HMAC-SHA256 keyed with the whsec_ secret over `f"{t}.{raw_body}"`). Sign the exact bytes you POST;
    re-serialising the JSON afterwards breaks the signature, as it would in production.
    """
    ts = int(time.time()) if timestamp is None else timestamp
    signed = f"{ts}.".encode() + payload
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


def parse_stripe_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Turn Stripe's bracket-notation form pairs into nested dicts/lists (values stay strings).

    Why: stripe-python sends `line_items[0][price_data][unit_amount]=1000`; tests and handlers want
    `{"line_items": [{"price_data": {"unit_amount": "1000"}}]}`. Values stay strings because that is what the
    server receives; handlers convert where Stripe would.
    """
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = _split_key(key)
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":  # `a[]=x` style: append
                part = str(len(node))
            if last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {}
                    node[part] = child
                node = child
    result = _listify(root)
    assert isinstance(result, dict)
    return result


# ---- errors and state -------------------------------------------------------------------------------------
# Checkout Session `locale` (Stripe API reference, checkout.sessions.create): these values only.
CHECKOUT_LOCALES = frozenset({
    "auto", "bg", "cs", "da", "de", "el", "en", "en-GB", "es", "es-419", "et", "fi", "fil", "fr", "fr-CA", "hr",
    "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "mt", "nb", "nl", "pl", "pt", "pt-BR", "ro", "ru", "sk", "sl",
    "sv", "th", "tr", "vi", "zh", "zh-HK", "zh-TW",
})


class _ApiError(Exception):
    """A Stripe error response; `store` says whether an idempotency key should remember it.

    Why the flag: Stripe saves the result once an endpoint starts executing (so a retried request that hit a
    state error gets the same error back) but not when parameters fail validation.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        store: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.store = store
        error: JSON = {"message": message, "type": type_}
        if code is not None:
            error["code"] = code
            error["doc_url"] = _DOC_BASE + code.replace("_", "-")
        if param is not None:
            error["param"] = param
        self.body: JSON = {"error": error}


@dataclass
class _Stored:
    path: str
    params: dict[str, Any]
    status: int
    body: bytes
    request_id: str


@dataclass
class _PaymentIntent:
    id: str
    amount: int
    currency: str
    latest_charge: str
    metadata: dict[str, Any] = field(default_factory=dict)
    amount_refunded: int = 0


class FakeStripe(RecordingServer):
    """Stripe API fake: Checkout Sessions (create/retrieve/expire) and Refunds (create/retrieve).

    Point the SDK at it with `stripe.StripeClient(key, base_addresses={"api": fake.url})`. State is public so
    tests can arrange and assert: `sessions`, `refunds`, `payment_intents`, `line_items`, `created` (how many
    objects were really created, per object type - idempotent replays do not count), `requests`.

    `fail_next(...)` (body None -> a Stripe-shaped error for the status) answers before auth and idempotency, so
    nothing is stored and a retry with the same Idempotency-Key really executes, as after a network failure.
    """

    def __init__(self, *, api_keys: set[str] | None = None, refund_status: str = "succeeded") -> None:
        """`api_keys`: when given, only these keys are accepted; otherwise any `sk_test_...` key is."""
        super().__init__()
        self.api_keys = api_keys
        self.refund_status = refund_status
        self.sessions: dict[str, JSON] = {}
        self.line_items: dict[str, list[JSON]] = {}
        self.refunds: dict[str, JSON] = {}
        self.payment_intents: dict[str, JSON] = {}
        self.prices: dict[str, JSON] = {}
        self.created: Counter[str] = Counter()
        self._pis: dict[str, _PaymentIntent] = {}
        self._session_pi_data: dict[str, JSON] = {}
        self._idempotency: dict[str, _Stored] = {}
        self._in_flight: set[str] = set()

    # ---- test-side state changes ---------------------------------------------------------------------------
    def complete_session(
        self,
        session_id: str,
        payment_intent: str | None = None,
        amount_total: int | None = None,
        currency: str | None = None,
    ) -> dict[str, Any]:
        """Mark a session paid as if the customer finished Checkout; returns a copy of the session.

        Why: the paid transition happens in the customer's browser, never through the API, so tests need a
        back door. Creates the PaymentIntent the session points at so refunds against it work. Completing an
        already complete session is a no-op; an expired one cannot be paid (ValueError), as on Stripe.
        """
        session = self._require_session(session_id)
        if session["status"] == "complete":
            return copy.deepcopy(session)
        if session["status"] != "open":
            raise ValueError(f"session {session_id} is {session['status']}; only open sessions can be paid")
        if amount_total is not None:
            session["amount_total"] = amount_total
            session["amount_subtotal"] = amount_total
        if currency is not None:
            session["currency"] = currency.lower()
        pi_id = payment_intent or _stripe_id("pi", 24)
        pi_data = self._session_pi_data.get(session_id, {})
        metadata = pi_data.get("metadata") if isinstance(pi_data.get("metadata"), dict) else {}
        self._register_payment_intent(
            pi_id, int(session["amount_total"] or 0), str(session["currency"] or "eur"), dict(metadata or {})
        )
        session.update(
            status="complete",
            payment_status="paid",
            payment_intent=pi_id,
            url=None,
            customer_details={
                "address": {
                    "city": None,
                    "country": None,
                    "line1": None,
                    "line2": None,
                    "postal_code": None,
                    "state": None,
                },
                "email": session.get("customer_email") or "customer@example.com",
                "name": None,
                "phone": None,
                "tax_exempt": "none",
                "tax_ids": [],
            },
        )
        return copy.deepcopy(session)

    def expire_session(self, session_id: str) -> dict[str, Any]:
        """Expire an open session as if `expires_at` had passed; returns a copy (ValueError if not open)."""
        session = self._require_session(session_id)
        if session["status"] != "open":
            raise ValueError(f"session {session_id} is {session['status']}; only open sessions can expire")
        session.update(status="expired", url=None)
        return copy.deepcopy(session)

    def add_payment_intent(
        self, amount: int, currency: str = "eur", payment_intent: str | None = None
    ) -> str:
        """Register a succeeded PaymentIntent (for refund tests that do not go through Checkout)."""
        pi_id = payment_intent or _stripe_id("pi", 24)
        self._register_payment_intent(pi_id, amount, currency.lower(), {})
        return pi_id

    # ---- after record -> fault (base class): auth -> idempotency -> delay -> handler -------------------------
    def _parse_body(self, request: web.Request, raw: bytes) -> Any:
        return parse_stripe_form(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))

    def _parse_query(self, request: web.Request) -> dict[str, Any]:
        return parse_stripe_form(parse_qsl(request.query_string, keep_blank_values=True))

    async def _serve(self, request: web.Request, handler: Handler, recorded: RecordedRequest) -> web.StreamResponse:
        body: dict[str, Any] = recorded.body
        auth_error = self._check_auth(request.headers.get("Authorization"))
        if auth_error is not None:
            return self._error_response(auth_error)
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key:
            await self._sleep()
            return await self._run(handler, request)
        stored = self._idempotency.get(key)
        if stored is not None:
            return self._replay(stored, key, request.path, body)
        if key in self._in_flight:
            return self._error_response(
                _ApiError(
                    409,
                    "There is currently another in-progress request using this Idempotent Key (that probably "
                    f"means you submitted twice, and the other request is still going through): {key}. "
                    "Please try again later.",
                    code="idempotency_key_in_use",
                )
            )
        self._in_flight.add(key)
        try:
            await self._sleep()
            response, store = await self._run_for_store(handler, request)
        finally:
            self._in_flight.discard(key)
        if store and isinstance(response.body, bytes):
            self._idempotency[key] = _Stored(
                request.path, body, response.status, response.body, response.headers["Request-Id"]
            )
        response.headers["Idempotency-Key"] = key
        return response

    async def _run(self, handler: Handler, request: web.Request) -> web.StreamResponse:
        response, _ = await self._run_for_store(handler, request)
        return response

    async def _run_for_store(self, handler: Handler, request: web.Request) -> tuple[web.Response, bool]:
        try:
            result = await handler(request)
        except _ApiError as error:
            return self._error_response(error), error.store
        assert isinstance(result, web.Response)
        return result, True

    def _replay(self, stored: _Stored, key: str, path: str, params: dict[str, Any]) -> web.Response:
        if stored.path != path:
            return self._error_response(
                _ApiError(
                    400,
                    "Keys for idempotent requests can only be used for the same endpoint they were first "
                    f"used for ('{stored.path}' vs '{path}'). Try using a key other than '{key}' if you "
                    "meant to execute a different request.",
                    type_="idempotency_error",
                )
            )
        if stored.params != params:
            return self._error_response(
                _ApiError(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters they were first "
                    f"used with. Try using a key other than '{key}' if you meant to execute a different "
                    "request.",
                    type_="idempotency_error",
                )
            )
        response = web.Response(status=stored.status, body=stored.body, headers=self._response_headers())
        response.headers["Idempotent-Replayed"] = "true"
        response.headers["Original-Request"] = stored.request_id
        response.headers["Idempotency-Key"] = key
        return response

    def _check_auth(self, header: str | None) -> _ApiError | None:
        scheme, _, key = (header or "").partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            return _ApiError(
                401,
                "You did not provide an API key. You need to provide your API key in the Authorization "
                "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
                "https://stripe.com/docs/api#authentication for details, or we can help at "
                "https://support.stripe.com/.",
            )
        valid = key in self.api_keys if self.api_keys is not None else key.startswith("sk_test_")
        if not valid:
            return _ApiError(401, f"Invalid API Key provided: {_redact(key)}", code="api_key_invalid")
        return None

    def _default_fault_body(self, status: int) -> JSON:
        return _default_fault_body(status)

    # ---- responses -----------------------------------------------------------------------------------------
    def _response_headers(self, request: web.Request | None = None) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "Request-Id": _stripe_id("req", 14),
            "Stripe-Version": DEFAULT_API_VERSION,
        }

    def _encode_json(self, body: object) -> bytes:
        return json.dumps(body, indent=2).encode()

    def _json(self, status: int, body: object) -> web.Response:
        return web.Response(status=status, body=self._encode_json(body), headers=self._response_headers())

    def _error_response(self, error: _ApiError) -> web.Response:
        return self._json(error.status, error.body)

    # ---- endpoints -----------------------------------------------------------------------------------------
    async def _unknown(self, request: web.Request) -> web.Response:
        raise _ApiError(
            404,
            f"Unrecognized request URL ({request.method}: {request.path}). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/.",
        )

    @route("POST", "/v1/checkout/sessions")
    async def _create_session(self, request: web.Request) -> web.Response:
        params = parse_stripe_form(parse_qsl((await request.read()).decode(), keep_blank_values=True))
        mode = params.get("mode")
        if not mode:
            raise _missing("mode")
        if mode not in ("payment", "setup", "subscription"):
            raise _ApiError(400, "Invalid mode: must be one of payment, setup, or subscription", param="mode")
        if params.get("locale") is not None and params["locale"] not in CHECKOUT_LOCALES:
            raise _ApiError(400, f"Invalid locale: must be one of {', '.join(sorted(CHECKOUT_LOCALES))}",
                            param="locale")
        items = params.get("line_items")
        if mode != "setup" and not items:
            raise _missing("line_items")
        if items is not None and not isinstance(items, list):
            raise _ApiError(400, "Invalid array", param="line_items")
        line_items = [self._line_item(i, item) for i, item in enumerate(items or [])]
        currencies = {li["currency"] for li in line_items}
        if len(currencies) > 1:
            raise _ApiError(400, "All line items must use the same currency.", param="line_items")
        metadata = _metadata(params.get("metadata"), "metadata")
        created = int(time.time())
        expires_at = created + 24 * 3600
        if "expires_at" in params:
            expires_at = _int(params["expires_at"], "expires_at")
            if expires_at < created + 30 * 60 - 10:
                raise _ApiError(
                    400,
                    "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
                    param="expires_at",
                )
            if expires_at > created + 24 * 3600 + 10:
                raise _ApiError(
                    400,
                    "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
                    param="expires_at",
                )
        amount = sum(li["amount_total"] for li in line_items) if line_items else None
        session_id = "cs_test_a1" + "".join(secrets.choice(_ALNUM) for _ in range(56))
        pmt = params.get("payment_method_types")
        session: JSON = {
            "id": session_id,
            "object": "checkout.session",
            "after_expiration": None,
            "allow_promotion_codes": None,
            "amount_subtotal": amount,
            "amount_total": amount,
            "automatic_tax": {"enabled": False, "liability": None, "status": None},
            "billing_address_collection": None,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "client_secret": None,
            "consent": None,
            "consent_collection": None,
            "created": created,
            "currency": next(iter(currencies)) if currencies else params.get("currency"),
            "custom_fields": [],
            "custom_text": {
                "after_submit": None,
                "shipping_address": None,
                "submit": None,
                "terms_of_service_acceptance": None,
            },
            "customer": params.get("customer"),
            "customer_creation": "if_required" if mode == "payment" else None,
            "customer_details": None,
            "customer_email": params.get("customer_email"),
            "expires_at": expires_at,
            "invoice": None,
            "invoice_creation": None,
            "livemode": False,
            "locale": params.get("locale"),
            "metadata": metadata,
            "mode": mode,
            "payment_intent": None,
            "payment_link": None,
            "payment_method_collection": "if_required",
            "payment_method_options": {},
            "payment_method_types": pmt if isinstance(pmt, list) else ["card"],
            "payment_status": "unpaid",
            "phone_number_collection": {"enabled": False},
            "recovered_from": None,
            "setup_intent": None,
            "shipping_address_collection": None,
            "shipping_cost": None,
            "shipping_details": None,
            "shipping_options": [],
            "status": "open",
            "submit_type": None,
            "subscription": None,
            "success_url": params.get("success_url"),
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": params.get("ui_mode", "hosted"),
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
        }
        self.sessions[session_id] = session
        self.line_items[session_id] = line_items
        pi_data = params.get("payment_intent_data")
        self._session_pi_data[session_id] = pi_data if isinstance(pi_data, dict) else {}
        self.created["checkout.session"] += 1
        return self._json(200, session)

    def _line_item(self, index: int, item: object) -> JSON:
        prefix = f"line_items[{index}]"
        if not isinstance(item, dict):
            raise _ApiError(400, f"Invalid object: {prefix}", param=prefix)
        if "quantity" not in item:
            raise _missing(f"{prefix}[quantity]")
        quantity = _int(item["quantity"], f"{prefix}[quantity]")
        if quantity < 1:
            raise _ApiError(
                400, "This value must be greater than or equal to 1.", param=f"{prefix}[quantity]"
            )
        if "price" in item:
            price = self.prices.get(str(item["price"]))
            if price is None:
                raise _no_such("price", item["price"], f"{prefix}[price]")
            unit_amount = int(price["unit_amount"])
            currency = str(price["currency"]).lower()
            name = str(price.get("nickname") or price.get("product") or "")
        else:
            data = item.get("price_data")
            if not isinstance(data, dict):
                raise _missing(f"{prefix}[price_data]")
            pd = f"{prefix}[price_data]"
            if not data.get("currency"):
                raise _missing(f"{pd}[currency]")
            if "unit_amount" not in data and "unit_amount_decimal" not in data:
                raise _missing(f"{pd}[unit_amount]")
            product_data = data.get("product_data")
            if not data.get("product") and not (isinstance(product_data, dict) and product_data.get("name")):
                raise _missing(f"{pd}[product_data][name]")
            raw_amount = data.get("unit_amount", data.get("unit_amount_decimal"))
            unit_amount = _int(raw_amount, f"{pd}[unit_amount]")
            if unit_amount < 0:
                raise _ApiError(400, "Invalid non-negative integer", param=f"{pd}[unit_amount]")
            currency = str(data["currency"]).lower()
            name = str(product_data.get("name")) if isinstance(product_data, dict) else str(data["product"])
        return {
            "id": _stripe_id("li", 24),
            "object": "item",
            "amount_subtotal": unit_amount * quantity,
            "amount_total": unit_amount * quantity,
            "currency": currency,
            "description": name,
            "quantity": quantity,
            "unit_amount": unit_amount,
        }

    @route("GET", "/v1/checkout/sessions/{id}")
    async def _get_session(self, request: web.Request) -> web.Response:
        return self._json(200, _from_url(self.sessions, request, "checkout.session", "session"))

    @route("POST", "/v1/checkout/sessions/{id}/expire")
    async def _expire_session(self, request: web.Request) -> web.Response:
        session = _from_url(self.sessions, request, "checkout.session", "session")
        if session["status"] != "open":
            raise _ApiError(
                400,
                'Only Checkout Sessions with a status in ["open"] can be expired. '
                f"This Checkout Session has a status of `{session['status']}`.",
                store=True,
            )
        session.update(status="expired", url=None)
        return self._json(200, session)

    @route("POST", "/v1/refunds")
    async def _create_refund(self, request: web.Request) -> web.Response:
        params = parse_stripe_form(parse_qsl((await request.read()).decode(), keep_blank_values=True))
        pi: _PaymentIntent | None = None
        if params.get("payment_intent"):
            pi = self._pis.get(str(params["payment_intent"]))
            if pi is None:
                raise _no_such("payment_intent", params["payment_intent"], "payment_intent")
        elif params.get("charge"):
            pi = next((p for p in self._pis.values() if p.latest_charge == params["charge"]), None)
            if pi is None:
                raise _no_such("charge", params["charge"], "charge")
        else:
            raise _missing("payment_intent")
        remaining = pi.amount - pi.amount_refunded
        amount = remaining
        if "amount" in params:
            amount = _int(params["amount"], "amount")
            if amount <= 0:
                raise _ApiError(400, "Invalid positive integer", param="amount")
        reason = params.get("reason")
        if reason is not None and reason not in ("duplicate", "fraudulent", "requested_by_customer"):
            raise _ApiError(
                400,
                "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
                param="reason",
            )
        if remaining <= 0:
            raise _ApiError(
                400,
                f"Charge {pi.latest_charge} has already been refunded.",
                code="charge_already_refunded",
                store=True,
            )
        if amount > remaining:
            raise _ApiError(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
                code="amount_too_large",
                param="amount",
                store=True,
            )
        pi.amount_refunded += amount
        self.payment_intents[pi.id]["amount_refunded"] = pi.amount_refunded
        refund: JSON = {
            "id": _stripe_id("re", 24),
            "object": "refund",
            "amount": amount,
            "balance_transaction": _stripe_id("txn", 24),
            "charge": pi.latest_charge,
            "created": int(time.time()),
            "currency": pi.currency,
            "destination_details": {
                "card": {
                    "reference_status": "pending",
                    "reference_type": "acquirer_reference_number",
                    "type": "refund",
                },
                "type": "card",
            },
            "metadata": _metadata(params.get("metadata"), "metadata"),
            "payment_intent": pi.id,
            "reason": reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": self.refund_status,
            "transfer_reversal": None,
        }
        self.refunds[refund["id"]] = refund
        self.created["refund"] += 1
        return self._json(200, refund)

    @route("GET", "/v1/refunds/{id}")
    async def _get_refund(self, request: web.Request) -> web.Response:
        return self._json(200, _from_url(self.refunds, request, "refund", "id"))

    # ---- internals -----------------------------------------------------------------------------------------
    def _require_session(self, session_id: str) -> JSON:
        try:
            return self.sessions[session_id]
        except KeyError:
            raise KeyError(f"no checkout session {session_id!r} in FakeStripe") from None

    def _register_payment_intent(self, pi_id: str, amount: int, currency: str, metadata: JSON) -> None:
        pi = _PaymentIntent(pi_id, amount, currency, _stripe_id("ch", 24), metadata)
        self._pis[pi_id] = pi
        self.payment_intents[pi_id] = {
            "id": pi_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": amount,
            "amount_refunded": 0,
            "currency": currency,
            "latest_charge": pi.latest_charge,
            "livemode": False,
            "metadata": metadata,
            "status": "succeeded",
        }


# ---- module internals --------------------------------------------------------------------------------------
_KEY_RE = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def _split_key(key: str) -> list[str]:
    match = _KEY_RE.match(key)
    if match is None:
        return [key]
    return [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]


def _listify(node: object) -> object:
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def _stripe_id(prefix: str, length: int) -> str:
    return f"{prefix}_" + "".join(secrets.choice(_ALNUM) for _ in range(length))


def _missing(param: str) -> _ApiError:
    """Stripe's error for an absent required parameter (`param` in bracket notation)."""
    return _ApiError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)


def _no_such(kind: str, value: object, param: str, *, status: int = 400) -> _ApiError:
    """Stripe's error for an id that names nothing: 404 for the object in the URL, 400 for a parameter."""
    return _ApiError(status, f"No such {kind}: '{value}'", code="resource_missing", param=param)


def _from_url(objects: dict[str, JSON], request: web.Request, kind: str, param: str) -> JSON:
    """The object the URL's `{id}` names, or Stripe's 404 for an unknown id."""
    object_id = request.match_info["id"]
    if object_id not in objects:
        raise _no_such(kind, object_id, param, status=404)
    return objects[object_id]


def _int(value: object, param: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise _ApiError(400, f"Invalid integer: {value}", param=param) from None


def _metadata(value: object, param: str) -> JSON:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise _ApiError(400, "Invalid object", param=param)
    if len(value) > 50:
        raise _ApiError(400, "You can only specify up to 50 metadata keys.", param=param)
    for key, item in value.items():
        if len(key) > 40:
            raise _ApiError(400, "Metadata keys can have up to 40 characters.", param=f"{param}[{key}]")
        if isinstance(item, str) and len(item) > 500:
            raise _ApiError(400, "Metadata values can have up to 500 characters.", param=f"{param}[{key}]")
    return dict(value)


def _redact(key: str) -> str:
    if len(key) <= 12:
        return "*" * len(key)
    head = key[:8] if key.startswith(("sk_", "rk_", "pk_")) else ""
    return head + "*" * (len(key) - len(head) - 4) + key[-4:]


def _default_fault_body(status: int) -> JSON:
    if status == 429:
        return {
            "error": {
                "code": "rate_limit",
                "message": "Request rate limit exceeded. Learn more about rate limits here "
                "https://stripe.com/docs/rate-limits.",
                "type": "invalid_request_error",
            }
        }
    if status == 402:
        return {
            "error": {
                "code": "card_declined",
                "decline_code": "generic_decline",
                "message": "Your card was declined.",
                "type": "card_error",
            }
        }
    if status >= 500:
        return {"error": {"message": "An unknown error occurred", "type": "api_error"}}
    return {"error": {"message": f"Injected HTTP {status} from FakeStripe.", "type": "invalid_request_error"}}
