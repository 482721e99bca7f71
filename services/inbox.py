"""Stripe webhook inbox → worker: the route stores a verified event in one insert and answers; a worker applies it.

`receive` is the route's only database round trip: the event id is unique, so a redelivery is answered from the
insert's DuplicateKeyError. The worker (`run`, in every replica; `process_due` for tests and the sweep) claims a
due event by a conditional update with a lease — two replicas never apply the same attempt, and an event whose
worker died (kill -9) is pending again when its lease runs out. A booking's events are applied one at a time,
oldest first (`booking_key`); a failing one is retried after 5 s, 30 s, 2 min, 10 min and 30 min, then set aside
as dead with an admin alert, and it never holds up another booking's events. The effects themselves are the
repeat-safe `PaymentEvents.apply`, so an event applied twice (a lease that ran out mid-apply) changes nothing more.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from core.clock import Clock
from core.database import counting_round_trips
from models.ops import Finished, InboxStatus, WebhookEvent
from repos.payments import PaymentRepo
from services.notifications import NotificationService
from services.wakeup import WakeUp

log = logging.getLogger(__name__)

BACKOFF_SECONDS = [5, 30, 120, 600, 1800]  # after the 1st … 5th failure; the 6th makes the event dead
LEASE_MS = 120_000  # a claim outlives any apply (Stripe calls time out sooner); then another worker may take it
PARALLEL_BOOKINGS = 8  # bookings applied at once by one worker (the database pool is 16)
BATCH = 100
QUEUED, DUPLICATE, IGNORED = "queued", "duplicate", "ignored"
ROUND = "round"  # the `on_round_trips` kind of a worker round's own commands (shared by the events it applied)


class EventApplier(Protocol):
    async def apply(self, kind: str, obj: dict[str, Any]) -> tuple[str, str | None]:
        """Apply one event's data object repeat-safely; returns (outcome, booking reference or None)."""


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def booking_key(event_id: str, kind: str, obj: dict[str, Any]) -> str:
    """What orders an event among others of the same booking, read from the payload alone (no database).

    FlyO's sessions and payment intents carry `metadata.booking_id` (and a session `client_reference_id`);
    charge, refund and dispute objects without it are ordered by their payment intent. Only ordering depends on
    it: which booking an event really concerns is still decided by `apply` from FlyO's own records.
    """
    metadata = obj.get("metadata")
    booking = _text(metadata.get("booking_id")) if isinstance(metadata, dict) else ""
    if not booking and kind.startswith("checkout.session."):
        booking = _text(obj.get("client_reference_id"))
    if booking:
        return f"booking:{booking}"
    intent = _text(obj.get("payment_intent"))
    if intent:
        return f"pi:{intent}"
    own = _text(obj.get("id"))
    return f"object:{own}" if own else f"event:{event_id}"


def inbox_entry(event: dict[str, Any], clock: Clock) -> WebhookEvent:
    """The inbox row for a verified event: what `apply` needs later, due now."""
    event_id, kind = str(event.get("id", "")), str(event.get("type", ""))
    obj = (event.get("data") or {}).get("object") if isinstance(event.get("data"), dict) else None
    payload: dict[str, Any] = obj if isinstance(obj, dict) else {}
    now = clock.now()
    now_ms = clock.now_ms()
    return WebhookEvent(event_id=event_id, type=kind, received_at=now, received_ms=now_ms, payload=payload,
                        booking_key=booking_key(event_id, kind, payload), status=InboxStatus.PENDING,
                        attempts=0, next_attempt_ms=now_ms)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class StripeInbox:
    def __init__(self, clock: Clock, applier: EventApplier, notifications: NotificationService,
                 handled: frozenset[str], repo: PaymentRepo | None = None, *, worker: str | None = None,
                 on_outcome: Callable[[str, str], None] | None = None) -> None:
        self.clock = clock
        self.applier = applier
        self.notifications = notifications
        self.handled = handled
        self.repo = repo or PaymentRepo()
        self.worker = worker or worker_name()
        self.on_outcome: Callable[[str, str], None] = on_outcome or (lambda kind, outcome: None)  # metrics
        # (event type, its database commands) per event applied, and (ROUND, the round's own commands) per round
        # that applied any: metrics, set by bot.runtime like on_outcome
        self.on_round_trips: Callable[[str, list[str]], None] = lambda kind, commands: None
        # Called with (event type, data object) when an event is set aside as dead (PaymentEvents hands its
        # booking's confirmation back to the sweep).
        self.on_dead: Callable[[str, dict[str, Any]], Awaitable[None]] | None = None
        self._wake = WakeUp()

    def handles(self, kind: str) -> bool:
        return kind in self.handled

    # ---- the route -----------------------------------------------------------------------------------
    async def receive(self, event: dict[str, Any]) -> str:
        """Store a verified event for the worker: "queued", "duplicate" (its id is known), or "ignored" (a type
        FlyO does not subscribe to: nothing stored). At most one database round trip; PyMongoError propagates."""
        if not self.handles(str(event.get("type", ""))):
            return IGNORED
        if not await self.repo.store_event(inbox_entry(event, self.clock)):
            return DUPLICATE
        self.kick()
        return QUEUED

    # ---- applying ------------------------------------------------------------------------------------
    async def process_due(self, limit: int = BATCH) -> int:
        """One round: free expired leases, then claim and apply what is due. Returns how many were attempted.

        Whether an older event of the same booking must go first is decided once per round, from what the round
        read (the due events, and the unfinished ones that are not due: claimed by a worker, or waiting for a
        retry), not by a query per event. An event is applied only after every older event of its booking that
        the round saw: a group stops at a claim it lost or an event that failed. The outcomes are written in one
        bulk write at the end of the round (an event whose outcome is not written yet stays claimed, so another
        worker holds its booking's next events back; a crash before the write lets the lease run out and the
        event is applied again, which `apply` makes harmless).
        """
        with counting_round_trips() as commands:  # the round's own; each event's are counted in `_process`
            attempted = await self._round(limit)
        if attempted:
            self.on_round_trips(ROUND, commands)
        return attempted

    async def _round(self, limit: int) -> int:
        now = self.clock.now_ms()
        await self.repo.release_expired_leases(now)
        due = await self.repo.due_events(now, limit)
        if not due:
            return 0
        held_back = await self.repo.unfinished_not_due(now) if any(e.booking_key for e in due) else []
        oldest_elsewhere: dict[str, tuple[int, str]] = {}
        for other in held_back:
            mark = (other.received_ms, str(other.id))  # ObjectIds grow with each insert of one process
            known = oldest_elsewhere.get(other.booking_key)
            if other.booking_key and (known is None or mark < known):
                oldest_elsewhere[other.booking_key] = mark
        # One booking's events in order, one at a time; different bookings side by side (a slow or failing
        # booking never holds up another, and a burst of payments is applied at the database's pace).
        by_booking: dict[str, list[WebhookEvent]] = {}
        for entry in due:
            by_booking.setdefault(entry.booking_key or entry.event_id, []).append(entry)
        gate = asyncio.Semaphore(PARALLEL_BOOKINGS)
        finished: list[Finished] = []

        async def in_order(entries: list[WebhookEvent]) -> int:
            blocker = oldest_elsewhere.get(entries[0].booking_key) if entries[0].booking_key else None
            attempted = 0
            async with gate:
                for entry in entries:
                    if blocker is not None and blocker < (entry.received_ms, str(entry.id)):
                        break  # an older event of this booking is claimed elsewhere or waits for its retry
                    result = await self._process(entry)
                    if result is None:
                        break  # lost the claim: the rest of the booking's events wait for whoever has it
                    attempted += 1
                    if isinstance(result, Finished):
                        finished.append(result)
                    else:
                        break  # failed (retry later, or dead): its booking's next events wait for next round
            return attempted

        results = await asyncio.gather(*(in_order(group) for group in by_booking.values()), return_exceptions=True)
        if finished:
            await self.repo.finish_events(finished, worker=self.worker, now_ms=self.clock.now_ms())
        for result in results:
            if isinstance(result, BaseException):
                raise result  # e.g. the database went away: the loop logs it and tries again
        return sum(r for r in results if isinstance(r, int))

    async def _process(self, entry: WebhookEvent) -> Finished | bool | None:
        """Claim and apply one event: its outcome to write (Finished), False when it failed, None when the claim
        was lost (another worker has it, or it moved on)."""
        with counting_round_trips() as commands:
            result = await self._process_counted(entry)
        if isinstance(result, Finished):
            self.on_round_trips(entry.type, commands)
        return result

    async def _process_counted(self, entry: WebhookEvent) -> Finished | bool | None:
        now = self.clock.now_ms()
        if not await self.repo.claim_event(entry, now, self.worker, now + LEASE_MS):
            return None
        try:
            outcome, reference = await self.applier.apply(entry.type, entry.payload)
        except Exception as exc:  # any failure is retried with backoff; the row keeps the reason
            await self._failed(entry, exc)
            return False
        self.on_outcome(entry.type, outcome)
        log.info("stripe %s %s → %s", entry.type, entry.event_id, outcome, extra={"booking": reference or "-"})
        return Finished(entry.event_id, outcome, reference)

    async def _failed(self, entry: WebhookEvent, exc: Exception) -> None:
        attempts = entry.attempts + 1
        dead = attempts > len(BACKOFF_SECONDS)
        now = self.clock.now_ms()
        error = f"{type(exc).__name__}: {exc}"[:300]
        moved = await self.repo.retry_event(
            entry.event_id, self.worker, attempts=attempts, error=error, now_ms=now,
            next_attempt_ms=None if dead else now + BACKOFF_SECONDS[attempts - 1] * 1000)
        log.warning("stripe %s %s attempt %s failed: %s%s", entry.type, entry.event_id, attempts, error,
                    " — set aside as dead" if dead else "", exc_info=exc)
        self.on_outcome(entry.type, "dead" if dead else "retry")
        if dead and moved and self.on_dead is not None:
            try:
                await self.on_dead(entry.type, entry.payload)
            except Exception:
                log.exception("could not hand dead event %s back", entry.event_id)
        if dead and moved:
            await self.notifications.tell_admins(
                f"inbox-dead:{entry.event_id}",
                f"⚠️ Stripe event {entry.event_id} ({entry.type}) failed {attempts} times and was set aside "
                f"(status dead in webhook_events): {error[:200]}. Check the booking in the Stripe dashboard.")

    # ---- the loop ------------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event, idle_seconds: float = 5.0) -> None:
        """Apply as soon as something is received (`kick`), and every few seconds anyway, until `stop` is set."""
        try:
            if forgotten := await self.repo.forget_legacy_unfinished():
                log.warning("%s half-applied Stripe event(s) stored before the inbox worker were dropped; Stripe's "
                            "retries store them again", forgotten)
        except Exception:
            log.warning("could not look for half-applied events from before the inbox worker", exc_info=True)
        async def round_() -> bool:
            return await self.process_due() > 0  # something moved: more may be due, or unblocked behind it

        await self._wake.loop(stop, idle_seconds, round_, "inbox")

    def kick(self) -> None:
        self._wake.kick()
