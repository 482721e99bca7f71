"""The Stripe inbox: one round trip per webhook request, a worker with leases, per-booking order, backoff, dead.

Service-level tests drive `StripeInbox` with a scripted applier and a clock that is moved, never slept; the
app-level ones count the database commands of one webhook request with a PyMongo CommandListener.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from beanie import init_beanie
from pymongo import AsyncMongoClient, monitoring

from core.clock import Clock
from core.database import Database
from models import ALL_DOCUMENTS, Booking, BookingStatus
from models.ops import InboxStatus, Notification, WebhookEvent
from services.inbox import BACKOFF_SECONDS, LEASE_MS, StripeInbox, booking_key
from services.mailer import OutboxMailer
from services.notifications import NotificationService
from tests.fakes.stripe import build_event
from tests.flows import drain_outbox
from tests.paying import ADMIN_ID, PayingBot, paying_bot, process_inbox

HANDLED = frozenset({"checkout.session.completed", "checkout.session.expired", "charge.refunded"})


# ---- a scripted applier --------------------------------------------------------------------------------------
@dataclass
class Applier:
    applied: list[str] = field(default_factory=list)  # event ids in the order their apply finished
    failing: set[str] = field(default_factory=set)  # booking or event ids whose events raise
    calls: int = 0
    yields: int = 0  # awaits inside apply, so concurrent workers interleave
    rng: random.Random = field(default_factory=random.Random)

    async def apply(self, kind: str, obj: dict[str, Any]) -> tuple[str, str | None]:
        self.calls += 1
        for _step in range(self.rng.randint(0, self.yields)):
            await asyncio.sleep(0)
        booking = str((obj.get("metadata") or {}).get("booking_id"))
        if booking in self.failing or obj["event"] in self.failing:
            raise RuntimeError(f"cannot apply for {booking}")
        self.applied.append(str(obj["event"]))
        return "applied", booking


def event(event_id: str, booking: str, kind: str = "checkout.session.completed") -> dict[str, Any]:
    obj = {"id": f"cs_{event_id}", "object": "checkout.session", "event": event_id,
           "metadata": {"booking_id": booking}}
    return {**build_event(kind, obj), "id": event_id}


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_inbox(clock: Clock, applier: Applier, tmp_path: Path, worker: str = "w1") -> StripeInbox:
    notifications = NotificationService(clock, OutboxMailer(tmp_path / "outbox", ""), frozenset({ADMIN_ID}))
    return StripeInbox(clock, applier, notifications, HANDLED, worker=worker)


async def row(event_id: str) -> WebhookEvent:
    found = await WebhookEvent.find_one(WebhookEvent.event_id == event_id)
    assert found is not None
    return found


# ---- receive -------------------------------------------------------------------------------------------------
def test_booking_key_from_the_payload_alone() -> None:
    assert booking_key("evt_1", "checkout.session.completed", {"id": "cs_1", "metadata": {"booking_id": "b1"}}) \
        == "booking:b1"
    assert booking_key("evt_1", "checkout.session.expired", {"id": "cs_1", "client_reference_id": "b2"}) \
        == "booking:b2"
    assert booking_key("evt_1", "charge.refunded", {"id": "ch_1", "payment_intent": "pi_1"}) == "pi:pi_1"
    assert booking_key("evt_1", "charge.refunded", {"id": "ch_1", "payment_intent": "pi_1",
                                                    "metadata": {"booking_id": "b3"}}) == "booking:b3"
    assert booking_key("evt_1", "charge.dispute.created", {"id": "dp_1"}) == "object:dp_1"
    assert booking_key("evt_1", "charge.dispute.created", {}) == "event:evt_1"


async def test_receive_stores_pending_once_and_ignores_other_types(db: Database, clock: Clock,
                                                                   tmp_path: Path) -> None:
    inbox = make_inbox(clock, Applier(), tmp_path)
    assert await inbox.receive(event("evt_r1", "b1")) == "queued"
    assert await inbox.receive(event("evt_r1", "b1")) == "duplicate"
    assert await inbox.receive(event("evt_r2", "b1", kind="customer.created")) == "ignored"
    stored = await row("evt_r1")
    assert (stored.status, stored.attempts, stored.booking_key, stored.type) == (
        "pending", 0, "booking:b1", "checkout.session.completed")
    assert stored.payload["id"] == "cs_evt_r1" and stored.next_attempt_ms <= clock.now_ms()
    assert await WebhookEvent.count() == 1


async def test_a_half_applied_row_from_before_the_worker_is_dropped_so_stripes_retry_is_stored(
        db: Database, clock: Clock, tmp_path: Path) -> None:
    raw = WebhookEvent.get_pymongo_collection()
    now = clock.now()
    await raw.insert_one({"event_id": "evt_old_half", "type": "checkout.session.completed", "received_at": now,
                          "outcome": "received", "booking_reference": None})  # the old shape, cut short
    await raw.insert_one({"event_id": "evt_old_done", "type": "checkout.session.completed", "received_at": now,
                          "outcome": "confirmed", "booking_reference": "K7Q2MX"})
    inbox = make_inbox(clock, Applier(), tmp_path)
    assert await inbox.repo.forget_legacy_unfinished() == 1
    assert await inbox.receive(event("evt_old_half", "b1")) == "queued"
    assert await inbox.receive(event("evt_old_done", "b1")) == "duplicate"
    assert await inbox.process_due() == 1 and (await row("evt_old_half")).status == "done"


# ---- backoff and dead ----------------------------------------------------------------------------------------
async def test_a_failing_event_is_retried_with_backoff_then_dead_with_one_admin_alert(
        db: Database, clock: Clock, tmp_path: Path) -> None:
    applier = Applier(failing={"bA"})
    inbox = make_inbox(clock, applier, tmp_path)
    await inbox.receive(event("evt_f1", "bA"))
    assert await inbox.process_due() == 1
    for attempt, delay in enumerate(BACKOFF_SECONDS, start=1):
        stored = await row("evt_f1")
        assert (stored.status, stored.attempts) == ("pending", attempt)
        assert stored.next_attempt_ms - clock.now_ms() in range(delay * 1000 - 50, delay * 1000 + 1)
        assert "cannot apply for bA" in stored.last_error
        clock.advance(timedelta(seconds=delay) - timedelta(milliseconds=100))
        assert await inbox.process_due() == 0  # not due yet
        clock.advance(timedelta(milliseconds=100))
        assert await inbox.process_due() == 1
    stored = await row("evt_f1")
    assert (stored.status, stored.attempts) == ("dead", len(BACKOFF_SECONDS) + 1)
    assert applier.calls == len(BACKOFF_SECONDS) + 1 and applier.applied == []
    clock.advance(timedelta(hours=2))
    assert await inbox.process_due() == 0  # dead stays dead
    alerts = await Notification.find(Notification.key == f"inbox-dead:evt_f1:admin:{ADMIN_ID}").to_list()
    assert len(alerts) == 1 and "evt_f1" in alerts[0].payload["text"]
    assert await Notification.count() == 1


async def test_a_failing_booking_does_not_hold_up_another_but_holds_its_own_next_event(
        db: Database, clock: Clock, tmp_path: Path) -> None:
    applier = Applier(failing={"bA"})
    inbox = make_inbox(clock, applier, tmp_path)
    for event_id, booking in (("evt_a1", "bA"), ("evt_b1", "bB"), ("evt_a2", "bA")):
        await inbox.receive(event(event_id, booking))
        clock.advance(timedelta(milliseconds=1))
    await inbox.process_due()
    assert applier.applied == ["evt_b1"]  # B at once; A's second event waits behind its first
    assert (await row("evt_a1")).status == "pending" and (await row("evt_a2")).attempts == 0
    applier.failing.clear()
    clock.advance(timedelta(seconds=BACKOFF_SECONDS[0]))
    await inbox.process_due()
    assert applier.applied == ["evt_b1", "evt_a1", "evt_a2"]
    assert {e.status for e in await WebhookEvent.find_all().to_list()} == {InboxStatus.DONE}


async def test_a_dead_event_no_longer_blocks_its_booking(db: Database, clock: Clock, tmp_path: Path) -> None:
    applier = Applier(failing={"evt_d1"})
    inbox = make_inbox(clock, applier, tmp_path)
    await inbox.receive(event("evt_d1", "bA"))
    clock.advance(timedelta(milliseconds=1))
    await inbox.receive(event("evt_d2", "bA", kind="checkout.session.expired"))
    for delay in [0, *BACKOFF_SECONDS[:-1]]:
        clock.advance(timedelta(seconds=delay))
        await inbox.process_due()
        assert applier.applied == [] and (await row("evt_d2")).attempts == 0  # waits behind evt_d1
    clock.advance(timedelta(seconds=BACKOFF_SECONDS[-1]))
    await inbox.process_due()  # evt_d1 dies; evt_d2 goes next
    await inbox.process_due()
    assert (await row("evt_d1")).status == "dead"
    assert applier.applied == ["evt_d2"] and (await row("evt_d2")).status == "done"


# ---- leases and two workers ----------------------------------------------------------------------------------
async def test_an_expired_lease_is_taken_over(db: Database, clock: Clock, tmp_path: Path) -> None:
    applier = Applier()
    first, second = make_inbox(clock, applier, tmp_path, "w1"), make_inbox(clock, applier, tmp_path, "w2")
    await first.receive(event("evt_l1", "bL"))
    stored = await row("evt_l1")
    assert await first.repo.claim_event(stored, clock.now_ms(), "w1", clock.now_ms() + LEASE_MS)  # then kill -9
    assert await second.process_due() == 0  # leased to w1
    clock.advance(timedelta(milliseconds=LEASE_MS + 1))
    assert await second.process_due() == 1
    stored = await row("evt_l1")
    assert (stored.status, stored.claimed_by, stored.outcome) == ("done", "w2", "applied")
    assert applier.applied == ["evt_l1"]


@pytest.mark.parametrize("seed", range(6))
async def test_two_workers_apply_each_event_once_in_order_per_booking(db: Database, clock: Clock, tmp_path: Path,
                                                                      seed: int) -> None:
    rng = random.Random(seed)
    applier = Applier(yields=3, rng=rng)
    workers = [make_inbox(clock, applier, tmp_path, f"w{i}") for i in (1, 2)]
    received: dict[str, list[str]] = {}
    for n in range(12):
        booking = f"b{rng.randint(1, 3)}"
        await workers[n % 2].receive(event(f"evt_{seed}_{n:02d}", booking))
        received.setdefault(booking, []).append(f"evt_{seed}_{n:02d}")

    async def drain(inbox: StripeInbox) -> None:
        for _round in range(40):
            await inbox.process_due(limit=rng.randint(1, 5))
            await asyncio.sleep(0)

    await asyncio.gather(*(drain(w) for w in workers))
    everything = [e for events in received.values() for e in events]
    assert sorted(applier.applied) == sorted(everything)  # each exactly once
    assert applier.calls == len(everything)
    for booking, events in received.items():
        assert [e for e in applier.applied if e in events] == events, booking
    assert {e.status for e in await WebhookEvent.find_all().to_list()} == {InboxStatus.DONE}


# ---- one webhook request = one database round trip ----------------------------------------------------------
class CommandCounter(monitoring.CommandListener):
    """Database commands issued, with the asyncio task that issued each (the listener runs in that task)."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, str]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        try:
            task = asyncio.current_task()
        except RuntimeError:
            task = None
        self.commands.append((event.command_name, task.get_name() if task is not None else ""))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def of_requests(self) -> list[str]:
        """Commands except those of the background loops (the outbox pump polls every few seconds)."""
        return [name for name, task in self.commands if task not in ("notification-pump", "inbox-worker")]


@pytest.fixture
async def counted(inventory_db: Database, mongo_uri: str, telegram: Any, tmp_path: Path
                  ) -> AsyncIterator[tuple[PayingBot, CommandCounter]]:
    """A paying FlyO whose database client reports every command to a CommandCounter (worker off, no sweep)."""
    counter = CommandCounter()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri, tz_aware=True,
                                                                event_listeners=[counter])
    database = Database(client=client, db=client[inventory_db.db.name])
    await init_beanie(database=database.db, document_models=ALL_DOCUMENTS)
    try:
        async with paying_bot(database, telegram, tmp_path, INBOX_WORKER_ENABLED=False,
                              SWEEP_INTERVAL_SECONDS=3600) as paying:
            yield paying, counter
    finally:
        await init_beanie(database=inventory_db.db, document_models=ALL_DOCUMENTS)
        await client.close()


async def test_one_webhook_request_is_one_database_round_trip(counted: tuple[PayingBot, CommandCounter]) -> None:
    paying, counter = counted
    session = {"id": "cs_test_counted", "object": "checkout.session", "payment_status": "paid",
               "status": "complete", "metadata": {"booking_id": "not-ours"}}
    new = build_event("checkout.session.completed", session)
    measured = {}
    for name, sent in (("new", new), ("duplicate", new),
                       ("ignored", build_event("customer.created", {"id": "cus_1", "object": "customer"}))):
        counter.commands.clear()
        status, body = await paying.post_event(sent, process=False)
        assert status == 200 and body["received"] is True, (name, body)
        measured[name] = counter.of_requests()
    assert measured == {"new": ["insert"], "duplicate": ["insert"], "ignored": []}
    stored = await row(new["id"])
    assert stored.status == "pending"  # the worker is off: stored, not applied
    assert await process_inbox(paying.services) == 1
    assert (await row(new["id"])).outcome == "unknown_booking"


# ---- one booking's events out of order -----------------------------------------------------------------------
@pytest.fixture
async def paying_no_worker(inventory_db: Database, telegram: Any, tmp_path: Path) -> AsyncIterator[PayingBot]:
    async with paying_bot(inventory_db, telegram, tmp_path, INBOX_WORKER_ENABLED=False) as bot:
        yield bot


async def test_expired_after_completed_and_completed_twice_end_as_today(paying_no_worker: PayingBot) -> None:
    paying = paying_no_worker
    ada = paying.telegram.traveller(5301)
    booking, session_id = await paying.booked_with_link(ada)
    completed = paying.completed_event(session_id)
    expired = build_event("checkout.session.expired", {**paying.stripe.sessions[session_id], "status": "expired"})
    again = {**completed, "id": completed["id"] + "_again"}  # e.g. async_payment_succeeded's twin
    for sent in (completed, expired, again, completed):
        status, _body = await paying.post_event(sent, process=False)
        assert status == 200
    assert await WebhookEvent.count() == 3
    await paying.process_inbox()
    outcomes = [(await row(e["id"])).outcome for e in (completed, expired, again)]
    assert outcomes == ["confirmed", "no_change", "already_confirmed"]
    stored = await Booking.get(booking.id)
    assert stored is not None and stored.status == BookingStatus.CONFIRMED
    await drain_outbox(paying.services)
    texts = [m.plain_text() for m in ada.messages()]
    assert sum("is confirmed" in t for t in texts) == 1 and not any("expired" in t for t in texts)
    assert len(paying.sendgrid.messages_to("ada@example.com")) == 1
