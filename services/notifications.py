"""Notification outbox: side effects (chat messages, e-mails) are rows first, deliveries second.

A webhook or service inserts a row under a unique key in the same breath as its state change, so a
crash right after answering Stripe cannot lose the message, and a replayed event cannot queue it
twice. A pump delivers rows at once; the periodic sweep retries failures with backoff. Two replicas
may run both: a row is claimed by a conditional update before it is sent.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Protocol

from core.clock import Clock
from core.i18n import _
from models.ops import Notification, NotificationStatus
from repos.notifications import NotificationRepo
from repos.sms_opt_outs import SmsOptOutRepo
from services.mailer import Attachment, Email, Mailer, MailError
from services.sms import OPTED_OUT, SmsError, SmsRefused, SmsSender
from services.wakeup import WakeUp

log = logging.getLogger(__name__)

BACKOFF_SECONDS = [5, 30, 120, 600, 1800]  # then give up and tell the admins
CLAIM_MS = 60_000


# ---- what a chat message offers, as intents: the bot turns them into buttons (bot/notify.py) -------------
@dataclass(frozen=True)
class PayAgain:
    """A new payment link for this booking (a "Pay again" button)."""

    booking_id: str
    kind: ClassVar[str] = "pay_again"


@dataclass(frozen=True)
class SearchAgain:
    """Start a new search (a "Search again" button)."""

    kind: ClassVar[str] = "search_again"


@dataclass(frozen=True)
class PayNow:
    """Open this payment link (a "Pay now" URL button)."""

    url: str
    kind: ClassVar[str] = "pay_now"


@dataclass(frozen=True)
class Rebook:
    """Move this booking off its disrupted flight onto `flight_id` (a button labelled `label`)."""

    booking_id: str
    flight_id: str
    label: str
    kind: ClassVar[str] = "rebook"


@dataclass(frozen=True)
class RefundChoice:
    """Cancel this booking of a disrupted flight with everything refunded (a "Refund" button)."""

    booking_id: str
    kind: ClassVar[str] = "refund_choice"


Intent = PayAgain | SearchAgain | PayNow | Rebook | RefundChoice


def intent_payload(intent: Intent) -> dict[str, str]:
    """An intent as stored in the outbox row's payload: {"kind": ..., its fields}."""
    return {"kind": intent.kind, **{k: str(v) for k, v in asdict(intent).items()}}


class ChatSender(Protocol):
    async def send_chat(self, payload: dict[str, Any]) -> None:
        """Send payload {chat_id, text (HTML), intents?}; raise ChatUndeliverable for a blocked chat."""

    async def send_documents(self, chat_id: int, files: Sequence[Attachment], caption: str) -> None:
        """Send the files as one group, `caption` (HTML) under the first; ChatUndeliverable for a blocked chat."""


class ChatUndeliverable(Exception):
    """The chat will never accept messages (the traveller blocked the bot): don't retry."""


class NothingToSend(Exception):
    """What the row was to carry no longer exists (a booking cancelled before its e-ticket went): don't retry."""


class DocumentSource(Protocol):
    async def files_for(self, booking_id: str) -> tuple[object, list[Attachment]]:
        """A booking's e-ticket files; NothingToSend when it has none (services.tickets.service)."""


TICKETS = "tickets"  # the attachment kind of a booking's e-ticket files (PDF + .ics)


class NotificationService:
    def __init__(self, clock: Clock, mailer: Mailer, admin_ids: frozenset[int],
                 repo: NotificationRepo | None = None, *, on_email: Callable[[str], None] | None = None) -> None:
        self.clock = clock
        self.repo = repo or NotificationRepo()
        self.mailer = mailer
        self.admin_ids = admin_ids
        self.chat_sender: ChatSender | None = None
        self.documents: DocumentSource | None = None  # the e-ticket files (attached by the composition root)
        self.sms: SmsSender | None = None  # Twilio, when TWILIO_* are set (attached by the composition root)
        self.opt_outs = SmsOptOutRepo()
        self._wake = WakeUp()
        self.on_email: Callable[[str], None] = on_email or (lambda outcome: None)  # metrics: "sent" | "failed"

    def note(self, key: str, channel: str, payload: dict[str, Any], *, reference: str | None = None) -> Notification:
        """An outbox row, due now (queued by `enqueue` or, several at once, `enqueue_all`)."""
        return Notification(key=key, channel=channel, payload=payload, created_at=self.clock.now(),
                            next_attempt_ms=self.clock.now_ms(), booking_reference=reference)

    def chat_note(self, key: str, chat_id: int, text: str, intents: Sequence[Intent] = (),
                  *, reference: str | None = None) -> Notification:
        """A chat message; `intents` are what it offers (one button each, rendered by the bot)."""
        return self.note(key, "chat", {"chat_id": chat_id, "text": text,
                                       "intents": [intent_payload(i) for i in intents]}, reference=reference)

    def email_note(self, key: str, to: str, subject: str, text: str, html: str, *,
                   reference: str | None = None, tickets_of: str | None = None) -> Notification:
        """An e-mail; `tickets_of` (a booking id): the booking's e-ticket files go with it, drawn when it is sent.
        Should they fail to draw, the e-mail goes without them and they follow in one of their own."""
        payload: dict[str, Any] = {"to": to, "subject": subject, "text": text, "html": html}
        if tickets_of is not None:
            payload["attachments"] = {"kind": TICKETS, "booking_id": tickets_of}
        return self.note(key, "email", payload, reference=reference)

    def sms_note(self, key: str, to: str, text: str, *, reference: str | None = None) -> Notification:
        """An SMS (kept to one message: services.sms.sms_text)."""
        return self.note(key, "sms", {"to": to, "text": text}, reference=reference)

    def tickets_note(self, key: str, chat_id: int, booking_id: str, caption: str, *,
                     reference: str | None = None) -> Notification:
        """The booking's e-ticket files in the chat (drawn when sent, so a retry sends the same bytes)."""
        return self.note(key, TICKETS, {"chat_id": chat_id, "booking_id": booking_id, "caption": caption},
                         reference=reference)

    async def enqueue_all(self, notes: Sequence[Notification]) -> int:
        """Queue each row once per key, all in one write; returns how many were new (a replay queues none). An
        e-mail or text without an address is dropped: a booking whose personal details were removed has none
        (services.erasure), and the chat still hears of it."""
        notes = [n for n in notes if n.channel not in ("email", "sms") or n.payload.get("to")]
        queued = await self.repo.enqueue_all(notes)
        if queued:
            self._wake.kick()
        return queued

    async def enqueue(self, key: str, channel: str, payload: dict[str, Any], *, reference: str | None = None) -> bool:
        """Queue once per key; returns False when that notification already exists."""
        return await self.enqueue_all([self.note(key, channel, payload, reference=reference)]) == 1

    async def chat(self, key: str, chat_id: int, text: str, intents: Sequence[Intent] = (),
                   *, reference: str | None = None) -> bool:
        """A chat message; `intents` are what it offers (one button each, rendered by the bot)."""
        return await self.enqueue_all([self.chat_note(key, chat_id, text, intents, reference=reference)]) == 1

    async def email(self, key: str, to: str, subject: str, text: str, html: str, *,
                    reference: str | None = None) -> bool:
        return await self.enqueue_all([self.email_note(key, to, subject, text, html, reference=reference)]) == 1

    async def tell_admins(self, key: str, text: str, *, reference: str | None = None) -> None:
        for admin in sorted(self.admin_ids):
            await self.chat(f"{key}:admin:{admin}", admin, text, reference=reference)
        if not self.admin_ids:
            log.error("admin alert with no ADMIN_IDS configured: %s", text, extra={"booking": reference or "-"})

    # ---- delivery ------------------------------------------------------------------------------------
    async def deliver_due(self, limit: int = 100) -> int:
        """Send what is due now; returns how many were sent. Safe to run in several processes at once."""
        now = self.clock.now_ms()
        await self.repo.reclaim_abandoned(now)
        sent = 0
        for note in await self.repo.due(now, limit):
            if not await self.repo.claim_notification(note, now + CLAIM_MS):
                continue  # another replica has it
            sent += await self._deliver(note)
        return sent

    async def _deliver(self, note: Notification) -> int:
        try:
            detail = await self._send(note)
        except (ChatUndeliverable, NothingToSend, SmsRefused) as exc:
            await self._finish(note, NotificationStatus.FAILED, str(exc))
            return 0
        except Exception as exc:  # any failure is retried; the row keeps the reason
            await self._retry(note, exc)
            return 0
        await self._finish(note, NotificationStatus.SENT, detail)
        return 1

    async def _send(self, note: Notification) -> str:
        p = note.payload
        if note.channel == "email":
            attachments = await self._attachments(note)
            try:
                result = await self.mailer.send(Email(note.key, p["to"], p["subject"], p["text"], p["html"],
                                                      attachments=tuple(attachments)))
            except MailError:
                self.on_email("failed")
                raise
            self.on_email("sent")
            return result
        if note.channel == "sms":
            return await self._send_sms(str(p["to"]), str(p["text"]))
        if self.chat_sender is None:
            raise RuntimeError("no chat sender attached yet")
        if note.channel == TICKETS:
            files = await self._ticket_files(str(p["booking_id"]))
            await self.chat_sender.send_documents(int(p["chat_id"]), files, str(p.get("caption") or ""))
            return f"{len(files)} file(s)"
        await self.chat_sender.send_chat(p)
        return "chat"

    async def _send_sms(self, to: str, text: str) -> str:
        """One SMS, unless the number said STOP (then never again: Twilio's 21610 is remembered)."""
        if self.sms is None:
            raise NothingToSend("SMS is not configured (TWILIO_* unset)")
        if await self.opt_outs.has(to):
            raise NothingToSend(f"{to} replied STOP: not texted")
        try:
            return await self.sms.send(to, text)
        except SmsRefused as exc:
            if exc.code == OPTED_OUT:
                await self.opt_outs.add(to, self.clock.now(), exc.code)
            raise

    async def _ticket_files(self, booking_id: str) -> list[Attachment]:
        if self.documents is None:
            raise RuntimeError("no e-ticket maker attached")
        _booking, files = await self.documents.files_for(booking_id)
        return files

    async def _attachments(self, note: Notification) -> list[Attachment]:
        """The files an e-mail row asks for. A booking with no ticket (cancelled since) sends the e-mail without
        them; files that fail to draw send it without them too, and queue them in an e-mail of their own, which
        is retried (and the admins told) like any other, so the words of the e-mail never wait on a drawing."""
        wanted = note.payload.get("attachments")
        if not isinstance(wanted, dict) or wanted.get("kind") != TICKETS:
            return []
        booking_id = str(wanted.get("booking_id"))
        if note.key.endswith(":files"):  # the follow-up itself: its failure is retried as the row's own
            return await self._ticket_files(booking_id)
        try:
            return await self._ticket_files(booking_id)
        except NothingToSend as exc:
            log.info("e-mail %s goes without its e-ticket: %s", note.key, exc,
                     extra={"booking": note.booking_reference or "-"})
        except Exception:
            log.exception("e-ticket files for %s could not be drawn; the e-mail goes without them", note.key,
                          extra={"booking": note.booking_reference or "-"})
            p = note.payload
            text = _("Your e-ticket (PDF) and calendar file for booking {reference} are attached.").format(
                reference=note.booking_reference or "")
            await self.enqueue_all([self.email_note(
                f"{note.key}:files", p["to"], _("Your e-ticket: {subject}").format(subject=p["subject"]), text,
                f"<p>{html.escape(text)}</p>", reference=note.booking_reference, tickets_of=booking_id)])
        return []

    async def _finish(self, note: Notification, status: NotificationStatus, detail: str) -> None:
        await self.repo.finish(note, status, self.clock.now_ms(), "" if status == NotificationStatus.SENT else detail)
        log.info("notification %s %s (%s)", note.key, status.value, detail,
                 extra={"booking": note.booking_reference or "-"})

    async def _retry(self, note: Notification, exc: Exception) -> None:
        attempts = note.attempts + 1
        retryable = not isinstance(exc, MailError | SmsError) or exc.retryable
        give_up = attempts > len(BACKOFF_SECONDS) or not retryable
        next_attempt = None if give_up else self.clock.now_ms() + BACKOFF_SECONDS[attempts - 1] * 1000
        await self.repo.retry_later(note, attempts=attempts, error=str(exc)[:300], next_attempt_ms=next_attempt)
        log.warning("notification %s attempt %s failed: %s%s", note.key, attempts, exc,
                    " — giving up" if give_up else "", extra={"booking": note.booking_reference or "-"})
        if give_up and not note.key.startswith("alert:"):
            await self.tell_admins(f"alert:{note.key}",
                                   f"⚠️ Could not deliver {note.channel} '{note.key}' after {attempts} attempt(s): "
                                   f"{str(exc)[:200]}", reference=note.booking_reference)

    async def pump(self, stop: asyncio.Event, idle_seconds: float = 5.0) -> None:
        """Deliver as soon as something is queued (and every few seconds anyway) until `stop` is set."""
        async def round_() -> bool:
            await self.deliver_due()
            return False  # the next round waits for a kick or the idle timeout, as retries are spaced anyway

        await self._wake.loop(stop, idle_seconds, round_, "notification delivery")

    def kick(self) -> None:
        self._wake.kick()
