"""The terminal chat's demo checkout: "Pay (demo)" enqueues a `checkout.session.completed` in the Stripe inbox.

The event is built exactly as Stripe would send it (DemoGateway.session_object) and stored through the same
`StripeInbox.receive` the Stripe route uses, so the worker, the ordering, the conditional updates and the
e-mail run as for a real payment. One press wins: the session is claimed (open → completing) first.
"""

from __future__ import annotations

import secrets
import time

from pymongo.errors import PyMongoError

from models.ops import PaymentAttempt
from services.payment_events import PaymentEvents
from services.stripe_gateway import DemoGateway


class DemoCheckout:
    def __init__(self, events: PaymentEvents) -> None:
        self.events = events
        self.attempts = events.attempts
        self.clock = events.clock

    async def session(self, session_id: str) -> PaymentAttempt | None:
        """The demo session's attempt; None for an unknown (or non-demo) session id."""
        return await self.attempts.attempt(session_id) if session_id.startswith("cs_demo_") else None

    async def pay(self, attempt: PaymentAttempt) -> bool:
        """Claim the open, unexpired session and queue its paid event; False when another press was first.

        Should the inbox refuse it (database down), the session is payable again, like a declined card, and the
        error propagates.
        """
        if not await self.attempts.claim_demo_payment(attempt.session_id, self.clock.now_ms()):
            return False
        now = int(time.time())  # Stripe's event timestamps are real time, whatever the app's clock says
        event = {
            "id": f"evt_demo_{secrets.token_hex(12)}", "object": "event", "api_version": "2024-06-20",
            "created": now, "livemode": False, "pending_webhooks": 1, "type": "checkout.session.completed",
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": DemoGateway.session_object(attempt, paid=True)},
        }
        try:
            await self.events.inbox.receive(event)
        except PyMongoError:
            await self.attempts.reopen_demo_payment(attempt.session_id)
            raise
        return True
