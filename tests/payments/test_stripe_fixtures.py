"""Stripe's published signature vectors and event payloads verify and parse (skipped without ../shared)."""

from __future__ import annotations

import json

import pytest
import stripe

from tests.conftest import fixture_path


def test_signature_test_vectors_verify() -> None:
    vectors = json.loads(fixture_path("stripe", "webhook_signature.test_vectors.derived.json").read_text())
    for vector in vectors["vectors"]:
        if "payload_file" in vector:
            payload = fixture_path("stripe", vector["payload_file"]).read_bytes()
        else:
            payload = vector["payload"].encode()
        assert stripe.WebhookSignature.verify_header(payload, vector["stripe_signature_header"], vector["secret"])
        with pytest.raises(stripe.SignatureVerificationError):  # our 300 s tolerance rejects the old timestamp
            stripe.WebhookSignature.verify_header(payload, vector["stripe_signature_header"], vector["secret"], 300)


@pytest.mark.parametrize("name", [
    "checkout.session.completed.stripe-ruby-mock.json",
    "checkout.session.completed.payment_mode.stripe-ruby-mock.json",
])
async def test_published_checkout_events_are_understood(name: str) -> None:
    from services.payment_events import PAID_EVENTS

    event = json.loads(fixture_path("stripe", "events", name).read_text())
    parsed = stripe.Event.construct_from(event, "sk_test_x")
    assert parsed.type in PAID_EVENTS
    session = event["data"]["object"]
    assert session["object"] == "checkout.session"
    assert "payment_status" in session and "amount_total" in session
