"""Tests of the Stripe, SendGrid and Amadeus fakes against the REAL client libraries.

Why: FlyO's payment, e-mail and flight tests are only as trustworthy as these fakes. Each test drives the
SDK the product uses (stripe 16, sendgrid 6, amadeus 12) against a fake and checks that the SDK parses what
the fake serves and raises the same exception types as against the real service. The synchronous SDKs run
in `asyncio.to_thread`, because the fake's server lives on the test's event loop: a blocking call made
directly from the loop would wait on itself.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import amadeus
import pytest
import pytest_asyncio
import stripe
from python_http_client.exceptions import BadRequestsError, InternalServerError, UnauthorizedError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Category, Header, Mail

from tests.conftest import fixture_path

from .amadeus import FakeAmadeus, build_offer, build_seatmap
from .sendgrid import UNAUTHORIZED_BODY, FakeSendGrid
from .stripe import FakeStripe, build_event, sign_payload

SECRET = "whsec_test_flyo"
KEY = "sk_test_flyo_0123456789"


_fixture = fixture_path  # one lookup (and skip reason) for every test that reads ../shared/fixtures


def _load(*parts: str) -> Any:
    return json.loads(_fixture(*parts).read_text())


# ---- fixtures ----------------------------------------------------------------------------------------------
@pytest_asyncio.fixture
async def fake_stripe() -> AsyncIterator[FakeStripe]:
    async with FakeStripe() as fake:
        yield fake


@pytest_asyncio.fixture
async def fake_sendgrid() -> AsyncIterator[FakeSendGrid]:
    async with FakeSendGrid() as fake:
        yield fake


@pytest_asyncio.fixture
async def fake_amadeus() -> AsyncIterator[FakeAmadeus]:
    async with FakeAmadeus() as fake:
        yield fake


def _stripe(fake: FakeStripe, key: str = KEY, **kwargs: Any) -> stripe.StripeClient:
    return stripe.StripeClient(key, base_addresses={"api": fake.url}, **kwargs)


def _amadeus(fake: FakeAmadeus, secret: str | None = None) -> amadeus.Client:
    return amadeus.Client(
        client_id=fake.client_id,
        client_secret=secret or fake.client_secret,
        host="127.0.0.1",
        port=fake.port,
        ssl=False,
    )


async def _search(
    client: amadeus.Client, origin: str, destination: str, date: str, adults: int = 1, **extra: Any
) -> Any:
    """GET Flight Offers Search through the SDK, off the event loop the fake serves from."""
    return await asyncio.to_thread(
        client.shopping.flight_offers_search.get,
        originLocationCode=origin,
        destinationLocationCode=destination,
        departureDate=date,
        adults=adults,
        **extra,
    )


def _session_params(booking_id: str = "BK-1") -> Any:
    return {
        "mode": "payment",
        "success_url": "https://t.me/flyo_bot?start=paid",
        "cancel_url": "https://t.me/flyo_bot?start=cancel",
        "client_reference_id": booking_id,
        "customer_email": "ada@example.com",
        "metadata": {"booking_id": booking_id, "telegram_user": "42"},
        "line_items": [
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 54670,
                    "product_data": {"name": "BA117 LHR-JFK"},
                },
                "quantity": 2,
            },
            {
                "price_data": {"currency": "eur", "unit_amount": 1500, "product_data": {"name": "Seat 12A"}},
                "quantity": 1,
            },
        ],
    }


# ---- Stripe ------------------------------------------------------------------------------------------------
async def test_stripe_create_session_parses_bracket_form_and_returns_real_shape(
    fake_stripe: FakeStripe,
) -> None:
    client = _stripe(fake_stripe)
    session = await asyncio.to_thread(client.v1.checkout.sessions.create, params=_session_params())

    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.url == f"https://checkout.stripe.com/c/pay/{session.id}"
    assert session.amount_total == session.amount_subtotal == 54670 * 2 + 1500
    assert (session.currency, session.status, session.payment_status, session.mode) == (
        "eur",
        "open",
        "unpaid",
        "payment",
    )
    assert session.client_reference_id == "BK-1"
    assert session.customer_email == "ada@example.com"
    assert session.payment_intent is None
    assert session.livemode is False
    assert session.expires_at > session.created
    assert session.to_dict()["metadata"] == {"booking_id": "BK-1", "telegram_user": "42"}

    sent = fake_stripe.requests[-1]
    assert sent.header("authorization") == f"Bearer {KEY}"
    assert sent.body["line_items"][0]["price_data"]["unit_amount"] == "54670"
    assert sent.body["line_items"][1]["price_data"]["product_data"] == {"name": "Seat 12A"}
    assert sent.body["metadata"]["booking_id"] == "BK-1"
    assert [li["quantity"] for li in fake_stripe.line_items[session.id]] == [2, 1]

    again = await asyncio.to_thread(client.v1.checkout.sessions.retrieve, session.id)
    assert again.to_dict() == session.to_dict()


async def test_stripe_idempotency_key_replays_and_rejects_changed_params(fake_stripe: FakeStripe) -> None:
    client = _stripe(fake_stripe)
    options: Any = {"idempotency_key": "booking-BK-1-checkout"}
    first = await asyncio.to_thread(
        client.v1.checkout.sessions.create, params=_session_params(), options=options
    )
    second = await asyncio.to_thread(
        client.v1.checkout.sessions.create, params=_session_params(), options=options
    )

    assert first.id == second.id
    assert fake_stripe.created["checkout.session"] == 1
    assert second.last_response is not None
    assert second.last_response.headers["Idempotent-Replayed"] == "true"

    with pytest.raises(stripe.IdempotencyError) as excinfo:
        await asyncio.to_thread(
            client.v1.checkout.sessions.create, params=_session_params("BK-2"), options=options
        )
    assert excinfo.value.http_status == 400
    assert fake_stripe.created["checkout.session"] == 1


async def test_stripe_retry_after_injected_500_reuses_key_and_creates_once(fake_stripe: FakeStripe) -> None:
    client = _stripe(fake_stripe, max_network_retries=1)  # StripeClient does not retry unless told to
    fake_stripe.fail_next(500)
    session = await asyncio.to_thread(client.v1.checkout.sessions.create, params=_session_params())

    assert session.status == "open"
    keys = [r.header("Idempotency-Key") for r in fake_stripe.requests]
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0]
    assert fake_stripe.created["checkout.session"] == 1


async def test_stripe_timeout_then_retry_with_same_key_gets_the_original_session(
    fake_stripe: FakeStripe,
) -> None:
    # The dangerous case: Stripe created the session but the bot never saw the answer.
    client = _stripe(fake_stripe, http_client=stripe.RequestsClient(timeout=0.2))
    options: Any = {"idempotency_key": "booking-BK-7-checkout"}
    fake_stripe.delay = 0.5
    with pytest.raises(stripe.APIConnectionError):
        await asyncio.to_thread(
            client.v1.checkout.sessions.create, params=_session_params("BK-7"), options=options
        )
    fake_stripe.delay = 0.0
    for _ in range(40):  # the server side finishes after the client gave up
        if fake_stripe.created["checkout.session"]:
            break
        await asyncio.sleep(0.05)
    retried = await asyncio.to_thread(
        client.v1.checkout.sessions.create, params=_session_params("BK-7"), options=options
    )
    assert list(fake_stripe.sessions) == [retried.id]
    assert retried.last_response is not None
    assert retried.last_response.headers["Idempotent-Replayed"] == "true"
    assert fake_stripe.created["checkout.session"] == 1


async def test_stripe_expire_and_state_errors(fake_stripe: FakeStripe) -> None:
    client = _stripe(fake_stripe)
    open_one = await asyncio.to_thread(client.v1.checkout.sessions.create, params=_session_params())
    expired = await asyncio.to_thread(client.v1.checkout.sessions.expire, open_one.id)
    assert (expired.status, expired.url) == ("expired", None)

    with pytest.raises(stripe.InvalidRequestError) as again:
        await asyncio.to_thread(client.v1.checkout.sessions.expire, open_one.id)
    assert again.value.http_status == 400
    assert "status of `expired`" in str(again.value.user_message)

    paid = await asyncio.to_thread(client.v1.checkout.sessions.create, params=_session_params("BK-9"))
    done = fake_stripe.complete_session(paid.id)
    assert (done["status"], done["payment_status"]) == ("complete", "paid")
    assert done["payment_intent"].startswith("pi_")
    with pytest.raises(stripe.InvalidRequestError, match="status of `complete`"):
        await asyncio.to_thread(client.v1.checkout.sessions.expire, paid.id)

    with pytest.raises(stripe.InvalidRequestError) as missing:
        await asyncio.to_thread(client.v1.checkout.sessions.retrieve, "cs_test_nope")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")


async def test_stripe_refund_defaults_to_paid_amount(fake_stripe: FakeStripe) -> None:
    client = _stripe(fake_stripe)
    session = await asyncio.to_thread(client.v1.checkout.sessions.create, params=_session_params())
    paid = fake_stripe.complete_session(session.id, payment_intent="pi_test_flyo")

    refund = await asyncio.to_thread(
        client.v1.refunds.create,
        params={"payment_intent": "pi_test_flyo", "metadata": {"booking_id": "BK-1"}},
    )
    assert refund.id.startswith("re_")
    assert (refund.object, refund.status, refund.amount) == ("refund", "succeeded", paid["amount_total"])
    assert refund.payment_intent == "pi_test_flyo"
    fetched = await asyncio.to_thread(client.v1.refunds.retrieve, refund.id)
    assert fetched.to_dict() == refund.to_dict()
    assert fake_stripe.created["refund"] == 1

    with pytest.raises(stripe.InvalidRequestError) as twice:
        await asyncio.to_thread(client.v1.refunds.create, params={"payment_intent": "pi_test_flyo"})
    assert twice.value.code == "charge_already_refunded"


async def test_stripe_rejects_missing_or_bad_key(fake_stripe: FakeStripe) -> None:
    for key in ("", "sk_live_not_for_tests_1234"):
        with pytest.raises(stripe.AuthenticationError) as excinfo:
            await asyncio.to_thread(
                _stripe(fake_stripe, key).v1.checkout.sessions.create, params=_session_params()
            )
        assert excinfo.value.http_status == 401
    assert fake_stripe.sessions == {}


# stripe's HTTPXClient passes the form body as `data=<str>`, which httpx 0.28 deprecates; not FlyO's to fix.
@pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes/text content.:DeprecationWarning")
async def test_stripe_async_methods_work_against_the_fake(fake_stripe: FakeStripe) -> None:
    # Default StripeClient: sync calls use `requests`, *_async calls fall back to an httpx.AsyncClient.
    session = await _stripe(fake_stripe).v1.checkout.sessions.create_async(params=_session_params())
    assert session.status == "open"

    # Closable variant: own the async HTTP client so its connection pool is closed on this loop.
    http_client = stripe.HTTPXClient()
    client = _stripe(fake_stripe, http_client=http_client)
    try:
        fetched = await client.v1.checkout.sessions.retrieve_async(session.id)
        expired = await client.v1.checkout.sessions.expire_async(session.id)
    finally:
        await http_client.close_async()
    assert fetched.id == session.id
    assert expired.status == "expired"


async def test_stripe_webhook_signature_roundtrip(fake_stripe: FakeStripe) -> None:
    client = _stripe(fake_stripe)
    session = await asyncio.to_thread(client.v1.checkout.sessions.create, params=_session_params())
    event = build_event("checkout.session.completed", fake_stripe.complete_session(session.id))
    payload = json.dumps(event).encode()
    header = sign_payload(payload, SECRET)

    parsed = stripe.Webhook.construct_event(payload, header, SECRET)
    assert (parsed.id, parsed.type) == (event["id"], "checkout.session.completed")
    assert parsed.id.startswith("evt_")
    obj = parsed.data.object
    assert (obj["id"], obj["payment_status"], obj["metadata"]["booking_id"]) == (session.id, "paid", "BK-1")

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload.replace(b'"paid"', b'"unpaid"'), header, SECRET)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, header, "whsec_other")
    stale = sign_payload(payload, SECRET, timestamp=int(time.time()) - 3600)
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        stripe.WebhookSignature.verify_header(payload, stale, SECRET, tolerance=300)
    assert stripe.WebhookSignature.verify_header(payload, stale, SECRET, tolerance=None)


def test_stripe_fixture_signature_vectors_match_sign_payload() -> None:
    vectors = _load("stripe", "webhook_signature.test_vectors.derived.json")["vectors"]
    assert vectors
    for vector in vectors:
        if "payload_file" in vector:
            payload = _fixture("stripe", *vector["payload_file"].split("/")).read_bytes()
        else:
            payload = vector["payload"].encode()
        header = sign_payload(payload, vector["secret"], timestamp=vector["timestamp"])
        assert header == vector["stripe_signature_header"], vector["name"]
        assert stripe.WebhookSignature.verify_header(payload, header, vector["secret"], tolerance=None)


# ---- SendGrid ----------------------------------------------------------------------------------------------
def _mail(subject: str | None = "Your FlyO booking BK-1") -> Mail:
    mail = Mail(
        from_email=("bookings@flyo.example", "FlyO"),
        to_emails="ada@example.com",
        subject=subject,
        plain_text_content="Booking BK-1 is confirmed.",
        html_content="<p>Booking <b>BK-1</b> is confirmed.</p>",
    )
    mail.category = Category("booking-confirmation")
    mail.header = Header("X-FlyO-Booking", "BK-1")
    return mail


async def test_sendgrid_accepts_mail_and_records_parts(fake_sendgrid: FakeSendGrid) -> None:
    client = SendGridAPIClient("SG.test-key", host=fake_sendgrid.url)
    response = await asyncio.to_thread(client.send, _mail())

    assert response.status_code == 202
    assert response.body == b""
    [message] = fake_sendgrid.messages
    assert response.headers["X-Message-Id"] == message.message_id
    assert message.to == ["ada@example.com"]
    assert (message.from_email, message.from_name) == ("bookings@flyo.example", "FlyO")
    assert message.subject == "Your FlyO booking BK-1"
    assert message.text == "Booking BK-1 is confirmed."
    assert message.html == "<p>Booking <b>BK-1</b> is confirmed.</p>"
    assert message.categories == ["booking-confirmation"]
    assert message.headers == {"X-FlyO-Booking": "BK-1"}
    assert fake_sendgrid.messages_to("ADA@example.com") == [message]
    assert fake_sendgrid.messages_to("bob@example.com") == []
    assert fake_sendgrid.requests[-1].header("Authorization") == "Bearer SG.test-key"


async def test_sendgrid_errors_map_to_python_http_client_exceptions(fake_sendgrid: FakeSendGrid) -> None:
    good = SendGridAPIClient("SG.test-key", host=fake_sendgrid.url)
    fake_sendgrid.fail_next(500)
    with pytest.raises(InternalServerError) as server_error:
        await asyncio.to_thread(good.send, _mail())
    assert server_error.value.status_code == 500

    bad = SendGridAPIClient("not-a-sendgrid-key", host=fake_sendgrid.url)
    with pytest.raises(UnauthorizedError) as unauthorized:
        await asyncio.to_thread(bad.send, _mail())
    assert json.loads(unauthorized.value.body) == UNAUTHORIZED_BODY
    assert len(unauthorized.value.body) == 116  # byte-for-byte the size SendGrid sends

    no_subject = _mail().get()
    del no_subject["subject"]
    with pytest.raises(BadRequestsError) as bad_request:
        await asyncio.to_thread(good.send, no_subject)
    assert [e["field"] for e in json.loads(bad_request.value.body)["errors"]] == ["subject"]
    assert fake_sendgrid.messages == []


async def test_sendgrid_refuses_attachments_sendgrid_would(fake_sendgrid: FakeSendGrid) -> None:
    client = SendGridAPIClient("SG.test-key", host=fake_sendgrid.url)
    cases: dict[str, tuple[dict[str, object], str]] = {
        "no content": ({"filename": "a.pdf"}, "attachments.0.content"),
        "not base64": ({"content": "%%%", "filename": "a.pdf"}, "attachments.0.content"),
        "no filename": ({"content": "QUJD"}, "attachments.0.filename"),
        "type with ;": ({"content": "QUJD", "filename": "a", "type": "text/plain; charset=x"}, "attachments.0.type"),
        "inline without id": ({"content": "QUJD", "filename": "a.png", "disposition": "inline"},
                              "attachments.0.content_id"),
        "odd disposition": ({"content": "QUJD", "filename": "a", "disposition": "download"},
                            "attachments.0.disposition"),
    }
    for name, (attachment, field) in cases.items():
        body = _mail().get()
        body["attachments"] = [attachment]
        with pytest.raises(BadRequestsError) as refused:
            await asyncio.to_thread(client.send, body)
        assert [e["field"] for e in json.loads(refused.value.body)["errors"]] == [field], name
    good = _mail().get()
    good["attachments"] = [{"content": "JVBERi0=", "filename": "t.pdf", "type": "application/pdf",
                            "disposition": "attachment"}]
    assert (await asyncio.to_thread(client.send, good)).status_code == 202
    assert [m.attachments[0]["filename"] for m in fake_sendgrid.messages] == ["t.pdf"]


async def test_sendgrid_fixture_requests_are_accepted(fake_sendgrid: FakeSendGrid) -> None:
    client = SendGridAPIClient("SG.test-key", host=fake_sendgrid.url)
    for name in ("minimal_helper", "kitchen_sink"):
        body = _load("sendgrid", f"mail_send.POST_v3_mail_send.request.{name}.json")
        response = await asyncio.to_thread(client.send, body)
        assert response.status_code == 202, name
    minimal, kitchen = fake_sendgrid.messages
    assert minimal.text == "and easy to do anywhere, even with Python"
    assert kitchen.to == ["john_doe@example.com", "julia_doe@example.com", "janice_doe@example.com"]
    assert kitchen.categories == ["cake", "pie", "baking"]
    assert fake_sendgrid.messages_to("jordan_doe@example.com") == [kitchen]


# ---- Amadeus -----------------------------------------------------------------------------------------------
async def test_amadeus_search_price_seatmap_and_locations(fake_amadeus: FakeAmadeus) -> None:
    client = _amadeus(fake_amadeus)
    search = await _search(client, "LHR", "JFK", "2030-03-01", max=5)
    assert [o["id"] for o in search.data] == ["1", "2"]
    assert search.result["meta"]["count"] == 2
    assert search.result["dictionaries"]["carriers"]["BA"] == "BRITISH AIRWAYS"
    assert search.headers["Content-Type"] == "application/vnd.amadeus+json"
    offer = search.data[0]
    segment = offer["itineraries"][0]["segments"][0]
    assert (segment["carrierCode"], segment["number"], segment["departure"]["iataCode"]) == (
        "BA",
        "117",
        "LHR",
    )

    fake_amadeus.pricing_override = "612.30"
    priced = await asyncio.to_thread(client.shopping.flight_offers.pricing.post, offer)
    assert priced.data["type"] == "flight-offers-pricing"
    assert priced.data["flightOffers"][0]["price"]["grandTotal"] == "612.30"
    pricing_request = fake_amadeus.requests[-1]
    assert pricing_request.path == "/v1/shopping/flight-offers/pricing"  # the SDK appends a bare "?"
    assert pricing_request.header("X-HTTP-Method-Override") == "GET"
    assert pricing_request.body["data"]["flightOffers"][0]["id"] == "1"

    built = await asyncio.to_thread(
        client.shopping.seatmaps.post, {"data": [offer]}
    )  # default: built from offer
    assert [(m["flightOfferId"], m["segmentId"], m["carrierCode"]) for m in built.data] == [("1", "1", "BA")]

    fake_amadeus.seatmaps = build_seatmap(offer, rows=range(10, 13), occupied={"12A"})["data"]
    seatmap = await asyncio.to_thread(client.shopping.seatmaps.post, {"data": [offer]})
    seats = {s["number"]: s for s in seatmap.data[0]["decks"][0]["seats"]}
    assert seatmap.data[0]["type"] == "seatmap"
    assert seats["12A"]["travelerPricing"][0]["seatAvailabilityStatus"] == "OCCUPIED"
    assert seats["11C"]["travelerPricing"][0]["price"]["total"] == "30.00"
    assert "A" in seats["11C"]["characteristicsCodes"]

    found = await asyncio.to_thread(
        client.reference_data.locations.get, subType="AIRPORT,CITY", keyword="lon"
    )
    assert [loc["id"] for loc in found.data] == ["CLON", "ALHR", "ALGW"]
    heathrow = await asyncio.to_thread(client.reference_data.location("ALHR").get)
    assert (heathrow.data["iataCode"], heathrow.data["address"]["cityCode"]) == ("LHR", "LON")

    assert fake_amadeus.token_requests == 1  # the SDK cached the 1799 s token


async def test_amadeus_errors_map_to_sdk_exceptions(fake_amadeus: FakeAmadeus) -> None:
    client = _amadeus(fake_amadeus)
    search: Any = {
        "originLocationCode": "LHR",
        "destinationLocationCode": "JFK",
        "departureDate": "2030-03-01",
    }

    fake_amadeus.fail_next(500)
    with pytest.raises(amadeus.ServerError):
        await asyncio.to_thread(client.shopping.flight_offers_search.get, adults=1, **search)

    fake_amadeus.malformed_next()
    with pytest.raises(amadeus.ParserError):
        await asyncio.to_thread(client.shopping.flight_offers_search.get, adults=1, **search)

    with pytest.raises(amadeus.ClientError) as missing:
        await asyncio.to_thread(client.shopping.flight_offers_search.get, **search)
    assert missing.value.response.result["errors"][0]["source"] == {"parameter": "adults"}

    fake_amadeus.revoke_tokens()
    with pytest.raises(amadeus.AuthenticationError) as revoked:
        await asyncio.to_thread(client.shopping.flight_offers_search.get, adults=1, **search)
    assert revoked.value.response.result["errors"][0]["code"] == 38190

    wrong = _amadeus(fake_amadeus, secret="wrong-secret")
    with pytest.raises(amadeus.AuthenticationError) as bad_credentials:
        await asyncio.to_thread(wrong.reference_data.locations.get, subType="CITY", keyword="PAR")
    assert bad_credentials.value.response.result["error"] == "invalid_client"


async def test_amadeus_builders_cover_multi_traveller_and_refundability(fake_amadeus: FakeAmadeus) -> None:
    offer = build_offer(
        "7", "CDG", "JFK", "2030-07-01T10:30:00", "2030-07-01T12:55:00", carrier="AF", number="6",
        aircraft="77W", total="1000.01", currency="EUR", adults=3, refundable=False, checked_bags=2,
    )  # fmt: skip
    assert offer["itineraries"][0]["duration"] == "PT8H25M"  # Paris CEST (UTC+2) -> New York EDT (UTC-4)
    shares = [t["price"]["total"] for t in offer["travelerPricings"]]
    assert shares == ["333.34", "333.34", "333.33"]
    assert offer["pricingOptions"]["refundableFare"] is False
    assert offer["travelerPricings"][0]["fareDetailsBySegment"][0]["includedCheckedBags"] == {"quantity": 2}

    fake_amadeus.offers = [offer]
    client = _amadeus(fake_amadeus)
    response = await _search(client, "PAR", "NYC", "2030-07-01", adults=3)
    assert response.data == [offer]
    seatmap = build_seatmap(offer)
    assert seatmap["data"][0]["availableSeatsCounters"] == [
        {"travelerId": str(i), "value": 180} for i in (1, 2, 3)
    ]


async def test_amadeus_fixture_bodies_parse_through_the_fake(fake_amadeus: FakeAmadeus) -> None:
    search_body = _load("amadeus", "flight_offers_search.GET_v2_shopping_flight-offers.200.json")
    seatmap_body = _load("amadeus", "seatmap_display.GET_POST_v1_shopping_seatmaps.200.json")
    locations_body = _load("amadeus", "airport_city_search.GET_v1_reference-data_locations.200.json")
    pricing_request = _load(
        "amadeus", "flight_offers_price.POST_v1_shopping_flight-offers_pricing.request.json"
    )
    fake_amadeus.offers = search_body["data"]
    fake_amadeus.dictionaries = search_body["dictionaries"]
    fake_amadeus.seatmaps = seatmap_body
    fake_amadeus.locations = locations_body["data"]
    client = _amadeus(fake_amadeus)

    search = await _search(client, "SYD", "BKK", "2021-11-01")
    assert search.data == search_body["data"]
    assert search.result["dictionaries"] == search_body["dictionaries"]

    posted = _load("amadeus", "flight_offers_search.POST_v2_shopping_flight-offers.request.json")
    searched = await asyncio.to_thread(client.shopping.flight_offers_search.post, posted)
    assert searched.data == search_body["data"]
    assert fake_amadeus.requests[-1].body == posted

    offers = pricing_request["data"]["flightOffers"]
    priced = await asyncio.to_thread(client.shopping.flight_offers.pricing.post, offers)
    assert [o["id"] for o in priced.data["flightOffers"]] == [o["id"] for o in offers]
    assert priced.data["flightOffers"][0]["price"]["grandTotal"] == offers[0]["price"]["grandTotal"]

    seatmap = await asyncio.to_thread(client.shopping.seatmaps.get, **{"flight-orderId": "eJzTd9f3NjIJ"})
    assert seatmap.result == seatmap_body

    munich = await asyncio.to_thread(
        client.reference_data.locations.get, subType="CITY,AIRPORT", keyword="MUC"
    )
    assert [loc["id"] for loc in munich.data] == ["CMUC", "AMUC"]
    city = await asyncio.to_thread(client.reference_data.location("CMUC").get)
    assert city.data == locations_body["data"][0]
