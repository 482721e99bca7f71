"""Bookings (`bookings`) and their history (`booking_events`).

Every change of a booking is one conditional `update_one` whose filter says what the booking must still be
(`status`, the payment attempt, an unset claim field), so repeats and races are harmless: the second writer
matches nothing. `update_one` + a read, never `find_one_and_update`: with a compound filter the latter is
unreliable on nx-27017 (README, Database). No `$or` in write filters, no datetimes in `$set` (nx-27017 stores
them as strings): timestamps that change are epoch milliseconds (`*_ms`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from core.clock import as_utc as as_aware
from models.booking import (
    Booking,
    BookingEvent,
    BookingFlag,
    BookingStatus,
    PartRefund,
    Passenger,
    PaymentStatus,
    RebookClaim,
    Segment,
    TicketIssue,
)
from models.ops import PaymentAttempt
from models.sealed import to_db
from repos.base import collection, object_id


class BookingRepo:
    # ---- reads -----------------------------------------------------------------------------------------
    async def get(self, booking_id: object) -> Booking | None:
        """The booking, or None for an unknown or malformed id."""
        found = object_id(booking_id)
        return await Booking.get(found) if found is not None else None

    async def by_reference(self, reference: str) -> Booking | None:
        return await Booking.find_one(Booking.reference == reference)

    async def by_draft(self, draft_key: str) -> Booking | None:
        return await Booking.find_one(Booking.draft_key == draft_key)

    async def by_session(self, session_id: str) -> Booking | None:
        """The booking whose *current* attempt is this Checkout Session."""
        return await Booking.find_one({"payment.session_id": session_id})

    async def by_payment_intent(self, payment_intent: str) -> Booking | None:
        return await Booking.find_one({"payment.payment_intent_id": payment_intent})

    async def for_user(self, user_id: int, limit: int) -> list[Booking]:
        return await Booking.find(Booking.user_id == user_id).sort("-created_at").limit(limit).to_list()

    async def page_for_user(self, user_id: int, skip: int, limit: int) -> list[Booking]:
        """One page of the user's bookings, newest first (the `user_id, created_at` index)."""
        return await Booking.find(Booking.user_id == user_id).sort("-created_at").skip(skip).limit(limit).to_list()

    async def count_for_user(self, user_id: int) -> int:
        return int(await collection(Booking).count_documents({"user_id": user_id}))

    async def latest_for_user(self, user_id: int) -> Booking | None:
        return await Booking.find(Booking.user_id == user_id).sort("-created_at").first_or_none()

    async def search(self, reference: str, pattern: str, limit: int) -> list[Booking]:
        """Bookings whose reference is `reference`, or whose e-mail or a passenger's name matches the regular
        expression `pattern` (case-insensitive; the caller escapes what the user typed), newest first."""
        found: dict[str, Booking] = {}
        queries: list[dict[str, Any]] = [
            {"reference": reference},
            {"email": {"$regex": pattern, "$options": "i"}},
            # `$elemMatch`: nx-27017 never matches a `$regex` on a dotted path into an array ("passengers.full_name")
            {"passengers": {"$elemMatch": {"full_name": {"$regex": pattern, "$options": "i"}}}},
        ]
        for query in queries:  # one simple query each: no `$or` (nx-27017, README "Database")
            for booking in await Booking.find(query).sort("-created_at").limit(limit).to_list():
                found.setdefault(str(booking.id), booking)
        return sorted(found.values(), key=lambda b: b.created_at, reverse=True)[:limit]

    async def flagged(self, limit: int) -> list[Booking]:
        """Bookings with a flag for the admins, newest first."""
        return await Booking.find({"flag": {"$in": [f.value for f in BookingFlag]}}).sort("-created_at") \
            .limit(limit).to_list()

    async def pending_for_user(self, user_id: int) -> list[Booking]:
        return await Booking.find(Booking.user_id == user_id, Booking.status == BookingStatus.PENDING).to_list()

    async def count(self, status: BookingStatus) -> int:
        """One indexed count (the `status` index) — cheaper on nx-27017 than a `$group` scan."""
        return int(await collection(Booking).count_documents({"status": status}))

    async def created_since(self, since: datetime) -> list[dict[str, Any]]:
        """Status, creation time, price, payment and flight of the bookings created since `since` (for /stats).

        A find, not an aggregation: nx-27017's aggregation `$match` compares datetimes wrongly (every stored
        date passes `$gte`, none passes `$lt`), while find() filters them correctly; and it can't `$group` by
        a document `_id`. Whole sub-documents are projected because nx-27017 returns a dotted projection
        ("price.total") as a flat key. A week of small projections is cheap to group in Python.
        """
        projection = {"status": 1, "created_at": 1, "price": 1, "payment": 1, "flight": 1, "segments": 1, "_id": 0}
        return [doc async for doc in collection(Booking).find({"created_at": {"$gte": since}}, projection)]

    # ---- creation ----------------------------------------------------------------------------------------
    async def insert(self, booking: Booking) -> bool:
        """Insert; False when its reference or its `draft_key` (unique where set) exists already."""
        try:
            await booking.insert()
        except DuplicateKeyError:
            return False
        return True

    async def delete_unstarted(self, booking: Booking) -> None:
        """Take back a booking just inserted that can't stand (over a limit): no seat, link or history refers
        to it yet, so it goes without a trace (not even a cancelled one in /mybookings)."""
        await collection(Booking).delete_one({"_id": booking.id, "status": BookingStatus.PENDING,
                                              "payment.session_id": None})

    async def abandon(self, booking: Booking, reason: str, now_ms: int) -> None:
        """A PENDING booking whose seats could not be moved to it: cancelled, and its draft key freed so the
        traveller can pick a replacement and confirm again (no seats to release: `seats_released_ms` 0)."""
        await collection(Booking).update_one(
            {"_id": booking.id, "status": BookingStatus.PENDING},
            {"$set": {"status": BookingStatus.CANCELLED, "cancel_reason": reason, "updated_ms": now_ms,
                      "draft_key": None, "seats_released_ms": 0}})

    # ---- status transitions ------------------------------------------------------------------------------
    async def confirm(self, booking: Booking, *, session_id: str, payment_intent: str, amount_paid: int,
                      now_ms: int, unchanged: bool = False, fulfilled: bool = False) -> bool:
        """PENDING → CONFIRMED, paid by `session_id` (which becomes the current attempt); False if not PENDING.

        `unchanged`: only if the booking is still as read (same `updated_ms`), so the caller may use its copy
        instead of reading it again. `fulfilled`: the caller owns finishing the confirmation (the inbox)."""
        return await self._move(booking, BookingStatus.PENDING, BookingStatus.CONFIRMED, now_ms, {
            "payment.status": PaymentStatus.PAID, "payment.payment_intent_id": payment_intent,
            "payment.amount_paid": amount_paid, "payment.session_id": session_id, "confirmed_ms": now_ms,
            **({"fulfilled_ms": now_ms} if fulfilled else {}),
        }, also={"updated_ms": booking.updated_ms} if unchanged else None)

    async def cancel(self, booking: Booking, expected: BookingStatus, reason: str, now_ms: int) -> bool:
        """`expected` → CANCELLED; False if the booking is no longer `expected`."""
        return await self._move(booking, expected, BookingStatus.CANCELLED, now_ms, {"cancel_reason": reason})

    async def _move(self, booking: Booking, expected: BookingStatus, to: BookingStatus, now_ms: int,
                    fields: dict[str, Any], also: dict[str, Any] | None = None) -> bool:
        result = await collection(Booking).update_one(
            {"_id": booking.id, "status": expected, **(also or {})},
            {"$set": {"status": to, "updated_ms": now_ms, **fields}})
        return result.matched_count == 1

    async def mark_seats_released(self, booking: Booking, now_ms: int) -> None:
        await collection(Booking).update_one({"_id": booking.id, "status": BookingStatus.CANCELLED},
                                             {"$set": {"seats_released_ms": now_ms}})

    async def mark_fulfilled(self, booking: Booking, now_ms: int) -> None:
        """Seats booked and confirmation queued (once: a repeat keeps the first time)."""
        await collection(Booking).update_one({"_id": booking.id, "fulfilled_ms": None},
                                             {"$set": {"fulfilled_ms": now_ms}})

    async def unmark_fulfilled(self, session_id: str) -> None:
        """The CONFIRMED booking paid through `session_id` is not known to be finished (the sweep finishes it)."""
        await collection(Booking).update_one({"payment.session_id": session_id, "status": BookingStatus.CONFIRMED},
                                             {"$set": {"fulfilled_ms": None}})

    async def issue_tickets(self, booking: Booking, issue: TicketIssue) -> bool:
        """Record a CONFIRMED booking's ticket numbers, once: False when it has numbers already (another delivery
        issued them first: read them back) or is no longer CONFIRMED."""
        result = await collection(Booking).update_one(
            {"_id": booking.id, "status": BookingStatus.CONFIRMED, "tickets": None},
            {"$set": {"tickets": issue.model_dump()}})
        return result.matched_count == 1

    # ---- moving off a disrupted flight (services.rebooking) ----------------------------------------------------
    async def claim_rebooking(self, booking: Booking, claim: RebookClaim) -> bool:
        """Step 1: only a CONFIRMED booking with no move in progress is claimed (25 presses, one move)."""
        result = await collection(Booking).update_one(
            {"_id": booking.id, "status": BookingStatus.CONFIRMED, "rebooking": None},
            {"$set": {"rebooking": claim.model_dump()}})
        return result.matched_count == 1

    async def set_rebooking_seats(self, booking: Booking, claim: RebookClaim) -> None:
        """Step 3: the seats held on the new flight; from here the move is finished, never undone."""
        await collection(Booking).update_one({"_id": booking.id, "rebooking.started_ms": claim.started_ms},
                                             {"$set": {"rebooking": claim.model_dump()}})

    async def clear_rebooking(self, booking: Booking, claim: RebookClaim) -> None:
        await collection(Booking).update_one({"_id": booking.id, "rebooking.started_ms": claim.started_ms},
                                             {"$set": {"rebooking": None}})

    async def switch_flight(self, booking: Booking, claim: RebookClaim, segments: list[Segment], now_ms: int,
                            refund_due: PartRefund | None = None) -> bool:
        """Step 4: the segments written whole (nx-27017: no positional updates), the claim cleared and any fare
        difference recorded as owed, in one conditional update on the claim; False when another finisher did it."""
        first = min(s.flight.departs_at for s in segments)
        back = [s.flight.departs_at for s in segments if s.leg == 1]
        fields: dict[str, Any] = {
            "segments": [s.model_dump(mode="json") for s in segments], "rebooking": None, "updated_ms": now_ms,
            "departs_ms": int(as_aware(first).timestamp() * 1000)}
        if refund_due is not None:
            fields["refund_due"] = refund_due.model_dump()
        if back:
            fields["return_departs_ms"] = int(as_aware(min(back)).timestamp() * 1000)
        result = await collection(Booking).update_one(
            {"_id": booking.id, "status": BookingStatus.CONFIRMED, "rebooking.started_ms": claim.started_ms},
            {"$set": fields})
        return result.matched_count == 1

    async def rebooking_since(self, started_before_ms: int, limit: int) -> list[Booking]:
        """Moves begun before `started_before_ms` and not finished (a crash): the sweep's."""
        return await Booking.find({"rebooking.started_ms": {"$lt": started_before_ms}}).limit(limit).to_list()

    async def reseat(self, booking: Booking, segments: list[Segment]) -> None:
        """A CONFIRMED booking's lost seats replaced (each segment's `seat_changes`: old → new). The segment list
        is written whole: nx-27017 ignores positional array updates (README, Database)."""
        await collection(Booking).update_one(
            {"_id": booking.id, "status": BookingStatus.CONFIRMED},
            {"$set": {"segments": [s.model_dump(mode="json") for s in segments]}})  # times as ISO text: see above

    async def set_contact(self, booking: Booking, email: str, passengers: list[Passenger], now_ms: int) -> bool:
        """The booking's contact e-mail and its passengers (the first one carries the phone) — the passenger list
        written whole (nx-27017 ignores positional array updates); a cancelled booking is left alone."""
        changed = await collection(Booking).update_one(
            {"_id": booking.id, "status": {"$ne": BookingStatus.CANCELLED}},
            {"$set": {"email": email, "passengers": [to_db(p) for p in passengers],  # documents encrypted
                      "updated_ms": now_ms}})
        return changed.matched_count == 1

    async def set_locale_of_user(self, user_id: int, locale: str) -> int:
        """Every booking of the user not cancelled speaks `locale` from now on (the user chose it with /language);
        two equality filters, as nx-27017 mis-reads `$in` in updates (README, Database)."""
        changed = 0
        for status in (BookingStatus.PENDING, BookingStatus.CONFIRMED):
            result = await collection(Booking).update_many({"user_id": user_id, "status": status},
                                                           {"$set": {"locale": locale}})
            changed += result.modified_count
        return changed

    async def flag(self, booking: Booking, flag: BookingFlag, *, only_if: BookingStatus | None = None) -> None:
        match: dict[str, Any] = {"_id": booking.id}
        if only_if is not None:
            match["status"] = only_if
        await collection(Booking).update_one(match, {"$set": {"flag": flag}})

    async def claim_reminder(self, booking: Booking, field: str, now_ms: int) -> bool:
        """Claim a reminder (`payment_reminder_ms`, `departure_reminder_ms`): True for exactly one caller."""
        claimed = await collection(Booking).update_one({"_id": booking.id, field: None}, {"$set": {field: now_ms}})
        return claimed.modified_count == 1

    # ---- the current payment attempt (booking.payment) ----------------------------------------------------
    async def claim_attempt(self, booking: Booking, *, attempt: int, expires_ms: int, now_ms: int) -> bool:
        """Claim attempt number `attempt` (the one after `booking.payment`'s, as read): True for exactly one
        caller, who then creates its Checkout Session; anyone who read the same state gets False."""
        p = booking.payment
        claimed = await collection(Booking).update_one(
            {"_id": booking.id, "status": BookingStatus.PENDING, "payment.attempt": p.attempt,
             "payment.status": p.status},
            {"$set": {"payment.attempt": attempt, "payment.status": PaymentStatus.CREATING,
                      "payment.expires_ms": expires_ms, "payment.session_id": None, "payment.url": None,
                      "updated_ms": now_ms}},
        )
        return claimed.matched_count == 1

    async def fail_attempt(self, booking: Booking, attempt: int) -> None:
        await collection(Booking).update_one(
            {"_id": booking.id, "payment.attempt": attempt}, {"$set": {"payment.status": PaymentStatus.FAILED}}
        )

    async def open_attempt(self, booking: Booking, attempt: int, *, session_id: str, url: str,
                           expires_ms: int) -> None:
        """Attempt `attempt` has its Checkout Session: the link is payable, the seats held until it expires."""
        await collection(Booking).update_one(
            {"_id": booking.id, "payment.attempt": attempt},
            {"$set": {"payment.status": PaymentStatus.OPEN, "payment.session_id": session_id, "payment.url": url,
                      "hold_expires_ms": expires_ms}},
        )

    async def close_attempt(self, booking: Booking, session_id: str, status: PaymentStatus, now_ms: int) -> bool:
        """The open current attempt `session_id` expired or failed; False when it isn't the open current one
        (an old attempt's event, or one out of order)."""
        changed = await collection(Booking).update_one(
            {"_id": booking.id, "status": BookingStatus.PENDING, "payment.session_id": session_id,
             "payment.status": PaymentStatus.OPEN},
            {"$set": {"payment.status": status, "updated_ms": now_ms}},
        )
        return changed.modified_count == 1

    async def settle_part_refund(self, booking: Booking, due: PartRefund) -> bool:
        """The owed partial refund is done: `payment.amount_paid` lowered by it and the debt cleared in one update
        that only a booking still owing this very refund matches (a repeat lowers nothing)."""
        result = await collection(Booking).update_one(
            {"_id": booking.id, "refund_due.key": due.key},
            {"$inc": {"payment.amount_paid": -due.amount}, "$set": {"refund_due": None}})
        return result.matched_count == 1

    async def owing_refunds(self, limit: int) -> list[Booking]:
        """Bookings with a partial refund owed and not settled (a crash, or Stripe down): the sweep's."""
        return await Booking.find({"refund_due": {"$ne": None}}).limit(limit).to_list()

    async def mark_refunded(self, booking: Booking, refund_id: str) -> None:
        await collection(Booking).update_one(
            {"_id": booking.id}, {"$set": {"payment.refund_id": refund_id, "payment.status": PaymentStatus.REFUNDED}})

    async def mark_refunded_in_stripe(self, booking: Booking) -> None:
        """Refunded in full from the Stripe dashboard: no flag left to look at."""
        await collection(Booking).update_one(
            {"_id": booking.id}, {"$set": {"payment.status": PaymentStatus.REFUNDED, "flag": None}})

    async def mark_refund_failed(self, booking: Booking) -> None:
        await collection(Booking).update_one(
            {"_id": booking.id},
            {"$set": {"flag": BookingFlag.REFUND_FAILED, "payment.status": PaymentStatus.REFUND_FAILED}})

    # ---- work for the sweeps (each batch at most `limit`) -------------------------------------------------
    async def overdue(self, now_ms: int, limit: int) -> list[Booking]:
        """PENDING bookings past their payment window."""
        return await Booking.find({"status": BookingStatus.PENDING, "hold_expires_ms": {"$lt": now_ms}}) \
            .limit(limit).to_list()

    async def cancelled_with_seats(self, limit: int) -> list[Booking]:
        """Cancelled bookings whose seats were not released yet (a crash between the two writes)."""
        return await Booking.find({"status": BookingStatus.CANCELLED, "seats_released_ms": None}) \
            .limit(limit).to_list()

    async def unfulfilled(self, updated_before_ms: int, limit: int) -> list[Booking]:
        """CONFIRMED bookings whose confirmation was cut short (seats not booked or messages not queued)."""
        return await Booking.find({"status": BookingStatus.CONFIRMED, "fulfilled_ms": None,
                                   "updated_ms": {"$lt": updated_before_ms}}).limit(limit).to_list()

    async def payment_reminders_due(self, now_ms: int, within_ms: int, limit: int) -> list[Booking]:
        return await Booking.find({
            "status": BookingStatus.PENDING, "payment.status": PaymentStatus.OPEN, "payment_reminder_ms": None,
            "hold_expires_ms": {"$lte": now_ms + within_ms, "$gte": now_ms},
        }).limit(limit).to_list()

    async def departure_reminders_due(self, now_ms: int, within_ms: int, limit: int, *,
                                      way: str = "departs_ms") -> list[Booking]:
        """CONFIRMED bookings whose outbound (`departs_ms`) or return (`return_departs_ms`) leaves soon and whose
        reminder for it is unclaimed."""
        claim = "departure_reminder_ms" if way == "departs_ms" else "return_reminder_ms"
        return await Booking.find({
            "status": BookingStatus.CONFIRMED, claim: None, way: {"$lte": now_ms + within_ms, "$gt": now_ms},
        }).limit(limit).to_list()

    # ---- history -----------------------------------------------------------------------------------------
    async def add_event(self, event: BookingEvent) -> None:
        """One document per event: nx-27017 mangles a `$push` of sub-documents (README, Database)."""
        await event.insert()

    async def count_events(self, kind: str, since: datetime) -> int:
        """History entries of one kind since `since`, across bookings (/stats)."""
        return await BookingEvent.find({"kind": kind, "at": {"$gte": since}}).count()

    async def history(self, booking: Booking) -> list[BookingEvent]:
        """The stored events, with those other documents record already: the booking's creation (`created_at`;
        seats as they are now) and payment (`confirmed_ms`), each payment link (its `payment_attempts` row).
        Bookings from before have them stored as events, and they are not repeated."""
        events = await BookingEvent.find(BookingEvent.booking_id == str(booking.id)).sort("at").to_list()
        if not any(e.kind == "created" for e in events):
            seats = "; ".join(f"{s.flight.flight_number} {', '.join(s.seats)}" for s in booking.segments)
            events.insert(0, BookingEvent(booking_id=str(booking.id), reference=booking.reference,
                                          at=booking.created_at, kind="created",
                                          detail=f"{len(booking.passengers)} passenger(s), seats {seats}"))
        told = {e.detail for e in events if e.kind == "payment_link"}
        for attempt in await PaymentAttempt.find(PaymentAttempt.booking_id == str(booking.id)).to_list():
            detail = f"attempt {attempt.attempt}: {attempt.session_id}"  # each link's own row is its record
            if detail not in told:
                events.append(BookingEvent(booking_id=str(booking.id), reference=booking.reference,
                                           at=attempt.created_at, kind="payment_link", detail=detail))
        if booking.confirmed_ms is not None:
            events.append(BookingEvent(booking_id=str(booking.id), reference=booking.reference,
                                       at=datetime.fromtimestamp(booking.confirmed_ms / 1000, UTC), kind="confirmed",
                                       detail=f"paid via {booking.payment.session_id}"))
        events.sort(key=lambda e: e.at)
        return events
